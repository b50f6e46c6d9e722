/// The state of one expansion (BuildKit's `shellWord` plus its `text/scanner`).
struct ShellWordState {
    let lexer: ShellLexer
    let source: String
    let text: [Unicode.Scalar]
    var pos = 0
    let env: [String: String]
    var rawEscapes: Bool
    var matched: Set<String> = []
    var unmatched: Set<String> = []
    /// How many `processStopOn` runs have started, so that a level can tell whether a nested
    /// one ran while it processed a character (for `ShellLexer.sharedWordBuffer`).
    var runsStarted = 0
    /// How many `processStopOn` levels are open: `${a:-${b:-…}}` recurses once per level, so
    /// the depth is bounded here rather than by the thread's stack.
    var nesting = 0
    /// Far deeper than any real Dockerfile nests, far shallower than a stack overflow.
    static let maxNesting = 100

    init(lexer: ShellLexer, word: String, env: [String: String]) {
        self.lexer = lexer
        source = word
        var scalars = Array(word.unicodeScalars)
        // Go's text/scanner silently skips a byte-order mark at the very start.
        if scalars.first == "\u{FEFF}" { scalars.removeFirst() }
        text = scalars
        self.env = env
        rawEscapes = lexer.rawEscapes
    }

    func peek() -> Unicode.Scalar? { pos < text.count ? text[pos] : nil }

    mutating func next() -> Unicode.Scalar? {
        guard pos < text.count else { return nil }
        pos += 1
        return text[pos - 1]
    }

    mutating func process() throws -> (result: String, words: [String]) {
        do {
            return try processStopOn(nil, rawEscapes: rawEscapes)
        } catch let error as ShellExpansionError {
            throw ShellExpansionError("failed to process \(ShellWordState.goQuote(source)): \(error.message)")
        }
    }

    /// Processes up to `stop` (consumed) or the end of input when `stop` is nil.
    mutating func processStopOn(_ stop: Unicode.Scalar?, rawEscapes raw: Bool) throws -> (result: String, words: [String]) {
        var result = String.UnicodeScalarView()
        var words = ShellWordSplitter()
        let saved = rawEscapes
        rawEscapes = raw
        defer { rawEscapes = saved }
        nesting += 1
        defer { nesting -= 1 }
        guard nesting <= ShellWordState.maxNesting else {
            throw ShellExpansionError("variable expansions are nested more than \(ShellWordState.maxNesting) levels deep")
        }
        runsStarted += 1

        while let ch = peek() {
            if let stop, ch == stop {
                pos += 1
                return (String(result), words.finish())
            }
            let runsBefore = runsStarted
            let special: (value: String, splits: Bool)?
            switch ch {
            case "$":
                special = (try processDollar(), true)
            case "<":
                special = (processPossibleHeredoc(), false)
            case "'" where !lexer.skipProcessQuotes:
                special = (try processSingleQuote(), false)
            case "\"" where !lexer.skipProcessQuotes:
                special = (try processDoubleQuote(), false)
            default:
                special = nil
            }
            if let special {
                if lexer.sharedWordBuffer && runsStarted != runsBefore { words.dropPartialWord() }
                result.append(contentsOf: special.value.unicodeScalars)
                if special.splits {
                    words.addString(special.value)
                } else {
                    words.addRawString(special.value)
                }
            } else {
                pos += 1
                if ch == lexer.escapeScalar {
                    if rawEscapes {
                        words.addRawChar(ch)
                        result.append(ch)
                    }
                    // The escape token escapes the next character; at the end it is dropped.
                    guard let escaped = next() else { break }
                    words.addRawChar(escaped)
                    result.append(escaped)
                } else {
                    words.addChar(ch)
                    result.append(ch)
                }
            }
        }
        if let stop {
            throw ShellExpansionError("unexpected end of statement while looking for matching \(stop)")
        }
        return (String(result), words.finish())
    }

    mutating func processSingleQuote() throws -> String {
        // Everything up to the next ' is literal; ' itself cannot be escaped.
        var result = String.UnicodeScalarView()
        let open = next()!
        if lexer.rawQuotes { result.append(open) }
        while true {
            guard let c = next() else {
                throw ShellExpansionError("unexpected end of statement while looking for matching single-quote")
            }
            if c == "'" {
                if lexer.rawQuotes { result.append(c) }
                return String(result)
            }
            result.append(c)
        }
    }

    mutating func processDoubleQuote() throws -> String {
        // Literal except for $ expansions; the escape token only escapes " $ and itself.
        var result = String.UnicodeScalarView()
        let open = next()!
        if lexer.rawQuotes { result.append(open) }
        while true {
            guard let c = peek() else {
                throw ShellExpansionError("unexpected end of statement while looking for matching double-quote")
            }
            switch c {
            case "\"":
                pos += 1
                if lexer.rawQuotes { result.append(c) }
                return String(result)
            case "$":
                result.append(contentsOf: try processDollar().unicodeScalars)
            default:
                pos += 1
                var out = c
                if c == lexer.escapeScalar {
                    if rawEscapes { result.append(c) }
                    guard let following = peek() else { continue } // reported as unterminated
                    if following == "\"" || following == "$" || following == lexer.escapeScalar {
                        out = following
                        pos += 1
                    }
                }
                result.append(out)
            }
        }
    }

