/// Heredoc detection, as BuildKit's parser does it: a line is split into words by the shell
/// lexer with quotes and escapes kept raw and unset variables kept verbatim, and each word
/// that looks like `<<NAME` is lexed again to learn the heredoc's name and whether any of it
/// was quoted. Using the very lexer that expands words keeps BuildKit's quirks, such as `<<`
/// staying glued to the following word across blanks (`<<  EOF` names `EOF`).
extension ShellLexer {
    /// BuildKit's heredoc lexer: always `\` as the escape character (not the Dockerfile's
    /// escape token), every variable unset and kept as written, its word list quirk included.
    static func heredocLexer(rawQuotes: Bool, rawEscapes: Bool) -> ShellLexer {
        var lexer = ShellLexer(escapeToken: "\\")
        lexer.rawQuotes = rawQuotes
        lexer.rawEscapes = rawEscapes
        lexer.skipUnsetEnv = true
        lexer.sharedWordBuffer = true
        return lexer
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
            words = try ShellLexer.heredocLexer(rawQuotes: false, rawEscapes: false).wordsWithoutEnvironment(rest)
            if words.count != 1 { return nil }
            rawWords = try ShellLexer.heredocLexer(rawQuotes: true, rawEscapes: false).wordsWithoutEnvironment(rest)
        } catch let failure as ShellExpansionError {
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
        let lexer = ShellLexer.heredocLexer(rawQuotes: true, rawEscapes: true)
        // Lexing errors just mean "no heredoc words" here, as in BuildKit.
        let words = (try? lexer.wordsWithoutEnvironment(line)) ?? []
        var docs: [Heredoc] = []
        for word in words {
            if let doc = try parseHeredoc(word) { docs.append(doc) }
        }
        return docs
    }
}
