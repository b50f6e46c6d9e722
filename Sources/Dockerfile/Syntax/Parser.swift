/// The Dockerfile parser: text to a raw syntax tree, following BuildKit's
/// `frontend/dockerfile/parser` rule for rule (directives, line continuations, comments,
/// heredocs, per-instruction argument shapes), so that every Dockerfile means here what it
/// means to `docker build`. Nothing is expanded or validated beyond syntax; see
/// `InstructionParser` for the typed layer.
public enum DockerfileParser {
    /// Longest physical line accepted (BuildKit's scanner limit, `bufio.MaxScanTokenSize - 1`).
    public static let maxLineLength = 65535

    /// Parses Dockerfile text. Throws `SyntaxError` (1-based line) on malformed input.
    public static func parse(_ text: String) throws -> SyntaxTree {
        try parse(Array(text.utf8))
    }

    /// Parses raw Dockerfile bytes. Invalid UTF-8 sequences are decoded as U+FFFD (BuildKit keeps
    /// the raw bytes; the difference is visible only in `dump()` of such files).
    public static func parse(_ bytes: [UInt8]) throws -> SyntaxTree {
        var state = ParseState(bytes: bytes)
        return try state.run()
    }
}

/// Parser directives at the top of the file (`# syntax=`, `# escape=`, `# check=`).
private struct DirectiveParser {
    static let validKeys: Set<String> = ["syntax", "escape", "check"]
    var done = false
    var seen: Set<String> = []

    /// Returns the directive on this line, if the directive section is still open and it is one.
    mutating func parseLine(_ line: String) throws -> (key: String, value: String)? {
        if done { return nil }
        guard line.unicodeScalars.first == "#" else {
            done = true
            return nil
        }
        let u = GoStringRules.scalars(GoStringRules.trimLeftSpace(String(line.dropFirst())))
        // ^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$
        func isAlpha(_ c: Unicode.Scalar) -> Bool { ("a"..."z").contains(c) || ("A"..."Z").contains(c) }
        func isAlnum(_ c: Unicode.Scalar) -> Bool { isAlpha(c) || ("0"..."9").contains(c) }
        guard let first = u.first, isAlpha(first) else {
            done = true
            return nil
        }
        var i = 1
        while i < u.count, isAlnum(u[i]) { i += 1 }
        let key = GoStringRules.string(u[..<i])
        while i < u.count, GoStringRules.isRegexSpace(u[i]) { i += 1 }
        guard i < u.count, u[i] == "=" else {
            done = true
            return nil
        }
        i += 1
        let afterEquals = i
        while i < u.count, GoStringRules.isRegexSpace(u[i]) { i += 1 }
        let value: String
        if i < u.count {
            var end = u.count
            while end > i, GoStringRules.isRegexSpace(u[end - 1]) { end -= 1 }
            value = GoStringRules.string(u[i..<end])
        } else if u.count > afterEquals {
            // Only blanks after `=`: the lazy `(.+?)` still takes the last one.
            value = String(u[u.count - 1])
        } else {
            done = true
            return nil
        }
        let lowered = key.lowercased()
        guard Self.validKeys.contains(lowered) else {
            done = true
            return nil
        }
        if seen.contains(lowered) {
            throw InstructionLineParser.Failure(message: "only one \(lowered) parser directive can be used")
        }
        seen.insert(lowered)
        return (lowered, value)
    }
}

/// One run of the parser over a buffer.
private struct ParseState {
    let bytes: [UInt8]
    /// Byte offset of the next physical line.
    var offset = 0
    /// Physical lines consumed so far (== 1-based number of the last line read).
    var currentLine = 0
    var escapeToken: Unicode.Scalar = "\\"
    var directiveParser = DirectiveParser()
    var directives: [String: String] = [:]
    var warnings: [String] = []

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// The next physical line including its `\n` (if any), or nil at the end.
    /// Does not advance `currentLine`; callers do, as BuildKit counts lines at different points.
    mutating func nextLine() throws -> String? {
        guard offset < bytes.count else { return nil }
        var end = offset
        while end < bytes.count, bytes[end] != 0x0A { end += 1 }
        if end - offset > DockerfileParser.maxLineLength {
            throw SyntaxError(line: currentLine + 1,
                              message: "dockerfile line greater than max allowed size of \(DockerfileParser.maxLineLength)")
        }
        var slice = bytes[offset..<min(end + 1, bytes.count)]
        if offset == 0, slice.starts(with: [0xEF, 0xBB, 0xBF]) {
            slice = slice.dropFirst(3)
        }
        offset = min(end + 1, bytes.count)
        return String(decoding: slice, as: UTF8.self)
    }

    static func isComment(_ line: String) -> Bool {
        GoStringRules.trimLeftSpace(line).unicodeScalars.first == "#"
    }

