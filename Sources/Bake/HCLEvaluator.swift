import Foundation

/// Evaluates bake expressions: variables (their defaults, overridden by the environment as
/// buildx does), user `function` blocks, the built-in functions and HCL's operators.
/// Variables are evaluated lazily, on first use, so they may refer to each other in any
/// order; a cycle is an error naming the variable.
final class HCLEvaluator {
    struct Variable {
        var name: String
        var defaultValue: HCLExpression?
        var type: VariableType?
        var validations: [(condition: HCLExpression, message: HCLExpression?, position: SourcePosition)]
        var position: SourcePosition
    }

    struct UserFunction {
        var parameters: [String]
        var variadic: String?
        var result: HCLExpression
        var position: SourcePosition
    }

    var variables: [String: Variable] = [:]
    /// Root attributes (`TAG = "x"` outside any block): values, not overridable.
    var attributes: [String: HCLExpression] = [:]
    var functions: [String: UserFunction] = [:]
    /// `target.NAME.KEY`: another target's attribute as written in its block (null when it
    /// sets none), evaluated on first use.
    var targetAttribute: ((_ target: String, _ key: String, _ position: SourcePosition) throws -> BakeValue)?
    let lookup: (String) -> String?
    private var values: [String: BakeValue] = [:]
    private var resolving: [String] = []

    init(lookup: @escaping (String) -> String?) {
        self.lookup = lookup
    }

    /// The value of a variable: the environment's (converted to the default's type), else its
    /// default, else "".
    func variable(_ name: String, at position: SourcePosition) throws -> BakeValue {
        if let value = values[name] { return value }
        if resolving.contains(name) {
            throw BakeError("variable cycle not allowed: \((resolving + [name]).joined(separator: " → "))", at: position)
        }
        guard resolving.count < 256 else {
            throw BakeError("variables refer to each other more than 256 deep (at '\(name)')", at: position)
        }
        resolving.append(name)
        defer { resolving.removeLast() }
        let value: BakeValue
        if let definition = variables[name] {
            // A root attribute of the same name (another file's `NAME = …`) replaces the default.
            var fallback = try (attributes[name] ?? definition.defaultValue).map { try evaluate($0, scope: [:]) }
            if let type = definition.type {
                // Typed: the default is converted to the type, and no default is null.
                do { fallback = try type.convert(fallback ?? .null, at: definition.position) } catch let error as BakeError {
                    throw BakeError("variable '\(name)': invalid type \(type) for the \(name) default value (\(error.message))", at: definition.position)
                }
                // NAME_JSON is the JSON form of NAME (it wins over NAME), unless it is a variable of its own.
                value = try type.fromEnvironment(lookup(name), json: jsonOverride(name), name: name, at: definition.position) ?? fallback ?? .null
            } else if let text = lookup(name) ?? jsonOverride(name) {
                // buildx: an untyped variable takes NAME_JSON, when NAME is unset, as it would take NAME.
                value = try Self.convert(environment: text, like: fallback, name: name, at: definition.position)
            } else {
                value = fallback ?? .string("")
            }
            values[name] = value
            for validation in definition.validations {
                let result = try evaluate(validation.condition, scope: [:])
                let passed: Bool
                do { passed = try result.boolValue(at: validation.position) } catch {
                    throw BakeError("variable '\(name)': Invalid condition result value: a bool is required, not a \(result.typeName)", at: validation.position)
                }
                guard passed else {
                    let message = try validation.message.map { try evaluate($0, scope: [:]).stringValue ?? "" }
                        ?? "This check failed, but has an invalid error message (give the validation an error_message)"
                    throw BakeError("variable '\(name)': \(message)", at: validation.position)
                }
            }
        } else if let expression = attributes[name] {
            value = try evaluate(expression, scope: [:])
            values[name] = value
        } else if let builtin = Self.builtin(name) {
            value = .string(builtin)
        } else {
            throw BakeError("unknown variable '\(name)' (declare it with variable \"\(name)\" { default = … })", at: position)
        }
        return value
    }

