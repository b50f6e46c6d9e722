import Foundation

/// A value of a bake file once evaluated: what HCL and JSON attributes become.
public indirect enum BakeValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case list([BakeValue])
    case object([String: BakeValue])

    /// HCL's automatic conversion to a string (numbers and bools convert; lists do not).
    public var stringValue: String? {
        switch self {
        case .string(let text): return text
        case .bool(let value): return value ? "true" : "false"
        case .number(let number): return Self.format(number)
        default: return nil
        }
    }

    /// Numbers as HCL prints them: integers without a fraction.
    static func format(_ number: Double) -> String {
        if number == number.rounded(), abs(number) < 1e15 { return String(Int64(number)) }
        return String(number)
    }

    var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "bool"
        case .number: return "number"
        case .string: return "string"
        case .list: return "list"
        case .object: return "object"
        }
    }

    /// HCL's truthiness for conditions: only bools (and the strings "true"/"false").
    func boolValue(at position: SourcePosition) throws -> Bool {
        switch self {
        case .bool(let value): return value
        case .string("true"): return true
        case .string("false"): return false
        default: throw BakeError("a bool is required here, not a \(typeName)", at: position)
        }
    }
}
