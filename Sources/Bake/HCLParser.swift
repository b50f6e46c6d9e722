/// A recursive-descent parser for HCL's native syntax as bake files use it: blocks,
/// attributes, comments (`#`, `//`, `/* */`), strings with `${…}` interpolation, heredocs
/// (`<<EOT`, `<<-EOT`), numbers, bools, null, tuples, objects, function calls, operators,
/// conditionals and `for` expressions. Every error names `FILE:LINE:COLUMN`.
public struct HCLParser {
    let bytes: [UInt8]
    let file: String
    /// Added to positions: a template parsed out of a JSON string or a heredoc keeps the
    /// position of its text in the file.
    let lineBase: Int
    let columnBase: Int
    var offset = 0
    var line = 1
    var column = 1
    /// Inside (), [] or an object, newlines are only white space.
    var nesting = 0
    /// Expressions within expressions, bounded so that hostile input cannot exhaust the stack
    /// (here or when the expression is evaluated).
    var depth = 0
    static let maximumDepth = 128
    static let maximumOperators = 512

    public init(text: String, file: String, lineBase: Int = 0, columnBase: Int = 0) {
        bytes = Array(text.utf8)
        self.file = file
        self.lineBase = lineBase
        self.columnBase = columnBase
    }

    /// Parses a whole file.
    public static func parse(_ text: String, file: String) throws -> HCLBody {
        var parser = HCLParser(text: text, file: file)
        let body = try parser.parseBody(closing: false)
        return body
    }

    /// Parses the contents of a string (a JSON string value) as a template.
    public static func parseTemplate(_ text: String, file: String, at position: SourcePosition) throws -> HCLExpression {
        var parser = HCLParser(text: text, file: file, lineBase: position.line - 1, columnBase: position.column - 1)
        let start = parser.position
        let parts = try parser.templateParts(until: nil)
        return simplify(parts, at: start)
    }

    /// Parses a whole string as one expression (`--set` values never are; JSON keys never are).
    static func simplify(_ parts: [TemplatePart], at position: SourcePosition) -> HCLExpression {
        if parts.isEmpty { return .literal(.string(""), position) }
        if parts.count == 1, case .text(let text) = parts[0] { return .literal(.string(text), position) }
        // HCL: a template that is one interpolation alone is that value, unconverted ("${FOO}" may be null or a list).
        if parts.count == 1, case .interpolation(let inner) = parts[0] { return inner }
        return .template(parts, position)
    }

    var position: SourcePosition {
        SourcePosition(file: file, line: line + lineBase, column: line == 1 ? column + columnBase : column)
    }

    func error(_ message: String) -> BakeError { BakeError(message, at: position) }

    var atEnd: Bool { offset >= bytes.count }
    func peek(_ ahead: Int = 0) -> UInt8? { offset + ahead < bytes.count ? bytes[offset + ahead] : nil }

    mutating func advance() {
        guard offset < bytes.count else { return }
        if bytes[offset] == UInt8(ascii: "\n") { line += 1; column = 1 } else if bytes[offset] & 0xC0 != 0x80 { column += 1 }
        offset += 1
    }

    func starts(with text: String) -> Bool {
        let utf8 = Array(text.utf8)
        guard offset + utf8.count <= bytes.count else { return false }
        return Array(bytes[offset..<offset + utf8.count]) == utf8
    }

    mutating func skip(_ text: String) { for _ in text.utf8 { advance() } }

