import Foundation

/// A JSON value with the position of its first character, for errors that name
/// `FILE:LINE:COLUMN` (Foundation's JSON reader keeps no positions).
indirect enum PositionedJSON {
    case object([(key: String, keyPosition: SourcePosition, value: PositionedJSON)], SourcePosition)
    case array([PositionedJSON], SourcePosition)
    case string(String, SourcePosition)
    case number(Double, SourcePosition)
    case bool(Bool, SourcePosition)
    case null(SourcePosition)

    var position: SourcePosition {
        switch self {
        case .object(_, let p), .array(_, let p), .string(_, let p), .number(_, let p), .bool(_, let p), .null(let p): return p
        }
    }
}

/// Reads `docker-bake.json` as buildx does (HCL's JSON syntax): the root object's
/// `variable`, `target`, `group` and `function` keys are blocks (`{"NAME": {…}}`), every other
/// key an attribute; strings are templates (`"${TAG}"`).
enum JSONBakeFile {
    static let blockTypes: Set<String> = ["variable", "target", "group", "function"]

    static func parse(_ text: String, file: String) throws -> HCLBody {
        var reader = JSONReader(bytes: Array(text.utf8), file: file)
        let root = try reader.document()
        guard case .object(let members, _) = root else { throw BakeError("a bake JSON file must be an object", at: root.position) }
        var body = HCLBody()
        for member in members {
            if blockTypes.contains(member.key) {
                // `"target": {"a": {…}}`, or HCL-JSON's list form `"target": [{"a": [{…}]}]`.
                var blocks: [(key: String, keyPosition: SourcePosition, value: PositionedJSON)] = []
                let groups: [PositionedJSON]
                if case .array(let items, _) = member.value { groups = items } else { groups = [member.value] }
                for group in groups {
                    guard case .object(let named, _) = group else {
                        throw BakeError("'\(member.key)' must be an object of \(member.key)s by name", at: group.position)
                    }
                    blocks += named
                }
                for block in blocks {
                    // `"target": {"a": [{…}, {…}]}` is HCL-JSON's form for repeated blocks.
                    let bodies: [PositionedJSON]
                    if case .array(let items, _) = block.value { bodies = items } else { bodies = [block.value] }
                    for item in bodies {
                        body.blocks.append(HCLBlock(type: member.key, labels: [block.key], body: try blockBody(item, file: file),
                                                    position: block.keyPosition))
                    }
                }
            } else {
                body.attributes.append(HCLAttribute(name: member.key, expression: try expression(member.value, file: file),
                                                    position: member.keyPosition))
            }
        }
        return body
    }

    static func blockBody(_ json: PositionedJSON, file: String) throws -> HCLBody {
        guard case .object(let members, _) = json else { throw BakeError("expected an object", at: json.position) }
        var body = HCLBody()
        for member in members {
            if member.key == "validation" {
                let items: [PositionedJSON]
                if case .array(let list, _) = member.value { items = list } else { items = [member.value] }
                for item in items {
                    body.blocks.append(HCLBlock(type: "validation", labels: [], body: try blockBody(item, file: file), position: member.keyPosition))
                }
                continue
            }
            body.attributes.append(HCLAttribute(name: member.key, expression: try expression(member.value, file: file),
                                                position: member.keyPosition))
        }
        return body
    }

    static func expression(_ json: PositionedJSON, file: String) throws -> HCLExpression {
        switch json {
        case .string(let text, let position):
            return try HCLParser.parseTemplate(text, file: file, at: position)
        case .number(let value, let position): return .literal(.number(value), position)
        case .bool(let value, let position): return .literal(.bool(value), position)
        case .null(let position): return .literal(.null, position)
        case .array(let items, let position): return .tuple(try items.map { try expression($0, file: file) }, position)
        case .object(let members, let position):
            return .object(try members.map { (key: HCLExpression.literal(.string($0.key), $0.keyPosition), value: try expression($0.value, file: file)) }, position)
        }
    }
}

/// RFC 8259 JSON with positions; duplicate keys are kept in order (HCL-JSON merges them).
struct JSONReader {
    let bytes: [UInt8]
    let file: String
    var offset = 0
    var line = 1
    var column = 1
    var depth = 0

    var position: SourcePosition { SourcePosition(file: file, line: line, column: column) }
    func peek() -> UInt8? { offset < bytes.count ? bytes[offset] : nil }