    /// Strips the newline (and for first lines the indentation), looks for a directive, and
    /// blanks out comment lines.
    mutating func processLine(_ raw: String, stripLeft: Bool) throws -> String {
        var token = GoStringRules.trimNewline(raw)
        if stripLeft { token = GoStringRules.trimLeftSpace(token) }
        do {
            if let (key, value) = try directiveParser.parseLine(token) {
                if key == "escape" {
                    guard value == "`" || value == "\\" else {
                        throw InstructionLineParser.Failure(message: "invalid escape token '\(value)' does not match ` or \\")
                    }
                    escapeToken = value.unicodeScalars.first!
                }
                directives[key] = value
            }
        } catch let failure as InstructionLineParser.Failure {
            throw SyntaxError(line: currentLine + 1, message: failure.message)
        }
        return Self.isComment(token) ? "" : token
    }

    /// Removes a trailing escape token (plus blanks) that continues the line; the Bool is true
    /// when the line does NOT continue. An escaped escape token (`\\`) does not continue.
    func trimContinuation(_ line: String) -> (String, Bool) {
        let u = GoStringRules.scalars(line)
        var j = u.count
        while j > 0, u[j - 1] == " " || u[j - 1] == "\t" { j -= 1 }
        if j > 0, u[j - 1] == escapeToken, j - 1 == 0 || u[j - 2] != escapeToken {
            return (GoStringRules.string(u[..<(j - 1)]), false)
        }
        return (line, true)
    }

    mutating func run() throws -> SyntaxTree {
        var nodes: [Node] = []
        while let raw = try nextLine() {
            var text = try processLine(raw, stripLeft: true)
            currentLine += 1
            let startLine = currentLine
            var isEndOfLine: Bool
            (text, isEndOfLine) = trimContinuation(text)
            if isEndOfLine && text.isEmpty { continue }

            var logical = text
            var hasEmptyContinuationLine = false
            while !isEndOfLine, let raw = try nextLine() {
                let processed = try processLine(raw, stripLeft: false)
                currentLine += 1
                if Self.isComment(raw) { continue }
                if GoStringRules.trimLeftSpace(GoStringRules.trimNewline(processed)).isEmpty {
                    hasEmptyContinuationLine = true
                    continue
                }
                let piece: String
                (piece, isEndOfLine) = trimContinuation(processed)
                logical += piece
            }

            if hasEmptyContinuationLine {
                warnings.append("line \(currentLine): Empty continuation line found in: \(logical)")
            }

            var node: Node
            do {
                node = try InstructionLineParser(escapeToken: escapeToken).node(from: logical)
            } catch let failure as InstructionLineParser.Failure {
                throw SyntaxError(line: startLine, message: failure.message)
            }

            if node.canContainHeredoc, GoStringRules.contains(logical, "<<") {
                let heredocs: [Heredoc]
                do {
                    heredocs = try DockerfileParser.heredocsFromLine(logical)
                } catch var error as SyntaxError {
                    error.line = startLine
                    throw error
                }
                for var heredoc in heredocs {
                    var content = heredoc.content
                    var terminated = false
                    while let bodyLine = try nextLine() {
                        currentLine += 1
                        var candidate = GoStringRules.trimNewline(bodyLine)
                        if heredoc.chomp {
                            candidate = String(candidate.unicodeScalars.drop(while: { $0 == "\t" }))
                        }
                        if GoStringRules.same(candidate, heredoc.name) {
                            terminated = true
                            break
                        }
                        content += bodyLine
                    }
                    if !terminated {
                        throw SyntaxError(line: startLine,
                                          message: "unterminated heredoc \(GoStringRules.quote(heredoc.name)): add a line containing only \(heredoc.name)")
                    }
                    heredoc.content = content
                    node.heredocs.append(heredoc)
                }
            }

            node.setLines(start: startLine, end: currentLine)
            nodes.append(node)
        }
        if nodes.isEmpty {
            throw SyntaxError(line: max(currentLine, 1), message: "file with no instructions")
        }
        return SyntaxTree(nodes: nodes, escapeToken: Character(escapeToken), directives: directives, warnings: warnings)
    }
}

extension Node {
    /// Heredocs are read only for ADD, COPY and RUN (also as ONBUILD triggers) in shell form.
    var canContainHeredoc: Bool {
        var target = self
        if keyword == "onbuild", let trigger = onbuild.first { target = trigger }
        return ["add", "copy", "run"].contains(target.keyword) && !target.isJSON
    }

    fileprivate mutating func setLines(start: Int, end: Int) {
        startLine = start
        endLine = end
        for i in onbuild.indices { onbuild[i].setLines(start: start, end: end) }
    }
}
