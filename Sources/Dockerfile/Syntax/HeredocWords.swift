/// The small part of BuildKit's shell lexer that heredoc detection depends on.
///
/// Which words of an instruction open a heredoc, and what the heredoc is called, is decided
/// by running the line through the shell lexer in special modes (quotes and escapes kept raw,
/// unset variables kept verbatim, an empty environment). Reproducing that lexer here keeps
/// the parser self-contained and its results identical to BuildKit's, including quirks such as
/// `<<` staying glued to the following word across blanks (`<<  EOF` names `EOF`).
///
/// With an empty environment and "skip unset variables", every `$name` / `${...}` expands to
/// itself, so no environment is modelled. The escape character is always `\` (BuildKit does not
/// use the Dockerfile's escape token here).
struct HeredocWordLexer {
    struct Failure: Error {
        var message: String
    }

    private let escapeToken: Unicode.Scalar = "\\"
    /// Keep quote characters in the output (`RawQuotes`).
    var rawQuotes: Bool
    /// Keep escape characters in the output (`RawEscapes`); toggled temporarily inside `${}`.
    private var rawEscapes: Bool
    private var input: [Unicode.Scalar] = []
    private var pos = 0
    /// Shared by nested `processStopOn` calls, exactly like BuildKit's `shellWord.wordsBuffer`
    /// (a nested `${x:-...}` resets it, which drops the text of the current word before `${`).
    private var wordsBuffer = String.UnicodeScalarView()

    init(rawQuotes: Bool, rawEscapes: Bool) {
        self.rawQuotes = rawQuotes
        self.rawEscapes = rawEscapes
    }

    /// `Lex.ProcessWords`: expansion (here: identity), then splitting on unquoted whitespace.
    mutating func processWords(_ text: String) throws -> [String] {
        input = GoStringRules.scalars(text)
        pos = 0
        wordsBuffer = String.UnicodeScalarView()
        return try processStopOn(nil, rawEscapes: rawEscapes).words
    }

    // MARK: - scanner

    private func peek() -> Unicode.Scalar? { pos < input.count ? input[pos] : nil }

    @discardableResult
    private mutating func next() -> Unicode.Scalar? {
        guard pos < input.count else { return nil }
        defer { pos += 1 }
        return input[pos]
    }

    // MARK: - words

    private struct Words {
        var words: [String] = []
        var inWord = false
    }

    private mutating func addChar(_ c: Unicode.Scalar, _ w: inout Words) {
        if GoStringRules.isSpace(c) {
            if w.inWord && !wordsBuffer.isEmpty {
                w.words.append(String(wordsBuffer))
                wordsBuffer = String.UnicodeScalarView()
                w.inWord = false
            }
        } else {
            addRawChar(c, &w)
        }
    }

    private mutating func addRawChar(_ c: Unicode.Scalar, _ w: inout Words) {
        wordsBuffer.append(c)
        w.inWord = true
    }

    private mutating func addString(_ s: String, _ w: inout Words) {
        for c in s.unicodeScalars { addChar(c, &w) }
    }

    private mutating func addRawString(_ s: String, _ w: inout Words) {
        wordsBuffer.append(contentsOf: s.unicodeScalars)
        w.inWord = true
    }

    private mutating func getWords(_ w: inout Words) -> [String] {
        if !wordsBuffer.isEmpty {
            w.words.append(String(wordsBuffer))
            wordsBuffer = String.UnicodeScalarView()
            w.inWord = false
        }
        return w.words
    }

    // MARK: - processing

