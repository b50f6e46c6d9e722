/// A bounded YAML reader for what compose files use: block mappings and sequences, plain,
/// single- and double-quoted scalars, flow sequences and mappings on one line, block scalars
/// (`|`, `>`, with `-`/`+`), comments, anchors, aliases and `<<` merge keys. Tags, multi-line
/// flow collections, complex keys and several documents are refused with the position. No
/// YAML package: see the README's "Dependencies" for why.
indirect enum YAMLNode {
    case scalar(String, quoted: Bool, SourcePosition)
    case sequence([YAMLNode], SourcePosition)
    case mapping([(key: String, value: YAMLNode)], SourcePosition)
    case null(SourcePosition)

    var position: SourcePosition {
        switch self {
        case .scalar(_, _, let p), .sequence(_, let p), .mapping(_, let p), .null(let p): return p
        }
    }

    subscript(key: String) -> YAMLNode? {
        guard case .mapping(let members, _) = self else { return nil }
        return members.last { $0.key == key }?.value
    }
}

struct YAMLReader {
    struct Line {
        var number: Int
        var indent: Int
        var text: Substring
    }

    let file: String
    var lines: [Line] = []
    var index = 0
    var anchors: [String: YAMLNode] = [:]
    var depth = 0

    init(text: String, file: String) throws {
        self.file = file
        var number = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            var line = raw
            if line.hasSuffix("\r") { line = line.dropLast() }
            let indent = line.prefix { $0 == " " }.count
            if line.dropFirst(indent).hasPrefix("\t") {
                throw BakeError("tabs cannot indent YAML", at: SourcePosition(file: file, line: number, column: indent + 1))
            }
            lines.append(Line(number: number, indent: indent, text: line.dropFirst(indent)))
        }
    }

    static func read(_ text: String, file: String) throws -> YAMLNode {
        var reader = try YAMLReader(text: text, file: file)
        reader.skipBlank()
        guard reader.index < reader.lines.count else { return .null(SourcePosition(file: file, line: 1, column: 1)) }
        if reader.lines[reader.index].text.hasPrefix("---") { reader.index += 1; reader.skipBlank() }
        guard reader.index < reader.lines.count else { return .null(SourcePosition(file: file, line: 1, column: 1)) }
        let node = try reader.block(indent: reader.lines[reader.index].indent)
        reader.skipBlank()
        if reader.index < reader.lines.count {
            let line = reader.lines[reader.index]
            if line.text.hasPrefix("---") || line.text.hasPrefix("...") {
                throw BakeError("several YAML documents in one file are not supported", at: reader.position(line, 0))
            }
            throw BakeError("unexpected indentation or text", at: reader.position(line, 0))
        }
        return node
    }

    func position(_ line: Line, _ offset: Int) -> SourcePosition {
        SourcePosition(file: file, line: line.number, column: line.indent + offset + 1)
    }

    static func isBlank(_ text: Substring) -> Bool { text.isEmpty || text.hasPrefix("#") }

    mutating func skipBlank() {
        while index < lines.count, Self.isBlank(lines[index].text) { index += 1 }
    }

    static func isSequenceItem(_ text: Substring) -> Bool { text == "-" || text.hasPrefix("- ") }

    /// The node whose first line is at `indent`.
    mutating func block(indent: Int) throws -> YAMLNode {
        depth += 1
        defer { depth -= 1 }
        guard depth < 64 else { throw BakeError("YAML nested too deeply", at: position(lines[index], 0)) }
        let line = lines[index]
        if Self.isSequenceItem(line.text) { return try sequence(indent: indent) }
        if Self.splitKey(line.text) != nil { return try mapping(indent: indent) }
        index += 1
        return try inlineValue(line.text, line: line, offset: 0, parentIndent: indent - 1)
    }

    mutating func sequence(indent: Int) throws -> YAMLNode {
        let start = position(lines[index], 0)
        var items: [YAMLNode] = []
        while true {
            skipBlank()
            guard index < lines.count, lines[index].indent == indent, Self.isSequenceItem(lines[index].text) else { break }
            let line = lines[index]
            let rest = line.text.dropFirst(1).drop { $0 == " " }
            let restOffset = line.text.count - rest.count
            if Self.isBlank(rest) {
                index += 1
                skipBlank()
                guard index < lines.count, lines[index].indent > indent else { items.append(.null(position(line, 0))); continue }
                items.append(try block(indent: lines[index].indent))
            } else if Self.splitKey(rest) != nil || Self.isSequenceItem(rest) {
                // `- key: value` starts a mapping (or `- - x` a sequence) at the item's column.
                lines[index] = Line(number: line.number, indent: indent + restOffset, text: rest)
                items.append(try block(indent: indent + restOffset))
            } else {
                index += 1
                items.append(try inlineValue(rest, line: line, offset: restOffset, parentIndent: indent))
            }
        }
        return .sequence(items, start)
    }

    mutating func mapping(indent: Int) throws -> YAMLNode {
        let start = position(lines[index], 0)
        var members: [(key: String, value: YAMLNode)] = []
        while true {
            skipBlank()
            guard index < lines.count, lines[index].indent >= indent else { break }
            let line = lines[index]
            guard line.indent == indent else { throw BakeError("unexpected indentation", at: position(line, 0)) }
            if Self.isSequenceItem(line.text) { break }
            guard let (key, rest, restOffset) = Self.splitKey(line.text) else {
                throw BakeError("expected 'key: value'", at: position(line, 0))
            }
            let keyText = try unquoteKey(key, line: line)
            var value: YAMLNode
            var anchor: String?
            var body = rest
            var bodyOffset = restOffset
            if body.hasPrefix("&") {
                let name = body.dropFirst().prefix { $0 != " " }
                anchor = String(name)
                body = body.dropFirst(name.count + 1).drop { $0 == " " }
                bodyOffset = line.text.count - body.count
            }
            if Self.isBlank(body) {
                index += 1
                skipBlank()
                if index < lines.count, lines[index].indent > indent {
                    value = try block(indent: lines[index].indent)
                } else if index < lines.count, lines[index].indent == indent, Self.isSequenceItem(lines[index].text) {
                    value = try sequence(indent: indent)
                } else {
                    value = .null(position(line, restOffset))
                }
            } else {
                index += 1
                value = try inlineValue(body, line: line, offset: bodyOffset, parentIndent: indent)
            }
            if let anchor { anchors[anchor] = value }
            if keyText == "<<" {
                let sources: [YAMLNode]
                if case .sequence(let list, _) = value { sources = list } else { sources = [value] }
                for source in sources {
                    guard case .mapping(let inherited, _) = source else { throw BakeError("a << merge needs a mapping", at: value.position) }
                    for member in inherited where !members.contains(where: { $0.key == member.key }) { members.append(member) }
                }
                continue
            }
            if let at = members.firstIndex(where: { $0.key == keyText }) {
                members[at].value = value
            } else {
                members.append((keyText, value))
            }
        }
        return .mapping(members, start)
    }

    func unquoteKey(_ key: Substring, line: Line) throws -> String {
        if key.hasPrefix("\"") || key.hasPrefix("'") {
            var reader = FlowReader(text: key, file: file, line: line.number, column: line.indent + 1, anchors: anchors)
            if case .scalar(let text, _, _) = try reader.value() { return text }
        }
        if key.hasPrefix("? ") { throw BakeError("complex mapping keys are not supported", at: position(line, 0)) }
        return String(key)
    }

    /// `key: rest` with the key possibly quoted; nil when the line is no mapping entry.
    static func splitKey(_ text: Substring) -> (Substring, Substring, Int)? {
        var i = text.startIndex
        if let quote = text.first, quote == "\"" || quote == "'" {
            i = text.index(after: i)
            while i < text.endIndex, text[i] != quote { if text[i] == "\\" && quote == "\"" { i = text.index(after: i) }; if i < text.endIndex { i = text.index(after: i) } }
            guard i < text.endIndex else { return nil }
            i = text.index(after: i)
            guard i < text.endIndex, text[i] == ":" else { return nil }
        } else {
            if text.hasPrefix("[") || text.hasPrefix("{") || text.hasPrefix("|") || text.hasPrefix(">") || text.hasPrefix("*") || text.hasPrefix("&") { return nil }
            while i < text.endIndex {
                if text[i] == ":" {
                    let next = text.index(after: i)
                    if next == text.endIndex || text[next] == " " { break }
                }
                if text[i] == " ", text.index(after: i) < text.endIndex, text[text.index(after: i)] == "#" { return nil }
                i = text.index(after: i)
            }
            guard i < text.endIndex else { return nil }
        }
        let key = text[..<i]
        let rest = text[text.index(after: i)...].drop { $0 == " " }
        return (key, rest, text.count - rest.count)
    }

    /// A value on the rest of a line: a scalar, a flow collection, an alias, or a block scalar
    /// whose lines follow (more indented than `parentIndent`).
    mutating func inlineValue(_ text: Substring, line: Line, offset: Int, parentIndent: Int) throws -> YAMLNode {
        let at = position(line, offset)
        if text.hasPrefix("!") { throw BakeError("YAML tags (!…) are not supported", at: at) }
        if text.hasPrefix("|") || text.hasPrefix(">") { return try blockScalar(text, at: at, parentIndent: parentIndent) }
        var reader = FlowReader(text: text, file: file, line: line.number, column: line.indent + offset + 1, anchors: anchors)
        let value = try reader.value()
        try reader.end()
        return value
    }

    mutating func blockScalar(_ header: Substring, at: SourcePosition, parentIndent: Int) throws -> YAMLNode {
        let folded = header.hasPrefix(">")
        let indicators = header.dropFirst().prefix { $0 != " " && $0 != "#" }
        let chomping: Character? = indicators.first { $0 == "-" || $0 == "+" }
        var body: [String] = []
        var blockIndent: Int?
        while index < lines.count {
            let line = lines[index]
            if line.text.isEmpty { body.append(""); index += 1; continue }
            if blockIndent == nil {
                guard line.indent > parentIndent else { break }
                blockIndent = line.indent
            }
            guard let blockIndent, line.indent >= blockIndent else { break }
            body.append(String(repeating: " ", count: line.indent - blockIndent) + line.text)
            index += 1
        }
        var trailing = 0
        while body.last == "" { body.removeLast(); trailing += 1 }
        var text: String
        if folded {
            text = ""
            for (i, piece) in body.enumerated() {
                if i > 0 { text += (piece.isEmpty || body[i - 1].isEmpty || piece.hasPrefix(" ")) ? "\n" : " " }
                text += piece
            }
        } else {
            text = body.joined(separator: "\n")
        }
        switch chomping {
        case "-": break
        case "+": text += String(repeating: "\n", count: trailing + 1)
        default: if !body.isEmpty { text += "\n" }
        }
        return .scalar(text, quoted: true, at)
    }
}