    /// White space and comments; newlines too when `newlines` (else they stop here).
    mutating func skipSpace(newlines: Bool) throws {
        while let byte = peek() {
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r") {
                advance()
            } else if byte == UInt8(ascii: "\n") {
                guard newlines else { return }
                advance()
            } else if byte == UInt8(ascii: "#") || starts(with: "//") {
                while let next = peek(), next != UInt8(ascii: "\n") { advance() }
            } else if starts(with: "/*") {
                let start = position
                skip("/*")
                while !atEnd && !starts(with: "*/") { advance() }
                guard !atEnd else { throw BakeError("unterminated /* comment", at: start) }
                skip("*/")
            } else {
                return
            }
        }
    }

    mutating func space() throws { try skipSpace(newlines: nesting > 0) }

    static func isIdentifierStart(_ byte: UInt8) -> Bool {
        (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == UInt8(ascii: "_") || byte >= 0x80
    }

    static func isIdentifierByte(_ byte: UInt8) -> Bool {
        isIdentifierStart(byte) || (byte >= 0x30 && byte <= 0x39) || byte == UInt8(ascii: "-")
    }

    mutating func identifier() -> String? {
        guard let first = peek(), Self.isIdentifierStart(first) else { return nil }
        let start = offset
        while let byte = peek(), Self.isIdentifierByte(byte) { advance() }
        return String(decoding: bytes[start..<offset], as: UTF8.self)
    }

    // MARK: Bodies

    mutating func parseBody(closing: Bool) throws -> HCLBody {
        var body = HCLBody()
        while true {
            try skipSpace(newlines: true)
            if atEnd {
                if closing { throw error("missing '}' to close the block") }
                return body
            }
            if peek() == UInt8(ascii: "}") {
                guard closing else { throw error("unexpected '}'") }
                advance()
                return body
            }
            let start = position
            guard let name = identifier() else { throw error("expected an attribute name or a block type, found \(describeNext())") }
            try skipSpace(newlines: false)
            if peek() == UInt8(ascii: "=") && peek(1) != UInt8(ascii: "=") {
                advance()
                try skipSpace(newlines: false)
                let expression = try parseExpression()
                body.attributes.append(HCLAttribute(name: name, expression: expression, position: start))
                try skipSpace(newlines: false)
                guard atEnd || peek() == UInt8(ascii: "\n") || (closing && peek() == UInt8(ascii: "}")) else {
                    throw error("expected a newline after the value of '\(name)', found \(describeNext())")
                }
                continue
            }
            var labels: [String] = []
            while peek() != UInt8(ascii: "{") {
                if peek() == UInt8(ascii: "\"") {
                    let labelStart = position
                    let parts = try quotedString()
                    guard parts.allSatisfy({ if case .text = $0 { return true } else { return false } }) else {
                        throw BakeError("a block label cannot contain interpolation", at: labelStart)
                    }
                    labels.append(parts.map { if case .text(let text) = $0 { return text } else { return "" } }.joined())
                } else if let label = identifier() {
                    labels.append(label)
                } else {
                    throw error("expected '=' or a block ('\(name) \"NAME\" {'), found \(describeNext())")
                }
                try skipSpace(newlines: false)
            }
            advance()
            depth += 1
            guard depth <= Self.maximumDepth else { throw error("blocks nested more than \(Self.maximumDepth) deep") }
            let inner = try parseBody(closing: true)
            depth -= 1
            body.blocks.append(HCLBlock(type: name, labels: labels, body: inner, position: start))
        }
    }

    func describeNext() -> String {
        guard let byte = peek() else { return "the end of the file" }
        if byte == UInt8(ascii: "\n") { return "a newline" }
        let end = Swift.min(bytes.count, offset + 12)
        let text = String(decoding: bytes[offset..<end], as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
        return "'\(text)'"
    }

    // MARK: Expressions

    public mutating func parseExpression() throws -> HCLExpression {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maximumDepth else { throw error("expressions nested more than \(Self.maximumDepth) deep") }
        let condition = try binary(precedence: 0)
        try space()
        guard peek() == UInt8(ascii: "?") else { return condition }
        let start = position
        advance()
        nesting += 1
        defer { nesting -= 1 }
        try space()
        let whenTrue = try parseExpression()
        try space()
        guard peek() == UInt8(ascii: ":") else { throw error("expected ':' in a conditional (COND ? A : B)") }
        advance()
        try space()
        let whenFalse = try parseExpression()
        return .conditional(condition, whenTrue, whenFalse, start)
    }

    static let operators: [[String]] = [["||"], ["&&"], ["==", "!="], ["<=", ">=", "<", ">"], ["+", "-"], ["*", "/", "%"]]

    mutating func binary(precedence: Int) throws -> HCLExpression {
        guard precedence < Self.operators.count else { return try unary() }
        var left = try binary(precedence: precedence + 1)
        var operators = 0
        while true {
            try space()
            operators += 1
            guard operators <= Self.maximumOperators else { throw error("more than \(Self.maximumOperators) operators in a row; split the expression") }
            guard let op = Self.operators[precedence].first(where: { starts(with: $0) }) else { return left }
            // `=>` in a for expression and `->`-like text are not operators.
            if op == ">" || op == "<" || op == "-", peek(1) == UInt8(ascii: ">") && op != ">" { return left }
            let start = position
            skip(op)
            try skipSpace(newlines: true)
            let right = try binary(precedence: precedence + 1)
            left = .binary(op, left, right, start)
        }
    }

    mutating func unary() throws -> HCLExpression {
        try space()
        let start = position
        if peek() == UInt8(ascii: "!") || (peek() == UInt8(ascii: "-") && !(peek(1).map { $0 >= 0x30 && $0 <= 0x39 } ?? false)) {
            let op = peek() == UInt8(ascii: "!") ? "!" : "-"
            advance()
            depth += 1
            defer { depth -= 1 }
            guard depth <= Self.maximumDepth else { throw error("expressions nested more than \(Self.maximumDepth) deep") }
            return .unary(op, try unary(), start)
        }
        return try postfix(try primary())
    }

    mutating func postfix(_ base: HCLExpression) throws -> HCLExpression {
        var expression = base
        var steps = 0
        while true {
            steps += 1
            guard steps <= Self.maximumOperators else { throw error("more than \(Self.maximumOperators) attribute or index steps in a row") }
            let start = position
            if peek() == UInt8(ascii: "."), let next = peek(1), Self.isIdentifierStart(next) {
                advance()
                expression = .attribute(expression, identifier() ?? "", start)
            } else if peek() == UInt8(ascii: "."), let next = peek(1), next >= 0x30 && next <= 0x39 {
                advance()
                let digits = offset
                while let byte = peek(), byte >= 0x30 && byte <= 0x39 { advance() }
                let index = Double(String(decoding: bytes[digits..<offset], as: UTF8.self)) ?? 0
                expression = .index(expression, .literal(.number(index), start), start)
            } else if peek() == UInt8(ascii: "[") {
                advance()
                nesting += 1
                try space()
                if peek() == UInt8(ascii: "*") { throw error("splat expressions ([*]) are not supported") }
                let key = try parseExpression()
                try space()
                guard peek() == UInt8(ascii: "]") else { throw error("expected ']' after the index") }
                nesting -= 1
                advance()
                expression = .index(expression, key, start)
            } else {
                return expression
            }
        }
    }

    mutating func primary() throws -> HCLExpression {
        let start = position
        guard let byte = peek() else { throw error("expected a value, found the end of the file") }
        switch byte {
        case UInt8(ascii: "\""):
            return Self.simplify(try quotedString(), at: start)
        case UInt8(ascii: "<") where starts(with: "<<"):
            return try heredoc()
        case UInt8(ascii: "["):
            return try tuple()
        case UInt8(ascii: "{"):
            return try object()
        case UInt8(ascii: "("):
            advance()
            nesting += 1
            let inner = try parseExpression()
            try space()
            guard peek() == UInt8(ascii: ")") else { throw error("expected ')'") }
            nesting -= 1
            advance()
            return inner
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return try number()
        default:
            guard let name = identifier() else { throw error("expected a value, found \(describeNext())") }
            switch name {
            case "true": return .literal(.bool(true), start)
            case "false": return .literal(.bool(false), start)
            case "null": return .literal(.null, start)
            default: break
            }
            if peek() == UInt8(ascii: "(") { return try call(name, at: start) }
            if peek() == UInt8(ascii: ":"), peek(1) == UInt8(ascii: ":") { throw error("namespaced functions (\(name)::…) are not supported") }
            return .variable(name, start)
        }
    }

    mutating func number() throws -> HCLExpression {
        let start = position
        let begin = offset
        if peek() == UInt8(ascii: "-") { advance() }
        while let byte = peek(), (byte >= 0x30 && byte <= 0x39) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
            if byte == UInt8(ascii: "."), !(peek(1).map { $0 >= 0x30 && $0 <= 0x39 } ?? false) { break }
            advance()
            if byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E"), peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { advance() }
        }
        let text = String(decoding: bytes[begin..<offset], as: UTF8.self)
        guard let value = Double(text) else { throw BakeError("'\(text)' is not a number", at: start) }
        return .literal(.number(value), start)
    }

    mutating func call(_ name: String, at start: SourcePosition) throws -> HCLExpression {
        advance()
        nesting += 1
        defer { nesting -= 1 }
        var arguments: [HCLExpression] = []
        var expand = false
        while true {
            try space()
            if peek() == UInt8(ascii: ")") { advance(); break }
            if expand { throw error("'...' must follow the last argument") }
            arguments.append(try parseExpression())
            try space()
            if starts(with: "...") { skip("..."); expand = true; try space() }
            if peek() == UInt8(ascii: ",") { advance(); continue }
            guard peek() == UInt8(ascii: ")") else { throw error("expected ',' or ')' in the arguments of \(name)(), found \(describeNext())") }
        }
        return .call(name, arguments, expand: expand, start)
    }

    mutating func tuple() throws -> HCLExpression {
        let start = position
        advance()
        nesting += 1
        defer { nesting -= 1 }
        try space()
        if starts(with: "for"), let after = peek(3), !Self.isIdentifierByte(after) {
            return try forExpression(object: false, at: start)
        }
        var items: [HCLExpression] = []
        while true {
            try space()
            if peek() == UInt8(ascii: "]") { advance(); return .tuple(items, start) }
            items.append(try parseExpression())
            try space()
            if peek() == UInt8(ascii: ",") { advance(); continue }
            guard peek() == UInt8(ascii: "]") else { throw error("expected ',' or ']' in the list, found \(describeNext())") }
        }
    }

    mutating func object() throws -> HCLExpression {
        let start = position
        advance()
        nesting += 1
        defer { nesting -= 1 }
        try space()
        if starts(with: "for"), let after = peek(3), !Self.isIdentifierByte(after) {
            return try forExpression(object: true, at: start)
        }
        var items: [(key: HCLExpression, value: HCLExpression)] = []
        while true {
            try space()
            if peek() == UInt8(ascii: "}") { advance(); return .object(items, start) }
            let keyStart = position
            let key: HCLExpression
            if let first = peek(), Self.isIdentifierStart(first) {
                let name = identifier() ?? ""
                key = .literal(.string(name), keyStart)
            } else {
                key = try parseExpression()
            }
            try space()
            guard peek() == UInt8(ascii: "=") || peek() == UInt8(ascii: ":") else {
                throw error("expected '=' or ':' after the object key, found \(describeNext())")
            }
            advance()
            try space()
            items.append((key, try parseExpression()))
            try space()
            if peek() == UInt8(ascii: ",") { advance() }
        }
    }

    mutating func forExpression(object: Bool, at start: SourcePosition) throws -> HCLExpression {
        skip("for")
        try space()
        guard let first = identifier() else { throw error("expected a variable name after 'for'") }
        var keyName: String?
        var valueName = first
        try space()
        if peek() == UInt8(ascii: ",") {
            advance()
            try space()
            guard let second = identifier() else { throw error("expected a second variable name after ','") }
            keyName = first
            valueName = second
            try space()
        }
        guard starts(with: "in"), let after = peek(2), !Self.isIdentifierByte(after) else { throw error("expected 'in' in the for expression") }
        skip("in")
        try space()
        let collection = try parseExpression()
        try space()
        guard peek() == UInt8(ascii: ":") else { throw error("expected ':' after the collection of the for expression") }
        advance()
        try space()
        var keyExpression: HCLExpression?
        var valueExpression = try parseExpression()
        var grouping = false
        try space()
        if object {
            guard starts(with: "=>") else { throw error("expected '=>' in the object for expression") }
            skip("=>")
            try space()
            keyExpression = valueExpression
            valueExpression = try parseExpression()
            try space()
            if starts(with: "...") { skip("..."); grouping = true; try space() }
        }
        var condition: HCLExpression?
        if starts(with: "if"), let after = peek(2), !Self.isIdentifierByte(after) {
            skip("if")
            try space()
            condition = try parseExpression()
            try space()
        }
        guard peek() == UInt8(ascii: object ? "}" : "]") else { throw error("expected '\(object ? "}" : "]")' to end the for expression, found \(describeNext())") }
        advance()
        return .forExpression(ForClause(keyName: keyName, valueName: valueName, collection: collection, keyExpression: keyExpression,
                                        valueExpression: valueExpression, condition: condition, grouping: grouping), start)
    }

    // MARK: Strings

    mutating func quotedString() throws -> [TemplatePart] {
        let start = position
        advance()
        let parts = try templateParts(until: UInt8(ascii: "\""))
        guard peek() == UInt8(ascii: "\"") else { throw BakeError("unterminated string", at: start) }
        advance()
        return parts
    }

    /// Template text up to `terminator` (not consumed) or the end; `nil`: to the end, with
    /// no escapes (heredocs and JSON strings, whose escapes are already decoded).
    mutating func templateParts(until terminator: UInt8?) throws -> [TemplatePart] {
        var parts: [TemplatePart] = []
        var text: [UInt8] = []
        func flush() {
            if !text.isEmpty { parts.append(.text(String(decoding: text, as: UTF8.self))); text = [] }
        }
        while let byte = peek() {
            if let terminator, byte == terminator { break }
            if terminator != nil && byte == UInt8(ascii: "\n") { throw error("a quoted string cannot span lines; use a heredoc (<<EOT)") }
            if starts(with: "$${") { skip("$${"); text += Array("${".utf8); continue }
            if starts(with: "%%{") { skip("%%{"); text += Array("%{".utf8); continue }
            if starts(with: "%{") { throw error("template directives (%{if}, %{for}) are not supported; use a conditional or a for expression inside ${…}") }
            if starts(with: "${") {
                skip("${")
                if peek() == UInt8(ascii: "~") { advance() }
                flush()
                nesting += 1
                try space()
                let expression = try parseExpression()
                try space()
                if peek() == UInt8(ascii: "~") { advance() }
                guard peek() == UInt8(ascii: "}") else { throw error("expected '}' to close the interpolation, found \(describeNext())") }
                nesting -= 1
                advance()
                parts.append(.interpolation(expression))
                continue
            }
            if terminator != nil && byte == UInt8(ascii: "\\") {
                advance()
                guard let escaped = peek() else { throw error("unterminated escape") }
                switch escaped {
                case UInt8(ascii: "n"): text.append(0x0A)
                case UInt8(ascii: "t"): text.append(0x09)
                case UInt8(ascii: "r"): text.append(0x0D)
                case UInt8(ascii: "\""): text.append(UInt8(ascii: "\""))
                case UInt8(ascii: "\\"): text.append(UInt8(ascii: "\\"))
                case UInt8(ascii: "u"), UInt8(ascii: "U"):
                    let count = escaped == UInt8(ascii: "u") ? 4 : 8
                    guard offset + count < bytes.count,
                          let scalarValue = UInt32(String(decoding: bytes[(offset + 1)...(offset + count)], as: UTF8.self), radix: 16),
                          let scalar = Unicode.Scalar(scalarValue) else { throw error("invalid \\u escape") }
                    for _ in 0..<count { advance() }
                    text += Array(String(Character(scalar)).utf8)
                default:
                    throw error("unknown escape '\\\(String(decoding: [escaped], as: UTF8.self))'")
                }
                advance()
                continue
            }
            text.append(byte)
            advance()
        }
        flush()
        return parts
    }

    mutating func heredoc() throws -> HCLExpression {
        let start = position
        skip("<<")
        let indented = peek() == UInt8(ascii: "-")
        if indented { advance() }
        guard let marker = identifier() else { throw error("expected a heredoc marker such as EOT after '<<'") }
        try skipSpace(newlines: false)
        guard peek() == UInt8(ascii: "\n") else { throw error("a heredoc marker must end its line") }
        advance()
        let contentLine = line + lineBase
        var lines: [String] = []
        while true {
            guard !atEnd else { throw BakeError("heredoc '\(marker)' is never closed (a line with only \(marker))", at: start) }
            let begin = offset
            while let byte = peek(), byte != UInt8(ascii: "\n") { advance() }
            let text = String(decoding: bytes[begin..<offset], as: UTF8.self)
            // The closing marker's newline ends the attribute: it stays unread.
            if text.trimmingSpaces == marker { break }
            if peek() == UInt8(ascii: "\n") { advance() }
            lines.append(text)
        }
        if indented {
            let indents = lines.filter { !$0.trimmingSpaces.isEmpty }.map { $0.prefix(while: { $0 == " " || $0 == "\t" }).count }
            let strip = indents.min() ?? 0
            lines = lines.map { String($0.dropFirst(Swift.min(strip, $0.prefix(while: { $0 == " " || $0 == "\t" }).count))) }
        }
        let content = lines.map { $0 + "\n" }.joined()
        var inner = HCLParser(text: content, file: file, lineBase: contentLine - 1, columnBase: 0)
        let parts = try inner.templateParts(until: nil)
        return Self.simplify(parts, at: start)
    }
}

extension String {
    var trimmingSpaces: String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" || first == "\r" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" || last == "\r" { scalars.removeLast() }
        return String(scalars)
    }
}
