/// Turning one logical line into a `Node`: keyword, leading `--flags`, and the argument list whose
/// shape depends on the instruction (BuildKit's `splitCommand` + `line_parsers.go` dispatch).
/// Words stay raw (quotes kept, nothing expanded) because expansion needs the build-time
/// environment, which only the builder knows.
struct InstructionLineParser {
    let escapeToken: Unicode.Scalar

    struct Failure: Error {
        var message: String
    }

    /// Builds the node for `line` (no line numbers, no heredocs yet).
    func node(from line: String) throws -> Node {
        let (command, flags, rest) = splitCommand(line)
        var node = Node(keyword: command.lowercased(), flags: flags, original: line)
        switch node.keyword {
        case "add", "copy", "volume":
            (node.args, node.isJSON) = try maybeJSONToList(rest)
        case "arg":
            node.args = words(rest)
        case "cmd", "entrypoint", "run", "shell":
            (node.args, node.isJSON) = try maybeJSON(rest)
        case "env":
            node.args = try nameValue(rest, key: "ENV")
        case "label":
            node.args = try nameValue(rest, key: "LABEL")
        case "expose", "from":
            node.args = rest.isEmpty ? [] : GoStringRules.splitWhitespace(rest)
        case "healthcheck":
            (node.args, node.isJSON) = try healthConfig(rest)
        case "maintainer", "stopsignal", "user", "workdir":
            node.args = rest.isEmpty ? [] : [rest]
        case "onbuild":
            if !rest.isEmpty {
                node.onbuild = [try self.node(from: rest)]
            }
        default:
            // Unknown instructions are rejected later, with the keyword as written.
            node.args = [""]
        }
        return node
    }

    /// Keyword, flags and the (trimmed) rest of the line.
    func splitCommand(_ line: String) -> (String, [String], String) {
        let parts = GoStringRules.splitWhitespace(GoStringRules.trimSpace(line), limit: 2)
        guard parts.count == 2 else { return (parts[0], [], "") }
        let (rest, flags) = extractFlags(parts[1])
        return (parts[0], flags, GoStringRules.trimSpace(rest))
    }

    /// Leading `--flag` words, with quotes removed and escapes resolved; a bare `--` ends them.
    func extractFlags(_ line: String) -> (rest: String, flags: [String]) {
        let u = GoStringRules.scalars(line)
        let n = u.count
        enum Phase { case spaces, word, quoted }
        var words: [String] = []
        var phase = Phase.spaces
        var current = String.UnicodeScalarView()
        var quote: Unicode.Scalar = "\0"
        var blankOK = false
        var pos = 0
        var ch: Unicode.Scalar = "\0"
        while pos <= n {
            defer { pos += 1 }
            if pos != n { ch = u[pos] }
            if phase == .spaces {
                if pos == n { break }
                if GoStringRules.isSpace(ch) { continue }
                if ch != "-" || pos + 1 == n || u[pos + 1] != "-" {
                    return (GoStringRules.string(u[pos...]), words)
                }
                phase = .word
            }
            if pos == n {
                let word = String(current)
                if word != "--" && (blankOK || !word.isEmpty) { words.append(word) }
                break
            }
            if phase == .word {
                if GoStringRules.isSpace(ch) {
                    let word = String(current)
                    phase = .spaces
                    if word == "--" { return (GoStringRules.string(u[pos...]), words) }
                    if blankOK || !word.isEmpty { words.append(word) }
                    current = String.UnicodeScalarView()
                    blankOK = false
                    continue
                }
                if ch == "'" || ch == "\"" {
                    quote = ch
                    blankOK = true
                    phase = .quoted
                    continue
                }
                if ch == escapeToken {
                    if pos + 1 == n { continue }
                    pos += 1
                    ch = u[pos]
                }
                current.append(ch)
                continue
            }
            // quoted
            if ch == quote {
                phase = .word
                continue
            }
            if ch == escapeToken {
                if pos + 1 == n {
                    phase = .word
                    continue
                }
                pos += 1
                ch = u[pos]
            }
            current.append(ch)
        }
        return ("", words)
    }