    mutating func processDollar() throws -> String {
        pos += 1 // $
        if peek() != "{" {
            let name = processName()
            if name.isEmpty { return "$" }
            let (value, found) = getEnv(name)
            if !found && lexer.skipUnsetEnv { return "$" + name }
            return value
        }
        pos += 1 // {
        switch peek() {
        case nil:
            throw ShellExpansionError("syntax error: missing '}'")
        case "{", "}", ":":
            throw ShellExpansionError("syntax error: bad substitution")
        default:
            break
        }
        let name = processName()
        let ch = next()
        var modifier = ShellWordState.describe(ch)

        switch ch {
        case "}":
            let (value, found) = getEnv(name)
            if !found && lexer.skipUnsetEnv { return "${\(name)}" }
            return value

        case ":", "+", "-", "?", "#", "%":
            var op = ch
            var nullIsUnset = false
            if ch == ":" {
                nullIsUnset = true
                op = next()
                modifier += ShellWordState.describe(op)
            }
            let trims = op == "#" || op == "%"
            if nullIsUnset && trims {
                throw ShellExpansionError("unsupported modifier (\(modifier)) in substitution")
            }
            var word: String
            do {
                word = try processStopOn("}", rawEscapes: trims).result
            } catch {
                if peek() == nil { throw ShellExpansionError("syntax error: missing '}'") }
                throw error
            }
            let (value, set) = getEnv(name)
            if lexer.skipUnsetEnv && !set { return "${\(name)\(modifier)\(word)}" }

            switch op {
            case "-":
                return !set || (nullIsUnset && value.isEmpty) ? word : value
            case "+":
                return !set || (nullIsUnset && value.isEmpty) ? "" : word
            case "?":
                if !set {
                    throw ShellExpansionError("\(name): \(word.isEmpty ? "is not allowed to be unset" : word)")
                }
                if nullIsUnset && value.isEmpty {
                    throw ShellExpansionError("\(name): \(word.isEmpty ? "is not allowed to be empty" : word)")
                }
                return value
            case "#", "%":
                // A doubled operator (## / %%) removes the longest match, single the shortest.
                var greedy = false
                if let first = word.unicodeScalars.first, first == op {
                    greedy = true
                    word = String(word.unicodeScalars.dropFirst())
                }
                do {
                    if op == "%" {
                        return try ShellPattern.trimSuffix(pattern: word, value: value, greedy: greedy)
                    }
                    return try ShellPattern.trimPrefix(pattern: word, value: value, greedy: greedy)
                } catch let error as ShellPattern.InvalidEscape {
                    throw ShellExpansionError("invalid pattern (\(word)) in substitution: \(error)")
                }
            default:
                throw ShellExpansionError("unsupported modifier (\(modifier)) in substitution")
            }

        case "/":
            let replaceAll = peek() == "/"
            if replaceAll { pos += 1 }
            let pattern: String
            do {
                pattern = try processStopOn("/", rawEscapes: true).result
            } catch {
                if peek() == nil { throw ShellExpansionError("syntax error: missing '/' in ${}") }
                throw error
            }
            let replacement: String
            do {
                replacement = try processStopOn("}", rawEscapes: true).result
            } catch {
                if peek() == nil { throw ShellExpansionError("syntax error: missing '}'") }
                throw error
            }
            let (value, set) = getEnv(name)
            if lexer.skipUnsetEnv && !set { return "${\(name)/\(pattern)/\(replacement)}" }
            do {
                return try ShellPattern.replace(pattern: pattern, in: value, with: replacement, all: replaceAll)
            } catch let error as ShellPattern.InvalidEscape {
                throw ShellExpansionError("invalid pattern (\(pattern)) in substitution: \(error)")
            }

        default:
            throw ShellExpansionError("unsupported modifier (\(modifier)) in substitution")
        }
    }

    /// A variable name: letters/digits/`_`; a leading digit run is a positional parameter;
    /// a special parameter is one character.
    mutating func processName() -> String {
        var name = String.UnicodeScalarView()
        while let c = peek() {
            if name.isEmpty && ShellWordState.isDigit(c) {
                while let d = peek(), ShellWordState.isDigit(d) {
                    name.append(d)
                    pos += 1
                }
                return String(name)
            }
            if name.isEmpty && "@*#?-$!0".unicodeScalars.contains(c) {
                pos += 1
                return String(c)
            }
            if !ShellWordState.isLetter(c) && !ShellWordState.isDigit(c) && c != "_" { break }
            name.append(c)
            pos += 1
        }
        return String(name)
    }

    /// `<<` keeps following blanks attached, so `<<  EOF` stays one word (heredoc names).
    mutating func processPossibleHeredoc() -> String {
        pos += 1
        if peek() != "<" { return "<" }
        pos += 1
        var result = "<<"
        while let c = peek(), c == " " || c == "\t" || c == "\r" {
            result.unicodeScalars.append(c)
            pos += 1
        }
        return result
    }

    mutating func getEnv(_ name: String) -> (String, Bool) {
        if let value = env[name] {
            matched.insert(name)
            return (value, true)
        }
        unmatched.insert(name)
        return ("", false)
    }

    /// Go's `unicode.IsDigit` (general category Nd).
    static func isDigit(_ c: Unicode.Scalar) -> Bool {
        c.properties.generalCategory == .decimalNumber
    }

    /// Go's `unicode.IsLetter` (general category L).
    static func isLetter(_ c: Unicode.Scalar) -> Bool {
        switch c.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return false
        }
    }

    /// Go's `string(rune)` for a scanner result (EOF renders as U+FFFD).
    static func describe(_ c: Unicode.Scalar?) -> String {
        c.map { String($0) } ?? "\u{FFFD}"
    }

    /// A close approximation of Go's `%q`, for error messages.
    static func goQuote(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if c.value < 0x20 || c.value == 0x7F {
                    let hex = String(c.value, radix: 16)
                    out += "\\x" + (hex.count < 2 ? "0" + hex : hex)
                } else {
                    out.unicodeScalars.append(c)
                }
            }
        }
        return out + "\""
    }
}
