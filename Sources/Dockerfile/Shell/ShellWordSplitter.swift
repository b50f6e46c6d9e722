/// Splits expansion output into words (BuildKit's `wordsStruct`).
struct ShellWordSplitter {
    var word = String.UnicodeScalarView()
    var words: [String] = []
    var inWord = false

    /// A character subject to splitting (unquoted literal text or unquoted expansion).
    mutating func addChar(_ c: Unicode.Scalar) {
        if c.properties.isWhitespace {
            if inWord && !word.isEmpty {
                words.append(String(word))
                word = String.UnicodeScalarView()
                inWord = false
            }
        } else {
            addRawChar(c)
        }
    }

    mutating func addRawChar(_ c: Unicode.Scalar) {
        word.append(c)
        inWord = true
    }

    mutating func addString(_ s: String) {
        for c in s.unicodeScalars { addChar(c) }
    }

    /// Text that must stay in the current word (quoted text, escaped characters).
    mutating func addRawString(_ s: String) {
        word.append(contentsOf: s.unicodeScalars)
        inWord = true
    }

    /// Forgets the text of the word being built, as BuildKit's shared word buffer does when a
    /// nested expansion starts (see `ShellLexer.sharedWordBuffer`). `inWord` stays as it was,
    /// which is what upstream leaves behind.
    mutating func dropPartialWord() {
        word = String.UnicodeScalarView()
    }

    mutating func finish() -> [String] {
        if !word.isEmpty {
            words.append(String(word))
            word = String.UnicodeScalarView()
            inWord = false
        }
        return words
    }
}