    private mutating func processStopOn(_ stop: Unicode.Scalar?, rawEscapes raw: Bool) throws -> (result: String, words: [String]) {
        var result = String.UnicodeScalarView()
        wordsBuffer = String.UnicodeScalarView()
        var w = Words()

        let saved = rawEscapes
        rawEscapes = raw
        defer { rawEscapes = saved }

        loop: while let ch = peek() {
            if let stop, ch == stop {
                next()
                return (String(result), getWords(&w))
            }
            switch ch {
            case "$", "<", "'", "\"":
                let tmp: String
                switch ch {
                case "$": tmp = try processDollar()
                case "<": tmp = processPossibleHeredoc()
                case "'": tmp = try processSingleQuote()
                default: tmp = try processDoubleQuote()
                }
                result.append(contentsOf: tmp.unicodeScalars)
                if ch == "$" {
                    addString(tmp, &w)
                } else {
                    addRawString(tmp, &w)
                }
            default:
                var c = next()!
                if c == escapeToken {
                    if rawEscapes {
                        addRawChar(c, &w)
                        result.append(c)
                    }
                    guard let escaped = next() else { break loop }
                    c = escaped
                    addRawChar(c, &w)
                } else {
                    addChar(c, &w)
                }
                result.append(c)
            }
        }
        if let stop {
            throw Failure(message: "unexpected end of statement while looking for matching \(stop)")
        }
        return (String(result), getWords(&w))
    }

    private mutating func processSingleQuote() throws -> String {
        var result = String.UnicodeScalarView()
        let open = next()!
        if rawQuotes { result.append(open) }
        while true {
            guard let c = next() else {
                throw Failure(message: "unexpected end of statement while looking for matching single-quote")
            }
            if c == "'" {
                if rawQuotes { result.append(c) }
                return String(result)
            }
            result.append(c)
        }
    }

    private mutating func processDoubleQuote() throws -> String {
        var result = String.UnicodeScalarView()
        let open = next()!
        if rawQuotes { result.append(open) }
        while true {
            guard let p = peek() else {
                throw Failure(message: "unexpected end of statement while looking for matching double-quote")
            }
            if p == "\"" {
                next()
                if rawQuotes { result.append(p) }
                return String(result)
            }
            if p == "$" {
                result.append(contentsOf: try processDollar().unicodeScalars)
                continue
            }
            var c = next()!
            if c == escapeToken {
                if rawEscapes { result.append(c) }
                guard let n = peek() else { continue }
                if n == "\"" || n == "$" || n == escapeToken {
                    c = next()!
                }
            }
            result.append(c)
        }
    }

    /// `$name`, `${...}`: every variable is unset and kept verbatim; only syntax errors matter.
    private mutating func processDollar() throws -> String {
        next()
        if peek() != "{" {
            let name = processName()
            return "$" + name
        }
        next()
        switch peek() {
        case nil:
            throw Failure(message: "syntax error: missing '}'")
        case "{", "}", ":":
            throw Failure(message: "syntax error: bad substitution")
        default:
            break
        }
        let name = processName()
        let ch = next()
        var chs = ch.map { String($0) } ?? ""
        switch ch {
        case "}":
            return "${\(name)}"
        case ":", "+", "-", "?", "#", "%":
            var op = ch!
            let nullIsUnset = op == ":"
            if nullIsUnset {
                let second = next()
                chs += second.map { String($0) } ?? ""
                if let second { op = second }
            }
            let raw = op == "#" || op == "%"
            if nullIsUnset && raw {
                throw Failure(message: "unsupported modifier (\(chs)) in substitution")
            }
            let word: String
            do {
                word = try processStopOn("}", rawEscapes: raw).result
            } catch {
                if peek() == nil { throw Failure(message: "syntax error: missing '}'") }
                throw error
            }
            return "${\(name)\(chs)\(word)}"
        case "/":
            if peek() == "/" { next() }
            let pattern: String
            do {
                pattern = try processStopOn("/", rawEscapes: true).result
            } catch {
                if peek() == nil { throw Failure(message: "syntax error: missing '/' in ${}") }
                throw error
            }
            let replacement: String
            do {
                replacement = try processStopOn("}", rawEscapes: true).result
            } catch {
                if peek() == nil { throw Failure(message: "syntax error: missing '}'") }
                throw error
            }
            return "${\(name)/\(pattern)/\(replacement)}"
        default:
            throw Failure(message: "unsupported modifier (\(chs)) in substitution")
        }
    }

    private static func isDigit(_ c: Unicode.Scalar) -> Bool {
        c.properties.generalCategory == .decimalNumber
    }