    /// The environment's `NAME_JSON`, unless a variable or built-in of that name takes it.
    private func jsonOverride(_ name: String) -> String? {
        let jsonName = name + "_JSON"
        return variables[jsonName] == nil && Self.builtin(jsonName) == nil ? lookup(jsonName) : nil
    }

    static func builtin(_ name: String) -> String? {
        switch name {
        case "BAKE_CMD_CONTEXT": return "cwd://"
        case "BAKE_LOCAL_PLATFORM": return localPlatform
        default: return nil
        }
    }

    static var localPlatform: String {
        #if arch(arm64)
        return "linux/arm64"
        #else
        return "linux/amd64"
        #endif
    }

    /// An environment value takes the type of the default: bools and numbers are parsed,
    /// lists and objects read as JSON (buildx's rules); otherwise it is a string.
    static func convert(environment text: String, like fallback: BakeValue?, name: String, at position: SourcePosition) throws -> BakeValue {
        switch fallback {
        case .bool?:
            switch text.lowercased() {
            case "1", "t", "true": return .bool(true)
            case "0", "f", "false": return .bool(false)
            default: throw BakeError("failed to parse \(name) as bool: '\(text)'", at: position)
            }
        case .number?:
            guard let number = Double(text), number.isFinite else { throw BakeError("failed to parse \(name) as number: '\(text)'", at: position) }
            return .number(number)
        case .list?, .object?:
            // buildx: an untyped list or map variable cannot be set from the environment.
            throw BakeError("variable '\(name)': unsupported type \(fallback?.typeName ?? "") for a value from the environment", at: position)
        default:
            return .string(text)
        }
    }

    // MARK: Expressions

    /// Bounds on what one file may make (its text is small; its values must stay small too,
    /// whatever functions, templates and for expressions multiply).
    static let maximumString = 1 << 20
    static let maximumElements = 1_000_000
    static let maximumBytes = 64 << 20
    private var elementsMade = 0
    private var bytesMade = 0

    func evaluate(_ expression: HCLExpression, scope: [String: BakeValue]) throws -> BakeValue {
        let value = try evaluateUnbounded(expression, scope: scope)
        switch value {
        case .string(let text):
            guard text.utf8.count <= Self.maximumString else {
                throw BakeError("this value is longer than \(Self.maximumString) bytes", at: expression.position)
            }
            bytesMade += text.utf8.count
            guard bytesMade <= Self.maximumBytes else {
                throw BakeError("the file makes more than \(Self.maximumBytes) bytes of strings", at: expression.position)
            }
        case .list(let items):
            elementsMade += items.count
        case .object(let members):
            elementsMade += members.count
        default: break
        }
        guard elementsMade <= Self.maximumElements else {
            throw BakeError("the file makes more than \(Self.maximumElements) list and map elements", at: expression.position)
        }
        return value
    }

    private func evaluateUnbounded(_ expression: HCLExpression, scope: [String: BakeValue]) throws -> BakeValue {
        switch expression {
        case .literal(let value, _):
            return value
        case .template(let parts, let position):
            var text = ""
            for part in parts {
                switch part {
                case .text(let literal): text += literal
                case .interpolation(let inner):
                    let value = try evaluate(inner, scope: scope)
                    guard let piece = value.stringValue else {
                        throw BakeError(value == .null ? "cannot interpolate null into a string" : "cannot interpolate a \(value.typeName) into a string", at: inner.position)
                    }
                    text += piece
                }
            }
            _ = position
            return .string(text)
        case .tuple(let items, _):
            return .list(try items.map { try evaluate($0, scope: scope) })
        case .object(let members, _):
            var object: [String: BakeValue] = [:]
            for member in members {
                let key = try evaluate(member.key, scope: scope)
                guard let name = key.stringValue else { throw BakeError("an object key must be a string, not a \(key.typeName)", at: member.key.position) }
                object[name] = try evaluate(member.value, scope: scope)
            }
            return .object(object)
        case .variable(let name, let position):
            if let value = scope[name] { return value }
            return try variable(name, at: position)
        case .attribute(let base, let name, let position):
            if scope["target"] == nil, let targetAttribute, let targetName = Self.targetReference(base) {
                return try targetAttribute(targetName, name, position)
            }
            let value = try evaluate(base, scope: scope)
            guard case .object(let object) = value else {
                if case .variable("target", _) = base { throw BakeError("references to other targets (target.NAME.…) are not supported", at: position) }
                throw BakeError("cannot read attribute '\(name)' of a \(value.typeName)", at: position)
            }
            guard let member = object[name] else { throw BakeError("the object has no attribute '\(name)'", at: position) }
            return member
        case .index(let base, let key, let position):
            return try index(try evaluate(base, scope: scope), try evaluate(key, scope: scope), at: position)
        case .call(let name, let arguments, let expand, let position):
            return try call(name, arguments, expand: expand, scope: scope, at: position)
        case .unary(let op, let operand, let position):
            let value = try evaluate(operand, scope: scope)
            if op == "!" { return .bool(!(try value.boolValue(at: position))) }
            return .number(-(try number(value, at: position)))
        case .binary(let op, let left, let right, let position):
            return try binary(op, left, right, scope: scope, at: position)
        case .conditional(let condition, let whenTrue, let whenFalse, let position):
            return try evaluate(condition, scope: scope).boolValue(at: position)
                ? try evaluate(whenTrue, scope: scope) : try evaluate(whenFalse, scope: scope)
        case .forExpression(let clause, let position):
            return try forExpression(clause, scope: scope, at: position)
        }
    }