    mutating func advance() {
        guard offset < bytes.count else { return }
        if bytes[offset] == 0x0A { line += 1; column = 1 } else if bytes[offset] & 0xC0 != 0x80 { column += 1 }
        offset += 1
    }

    mutating func space() {
        while let byte = peek(), byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { advance() }
    }

    func error(_ message: String) -> BakeError { BakeError(message, at: position) }

    mutating func document() throws -> PositionedJSON {
        space()
        let value = try self.value()
        space()
        guard peek() == nil else { throw error("unexpected text after the JSON value") }
        return value
    }

    mutating func value() throws -> PositionedJSON {
        let start = position
        guard let byte = peek() else { throw error("unexpected end of the JSON file") }
        switch byte {
        case UInt8(ascii: "{"):
            depth += 1
            guard depth < 200 else { throw error("JSON nested too deeply") }
            defer { depth -= 1 }
            advance()
            var members: [(key: String, keyPosition: SourcePosition, value: PositionedJSON)] = []
            space()
            if peek() == UInt8(ascii: "}") { advance(); return .object(members, start) }
            while true {
                space()
                let keyPosition = position
                guard peek() == UInt8(ascii: "\"") else { throw error("expected a quoted key") }
                let key = try string()
                space()
                guard peek() == UInt8(ascii: ":") else { throw error("expected ':' after the key \"\(key)\"") }
                advance()
                space()
                members.append((key, keyPosition, try value()))
                space()
                if peek() == UInt8(ascii: ",") { advance(); continue }
                guard peek() == UInt8(ascii: "}") else { throw error("expected ',' or '}' in the object") }
                advance()
                return .object(members, start)
            }
        case UInt8(ascii: "["):
            depth += 1
            guard depth < 200 else { throw error("JSON nested too deeply") }
            defer { depth -= 1 }
            advance()
            var items: [PositionedJSON] = []
            space()
            if peek() == UInt8(ascii: "]") { advance(); return .array(items, start) }
            while true {
                space()
                items.append(try value())
                space()
                if peek() == UInt8(ascii: ",") { advance(); continue }
                guard peek() == UInt8(ascii: "]") else { throw error("expected ',' or ']' in the array") }
                advance()
                return .array(items, start)
            }
        case UInt8(ascii: "\""):
            return .string(try string(), start)
        case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
            for (word, result) in [("true", PositionedJSON.bool(true, start)), ("false", .bool(false, start)), ("null", .null(start))] {
                let utf8 = Array(word.utf8)
                if offset + utf8.count <= bytes.count && Array(bytes[offset..<offset + utf8.count]) == utf8 {
                    for _ in utf8 { advance() }
                    return result
                }
            }
            throw error("unexpected word in JSON")
        default:
            let begin = offset
            while let next = peek(), (next >= 0x30 && next <= 0x39) || [UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(next) { advance() }
            guard offset > begin, let number = Double(String(decoding: bytes[begin..<offset], as: UTF8.self)) else {
                throw BakeError("unexpected character in JSON", at: start)
            }
            return .number(number, start)
        }
    }

    mutating func string() throws -> String {
        let start = position
        advance()
        var out: [UInt8] = []
        while true {
            guard let byte = peek() else { throw BakeError("unterminated string", at: start) }
            advance()
            if byte == UInt8(ascii: "\"") { break }
            if byte < 0x20 { throw error("control character in a JSON string") }
            guard byte == UInt8(ascii: "\\") else { out.append(byte); continue }
            guard let escaped = peek() else { throw BakeError("unterminated string", at: start) }
            advance()
            switch escaped {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var code = try hex4()
                if (0xD800..<0xDC00).contains(code), peek() == UInt8(ascii: "\\") {
                    advance()
                    guard peek() == UInt8(ascii: "u") else { throw error("invalid surrogate pair") }
                    advance()
                    let low = try hex4()
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let scalar = Unicode.Scalar(code) else { throw error("invalid \\u escape") }
                out += Array(String(Character(scalar)).utf8)
            default:
                throw error("invalid escape in a JSON string")
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    mutating func hex4() throws -> UInt32 {
        guard offset + 4 <= bytes.count, let value = UInt32(String(decoding: bytes[offset..<offset + 4], as: UTF8.self), radix: 16) else {
            throw error("invalid \\u escape")
        }
        for _ in 0..<4 { advance() }
        return value
    }
}