    private static func isLetter(_ c: Unicode.Scalar) -> Bool {
        switch c.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return false
        }
    }

    private mutating func processName() -> String {
        var name = String.UnicodeScalarView()
        while let c = peek() {
            if name.isEmpty && Self.isDigit(c) {
                while let d = peek(), Self.isDigit(d) {
                    name.append(d)
                    next()
                }
                return String(name)
            }
            if name.isEmpty, "@*#?-$!0".unicodeScalars.contains(c) {
                next()
                return String(c)
            }
            if !Self.isLetter(c) && !Self.isDigit(c) && c != "_" { break }
            next()
            name.append(c)
        }
        return String(name)
    }

    /// `<<` followed by blanks stays one token with what follows (`<<  EOF`).
    private mutating func processPossibleHeredoc() -> String {
        next()
        guard peek() == "<" else { return "<" }
        next()
        var result = "<<"
        while let c = peek(), c == "\t" || c == "\r" || c == " " {
            result.unicodeScalars.append(c)
            next()
        }
        return result
    }
}

extension DockerfileParser {
    /// Recognises a heredoc-opening word (`<<EOF`, `<<-'EOF'`, `3<<EOF`, `<< EOF`), as BuildKit's
    /// `ParseHeredoc` does. Returns nil when the word is not a heredoc; throws when it looks like
    /// one but its name cannot be lexed (e.g. an unbalanced quote: `<<'EOF`).
    ///
    /// The result has an empty `content`; `expand` is false when any part of the name was quoted.
    public static func parseHeredoc(_ word: String) throws -> Heredoc? {
        // ^(\d*)<<(-?)\s*([^<]*)$
        let u = GoStringRules.scalars(word)
        var i = 0
        while i < u.count, ("0"..."9").contains(u[i]) { i += 1 }
        let digits = GoStringRules.string(u[0..<i])
        guard i + 1 < u.count, u[i] == "<", u[i + 1] == "<" else { return nil }
        i += 2
        var chomp = false
        if i < u.count, u[i] == "-" {
            chomp = true
            i += 1
        }
        while i < u.count, GoStringRules.isRegexSpace(u[i]) { i += 1 }
        let restScalars = u[i...]
        if restScalars.contains("<") { return nil }
        let rest = GoStringRules.string(restScalars)
        if rest.isEmpty { return nil }

        let fd = digits.isEmpty ? 0 : (Int(digits) ?? Int.max)

        let words: [String]
        let rawWords: [String]
        do {
            var lexer = HeredocWordLexer(rawQuotes: false, rawEscapes: false)
            words = try lexer.processWords(rest)
            if words.count != 1 { return nil }
            lexer.rawQuotes = true
            rawWords = try lexer.processWords(rest)
        } catch let failure as HeredocWordLexer.Failure {
            throw SyntaxError(line: 0, message: "failed to process \(GoStringRules.quote(rest)): \(failure.message)")
        }
        guard rawWords.count == words.count else {
            throw SyntaxError(line: 0, message: "internal lexing of heredoc produced inconsistent results: \(rest)")
        }
        func quoteCount(_ s: String) -> Int { s.unicodeScalars.filter { $0 == "'" || $0 == "\"" }.count }
        let name = words[0]
        return Heredoc(name: name, fileDescriptor: fd, expand: quoteCount(name) == quoteCount(rawWords[0]),
                       chomp: chomp, content: "")
    }

    /// Removes the leading tabs of every line, what `<<-` asks for (BuildKit `ChompHeredocContent`).
    public static func chompHeredocContent(_ content: String) -> String {
        var out = String.UnicodeScalarView()
        var atLineStart = true
        for c in content.unicodeScalars {
            if atLineStart && c == "\t" { continue }
            atLineStart = c == "\n"
            out.append(c)
        }
        return String(out)
    }

    /// The heredocs opened on an instruction line, in order (BuildKit `heredocsFromLine`).
    static func heredocsFromLine(_ line: String) throws -> [Heredoc] {
        var lexer = HeredocWordLexer(rawQuotes: true, rawEscapes: true)
        // Lexing errors just mean "no heredoc words" here, as in BuildKit.
        let words = (try? lexer.processWords(line)) ?? []
        var docs: [Heredoc] = []
        for word in words {
            if let doc = try parseHeredoc(word) { docs.append(doc) }
        }
        return docs
    }
}