    /// The NAME of `target.NAME` or `target["NAME"]`.
    static func targetReference(_ expression: HCLExpression) -> String? {
        switch expression {
        case .attribute(.variable("target", _), let name, _): return name
        case .index(.variable("target", _), .literal(.string(let name), _), _): return name
        default: return nil
        }
    }

    func index(_ value: BakeValue, _ key: BakeValue, at position: SourcePosition) throws -> BakeValue {
        switch value {
        case .list(let items):
            let number = try self.number(key, at: position)
            guard number == number.rounded(), number >= 0, number < Double(items.count) else {
                throw BakeError("index \(BakeValue.format(number)) is out of range for a list of \(items.count)", at: position)
            }
            return items[Int(number)]
        case .object(let object):
            guard let name = key.stringValue, let member = object[name] else { throw BakeError("the object has no key \(key.stringValue.map { "'\($0)'" } ?? "of that type")", at: position) }
            return member
        default:
            throw BakeError("cannot index a \(value.typeName)", at: position)
        }
    }

    func number(_ value: BakeValue, at position: SourcePosition) throws -> Double {
        switch value {
        case .number(let number): return number
        case .string(let text):
            guard let number = Double(text) else { throw BakeError("'\(text)' is not a number", at: position) }
            return number
        default: throw BakeError("a number is required here, not a \(value.typeName)", at: position)
        }
    }

    func binary(_ op: String, _ left: HCLExpression, _ right: HCLExpression, scope: [String: BakeValue], at position: SourcePosition) throws -> BakeValue {
        let a = try evaluate(left, scope: scope)
        switch op {
        case "&&":
            guard try a.boolValue(at: position) else { return .bool(false) }
            return .bool(try evaluate(right, scope: scope).boolValue(at: position))
        case "||":
            if try a.boolValue(at: position) { return .bool(true) }
            return .bool(try evaluate(right, scope: scope).boolValue(at: position))
        default: break
        }
        let b = try evaluate(right, scope: scope)
        switch op {
        case "==": return .bool(a == b)
        case "!=": return .bool(a != b)
        default: break
        }
        let x = try number(a, at: left.position), y = try number(b, at: right.position)
        switch op {
        case "+": return .number(x + y)
        case "-": return .number(x - y)
        case "*": return .number(x * y)
        case "/":
            guard y != 0 else { throw BakeError("division by zero", at: position) }
            return .number(x / y)
        case "%":
            guard y != 0 else { throw BakeError("modulo by zero", at: position) }
            return .number(x.truncatingRemainder(dividingBy: y))
        case "<": return .bool(x < y)
        case ">": return .bool(x > y)
        case "<=": return .bool(x <= y)
        default: return .bool(x >= y)
        }
    }