/// Flow values on one line: scalars (plain, quoted), `[a, b]`, `{a: b}`, `*alias`, `&anchor`.
struct FlowReader {
    let text: [Character]
    let file: String
    let line: Int
    let column: Int
    let anchors: [String: YAMLNode]
    var i = 0
    var depth = 0

    init(text: Substring, file: String, line: Int, column: Int, anchors: [String: YAMLNode]) {
        self.text = Array(text)
        self.file = file
        self.line = line
        self.column = column
        self.anchors = anchors
    }

    var position: SourcePosition { SourcePosition(file: file, line: line, column: column + i) }

    mutating func space() { while i < text.count, text[i] == " " { i += 1 } }

    mutating func end() throws {
        space()
        if i < text.count, text[i] == "#" { i = text.count }
        guard i >= text.count else { throw BakeError("unexpected text after the value", at: position) }
    }

    mutating func value(inFlow: Bool = false) throws -> YAMLNode {
        space()
        let at = position
        depth += 1
        defer { depth -= 1 }
        guard depth <= 64 else { throw BakeError("flow collections nested more than 64 deep", at: at) }
        guard i < text.count else { return .null(at) }
        switch text[i] {
        case "[":
            i += 1
            var items: [YAMLNode] = []
            while true {
                space()
                guard i < text.count else { throw BakeError("a flow sequence must end on its line (multi-line [ ] is not supported)", at: at) }
                if text[i] == "]" { i += 1; return .sequence(items, at) }
                let before = i
                items.append(try value(inFlow: true))
                space()
                if i < text.count, text[i] == "," { i += 1 } else if i == before || (i < text.count && text[i] != "]") {
                    throw BakeError("expected ',' or ']' in the flow sequence", at: position)
                }
            }
        case "{":
            i += 1
            var members: [(key: String, value: YAMLNode)] = []
            while true {
                space()
                guard i < text.count else { throw BakeError("a flow mapping must end on its line (multi-line { } is not supported)", at: at) }
                if text[i] == "}" { i += 1; return .mapping(members, at) }
                let before = i
                let key = try value(inFlow: true)
                guard case .scalar(let name, _, _) = key else { throw BakeError("a mapping key must be a scalar", at: key.position) }
                space()
                var member: YAMLNode = .null(position)
                if i < text.count, text[i] == ":" { i += 1; member = try value(inFlow: true) }
                members.append((name, member))
                space()
                if i < text.count, text[i] == "," { i += 1 } else if i == before || (i < text.count && text[i] != "}") {
                    throw BakeError("expected ',' or '}' in the flow mapping", at: position)
                }
            }
        case "\"":
            i += 1
            var out = ""
            while true {
                guard i < text.count else { throw BakeError("unterminated double-quoted string", at: at) }
                let c = text[i]
                i += 1
                if c == "\"" { break }
                if c == "\\" {
                    guard i < text.count else { throw BakeError("unterminated escape", at: at) }
                    let e = text[i]
                    i += 1
                    switch e {
                    case "n": out += "\n"
                    case "t": out += "\t"
                    case "r": out += "\r"
                    case "0": out += "\0"
                    case "\"": out += "\""
                    case "\\": out += "\\"
                    case "/": out += "/"
                    case " ": out += " "
                    case "u", "x", "U":
                        let count = e == "x" ? 2 : e == "u" ? 4 : 8
                        guard i + count <= text.count, let code = UInt32(String(text[i..<i + count]), radix: 16), let scalar = Unicode.Scalar(code) else {
                            throw BakeError("invalid \\\(e) escape", at: position)
                        }
                        i += count
                        out.unicodeScalars.append(scalar)
                    default: throw BakeError("unknown escape '\\\(e)'", at: position)
                    }
                } else {
                    out.append(c)
                }
            }
            return .scalar(out, quoted: true, at)
        case "'":
            i += 1
            var out = ""
            while true {
                guard i < text.count else { throw BakeError("unterminated single-quoted string", at: at) }
                let c = text[i]
                i += 1
                if c == "'" {
                    if i < text.count, text[i] == "'" { out += "'"; i += 1; continue }
                    break
                }
                out.append(c)
            }
            return .scalar(out, quoted: true, at)
        case "*":
            i += 1
            let start = i
            while i < text.count, !" ,]}".contains(text[i]) { i += 1 }
            let name = String(text[start..<i])
            guard let node = anchors[name] else { throw BakeError("unknown alias *\(name)", at: at) }
            return node
        case "&":
            throw BakeError("anchors are supported only on mapping values (key: &name …)", at: at)
        default:
            let start = i
            while i < text.count {
                if text[i] == "#", i > start, text[i - 1] == " " { break }
                if inFlow && ",]}".contains(text[i]) { break }
                if inFlow && text[i] == ":" && (i + 1 == text.count || text[i + 1] == " ") { break }
                i += 1
            }
            let plain = String(text[start..<i]).trimmingSpaces
            if plain == "~" || plain == "null" || plain == "Null" || plain == "NULL" { return .null(at) }
            return .scalar(plain, quoted: false, at)
        }
    }
}
