/// A variable's `type = …` (HCL's type constraints as buildx takes them): the default and an
/// environment value are converted to it, and a typed variable without a default is null.
indirect enum VariableType: Equatable {
    case any, string, number, bool
    case list(VariableType), set(VariableType), map(VariableType)
    case tuple([VariableType])
    case object([String: VariableType])

    static func parse(_ expression: HCLExpression) throws -> VariableType {
        switch expression {
        case .variable("any", _): return .any
        case .variable("string", _): return .string
        case .variable("number", _): return .number
        case .variable("bool", _): return .bool
        case .call(let name, let arguments, false, let position) where ["list", "set", "map", "tuple", "object"].contains(name):
            guard arguments.count == 1 else { throw BakeError("\(name)(…) takes one type", at: position) }
            switch (name, arguments[0]) {
            case ("list", let inner): return .list(try parse(inner))
            case ("set", let inner): return .set(try parse(inner))
            case ("map", let inner): return .map(try parse(inner))
            case ("tuple", .tuple(let items, _)): return .tuple(try items.map(parse))
            case ("object", .object(let members, _)):
                var fields: [String: VariableType] = [:]
                for member in members {
                    guard case .literal(.string(let key), _) = member.key else { throw BakeError("an object type's keys are names", at: member.key.position) }
                    fields[key] = try parse(member.value)
                }
                return .object(fields)
            default: throw BakeError("\(name)(…) takes \(name == "tuple" ? "a list of types" : "an object of types")", at: position)
            }
        default:
            throw BakeError("not a valid type (the types are any, string, number, bool, list(T), set(T), map(T), tuple([…]), object({…}))", at: expression.position)
        }
    }

    var isPrimitive: Bool { self == .string || self == .number || self == .bool }

    /// `value` as this type (numbers and bools convert to and from strings, as HCL converts,
    /// unless `strict`: JSON values must have the type already).
    func convert(_ value: BakeValue, at position: SourcePosition, strict: Bool = false) throws -> BakeValue {
        if value == .null { return .null }
        if strict {
            switch (self, value) {
            case (.string, .string), (.number, .number), (.bool, .bool), (.any, _): break
            case (.string, _), (.number, _), (.bool, _): throw BakeError("a \(value.typeName) is not a \(self)", at: position)
            default: break
            }
        }
        func mismatch() -> BakeError { BakeError("a \(value.typeName) is not a \(self)", at: position) }
        switch self {
        case .any: return value
        case .string:
            guard let text = value.stringValue else { throw mismatch() }
            return .string(text)
        case .number:
            switch value {
            case .number: return value
            case .string(let text): if let number = Double(text), number.isFinite { return .number(number) }
            default: break
            }
            throw mismatch()
        case .bool:
            switch value {
            case .bool: return value
            case .string("true"): return .bool(true)
            case .string("false"): return .bool(false)
            default: throw mismatch()
            }
        case .list(let element), .set(let element):
            guard case .list(let items) = value else { throw mismatch() }
            var converted = try items.map { try element.convert($0, at: position, strict: strict) }
            if case .set = self {
                var unique: [BakeValue] = []
                for item in converted where !unique.contains(item) { unique.append(item) }
                converted = unique
            }
            return .list(converted)
        case .map(let element):
            guard case .object(let members) = value else { throw mismatch() }
            return .object(try members.mapValues { try element.convert($0, at: position, strict: strict) })
        case .tuple(let elements):
            guard case .list(let items) = value, items.count == elements.count else { throw mismatch() }
            return .list(try zip(elements, items).map { try $0.convert($1, at: position, strict: strict) })
        case .object(let fields):
            guard case .object(let members) = value else { throw mismatch() }
            var result: [String: BakeValue] = [:]
            for (key, type) in fields { result[key] = try type.convert(members[key] ?? .null, at: position, strict: strict) }
            return .object(result)
        }
    }

    /// An environment value (buildx's rules for typed variables): primitives as text; lists,
    /// sets and tuples of primitives as CSV, maps of primitives as CSV of `key:value`; other
    /// types only through `NAME_JSON` (JSON), which `json` holds when set.
    func fromEnvironment(_ text: String?, json: String?, name: String, at position: SourcePosition) throws -> BakeValue? {
        if let json {
            var reader = JSONReader(bytes: Array(json.utf8), file: "$\(name)_JSON")
            let parsed: PositionedJSON
            do { parsed = try reader.document() } catch { throw BakeError("failed to parse \(name)_JSON from JSON: \(error)", at: position) }
            do { return try convert(BakeValue(json: parsed), at: position, strict: true) } catch let error as BakeError {
                throw BakeError("Unsuitable value type for \(name)_JSON from JSON as \(self): \(error.message)", at: position)
            }
        }
        guard let text else { return nil }
        func element(_ type: VariableType, _ field: String) throws -> BakeValue {
            do { return try type.convert(.string(field), at: position) } catch {
                throw BakeError("failed to convert \(name) from CSV: failed to parse element '\(field)' as \(type)", at: position)
            }
        }
        func csv(_ what: String) throws -> [String] {
            do { return text.isEmpty ? [] : try BakeEntry.csvFields(text) } catch {
                throw BakeError("failed to parse \(name) \(what) CSV: '\(text)'", at: position)
            }
        }
        switch self {
        case .any, .string: return .string(text)
        case .number, .bool:
            do { return try convert(.string(text), at: position) } catch {
                throw BakeError("failed to parse \(name) as \(self): '\(text)'", at: position)
            }
        case .list(let type) where type.isPrimitive:
            return .list(try csv("from").map { try element(type, $0) })
        case .set(let type) where type.isPrimitive:
            var unique: [BakeValue] = []
            for value in try csv("from").map({ try element(type, $0) }) where !unique.contains(value) { unique.append(value) }
            return .list(unique)
        case .tuple(let types) where types.allSatisfy(\.isPrimitive):
            let fields = try csv("from")
            guard fields.count == types.count else {
                throw BakeError("Unsuitable value type for \(name): \(self) needs \(types.count) values, the CSV has \(fields.count)", at: position)
            }
            let values = try zip(types, fields).map { try element($0, $1) }
            // A string element that reads as a number is no string: CSV cannot say which was meant.
            for (type, value) in zip(types, values) where type == .string {
                if case .string(let field) = value, Double(field) != nil { throw BakeError("Unsuitable value type for \(name): '\(field)' is a number where \(self) has a string", at: position) }
            }
            return .list(values)
        case .map(let type) where type.isPrimitive:
            var members: [String: BakeValue] = [:]
            for pair in try csv("as") {
                let parts = pair.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
                guard parts.count == 2 else { throw BakeError("\(name): '\(pair)': expected one k/v pair (key:value)", at: position) }
                members[parts[0]] = try element(type, parts[1])
            }
            return .object(members)
        default:
            throw BakeError("variable '\(name)': unsupported type \(self) for a value from the environment (give JSON in \(name)_JSON)", at: position)
        }
    }
}

extension VariableType: CustomStringConvertible {
    var description: String {
        switch self {
        case .any: return "any"
        case .string: return "string"
        case .number: return "number"
        case .bool: return "bool"
        case .list(let element): return "list(\(element))"
        case .set(let element): return "set(\(element))"
        case .map(let element): return "map(\(element))"
        case .tuple(let elements): return "tuple([\(elements.map(\.description).joined(separator: ", "))])"
        case .object(let fields): return "object({\(fields.keys.sorted().map { "\($0): \(fields[$0] ?? .any)" }.joined(separator: ", "))})"
        }
    }
}