    func forExpression(_ clause: ForClause, scope: [String: BakeValue], at position: SourcePosition) throws -> BakeValue {
        let collection = try evaluate(clause.collection, scope: scope)
        var pairs: [(BakeValue, BakeValue)] = []
        switch collection {
        case .list(let items): pairs = items.enumerated().map { (.number(Double($0.offset)), $0.element) }
        case .object(let object): pairs = object.keys.sorted().map { (.string($0), object[$0] ?? .null) }
        default: throw BakeError("a for expression needs a list or an object, not a \(collection.typeName)", at: clause.collection.position)
        }
        var list: [BakeValue] = []
        var object: [String: BakeValue] = [:]
        var grouped: [String: [BakeValue]] = [:]
        for (key, value) in pairs {
            var inner = scope
            inner[clause.valueName] = value
            if let keyName = clause.keyName { inner[keyName] = key }
            if let condition = clause.condition, !(try evaluate(condition, scope: inner).boolValue(at: condition.position)) { continue }
            let result = try evaluate(clause.valueExpression, scope: inner)
            if let keyExpression = clause.keyExpression {
                let keyValue = try evaluate(keyExpression, scope: inner)
                guard let name = keyValue.stringValue else { throw BakeError("an object key must be a string", at: keyExpression.position) }
                if clause.grouping { grouped[name, default: []].append(result) } else {
                    guard object[name] == nil else { throw BakeError("duplicate key '\(name)' in the for expression (add ... to group)", at: position) }
                    object[name] = result
                }
            } else {
                list.append(result)
            }
        }
        if clause.keyExpression == nil { return .list(list) }
        return clause.grouping ? .object(grouped.mapValues { .list($0) }) : .object(object)
    }

    func call(_ name: String, _ arguments: [HCLExpression], expand: Bool, scope: [String: BakeValue], at position: SourcePosition) throws -> BakeValue {
        // `try` and `can` see errors of their arguments, so they take them unevaluated.
        if name == "try" {
            for argument in arguments {
                if let value = try? evaluate(argument, scope: scope) { return value }
            }
            throw BakeError("try(): no argument could be evaluated", at: position)
        }
        if name == "can" {
            guard arguments.count == 1 else { throw BakeError("can() takes one argument", at: position) }
            return .bool((try? evaluate(arguments[0], scope: scope)) != nil)
        }
        var values = try arguments.map { try evaluate($0, scope: scope) }
        if expand, let last = values.popLast() {
            guard case .list(let items) = last else { throw BakeError("'...' needs a list", at: position) }
            values += items
        }
        if let function = functions[name] {
            return try callUser(name, function, values, at: position)
        }
        do {
            return try HCLFunctions.call(name, values)
        } catch let error as HCLFunctions.Failure {
            throw BakeError("\(name)(): \(error.message)", at: position)
        }
    }

    private var callDepth = 0

    func callUser(_ name: String, _ function: UserFunction, _ values: [BakeValue], at position: SourcePosition) throws -> BakeValue {
        guard values.count == function.parameters.count || (function.variadic != nil && values.count >= function.parameters.count) else {
            throw BakeError("\(name)() takes \(function.parameters.count) argument\(function.parameters.count == 1 ? "" : "s"), got \(values.count)", at: position)
        }
        callDepth += 1
        defer { callDepth -= 1 }
        guard callDepth < 100 else { throw BakeError("\(name)(): functions call each other too deeply (a recursion?)", at: position) }
        var scope: [String: BakeValue] = [:]
        for (parameter, value) in zip(function.parameters, values) { scope[parameter] = value }
        if let variadic = function.variadic { scope[variadic] = .list(Array(values.dropFirst(function.parameters.count))) }
        return try evaluate(function.result, scope: scope)
    }
}

extension BakeValue {
    /// A JSON value as a bake value (environment values of list variables, `jsondecode`).
    init(json: PositionedJSON) {
        switch json {
        case .string(let text, _): self = .string(text)
        case .number(let number, _): self = .number(number)
        case .bool(let value, _): self = .bool(value)
        case .null: self = .null
        case .array(let items, _): self = .list(items.map(BakeValue.init(json:)))
        case .object(let members, _):
            var object: [String: BakeValue] = [:]
            for member in members { object[member.key] = BakeValue(json: member.value) }
            self = .object(object)
        }
    }
}