    /// BuildKit `parseWords`: split on whitespace outside quotes; quotes and escapes are kept.
    func words(_ rest: String) -> [String] {
        let u = GoStringRules.scalars(rest)
        let n = u.count
        enum Phase { case spaces, word, quoted }
        var words: [String] = []
        var phase = Phase.spaces
        var quote: Unicode.Scalar = "\0"
        var blankOK = false
        var current = String.UnicodeScalarView()
        var pos = 0
        var ch: Unicode.Scalar = "\0"
        while pos <= n {
            defer { pos += 1 }
            if pos != n { ch = u[pos] }
            if phase == .spaces {
                if pos == n { break }
                if GoStringRules.isSpace(ch) { continue }
                phase = .word
            }
            if pos == n {
                if blankOK || !current.isEmpty { words.append(String(current)) }
                break
            }
            if phase == .word {
                if GoStringRules.isSpace(ch) {
                    phase = .spaces
                    if blankOK || !current.isEmpty { words.append(String(current)) }
                    current = String.UnicodeScalarView()
                    blankOK = false
                    continue
                }
                if ch == "'" || ch == "\"" {
                    quote = ch
                    blankOK = true
                    phase = .quoted
                }
                if ch == escapeToken {
                    if pos + 1 == n { continue }
                    current.append(ch)
                    pos += 1
                    ch = u[pos]
                }
                current.append(ch)
                continue
            }
            // quoted
            if ch == quote { phase = .word }
            if ch == escapeToken && quote != "'" {
                if pos + 1 == n {
                    phase = .word
                    continue
                }
                pos += 1
                current.append(ch)
                ch = u[pos]
            }
            current.append(ch)
        }
        return words
    }

    /// ENV / LABEL: `key value sep` triples; legacy `KEY name value` or `name=value ...`.
    func nameValue(_ rest: String, key: String) throws -> [String] {
        let words = self.words(rest)
        guard let first = words.first else { return [] }
        if GoStringRules.cut(first, at: "=") == nil {
            let parts = GoStringRules.splitWhitespace(rest, limit: 2)
            guard parts.count == 2 else {
                throw Failure(message: "\(key) must have two arguments")
            }
            return [parts[0], parts[1], ""]
        }
        var args: [String] = []
        for word in words {
            guard let (name, value) = GoStringRules.cut(word, at: "=") else {
                throw Failure(message: "Syntax error - can't find = in \(GoStringRules.quote(word)). Must be of the form: name=value")
            }
            args += [name, value, "="]
        }
        return args
    }

    /// Exec form if the text is a JSON array of strings, else nil; throws for non-string elements.
    func json(_ rest: String) throws -> [String]? {
        switch JSONArrayForm.decode(GoStringRules.trimLeftSpace(rest)) {
        case .notJSON: return nil
        case .notStringArray:
            throw Failure(message: "when using JSON array syntax, arrays must be comprised of strings only")
        case .strings(let values): return values
        }
    }

    /// RUN, CMD, ENTRYPOINT, SHELL: JSON array, else the whole rest as one argument.
    func maybeJSON(_ rest: String) throws -> ([String], Bool) {
        if rest.isEmpty { return ([], false) }
        if let values = try json(rest) { return (values, true) }
        return ([rest], false)
    }

    /// ADD, COPY, VOLUME: JSON array, else whitespace-separated words.
    func maybeJSONToList(_ rest: String) throws -> ([String], Bool) {
        if let values = try json(rest) { return (values, true) }
        return (rest.isEmpty ? [] : GoStringRules.splitWhitespace(rest), false)
    }

    /// HEALTHCHECK: the type word (`CMD`, `NONE`, ...) then the rest parsed like CMD.
    func healthConfig(_ rest: String) throws -> ([String], Bool) {
        let u = GoStringRules.scalars(rest)
        var sep = 0
        while sep < u.count, !GoStringRules.isSpace(u[sep]) { sep += 1 }
        var next = sep
        while next < u.count, GoStringRules.isSpace(u[next]) { next += 1 }
        if sep == 0 { return ([], false) }
        let (command, isJSON) = try maybeJSON(GoStringRules.string(u[next...]))
        return ([GoStringRules.string(u[..<sep])] + command, isJSON)
    }
}
