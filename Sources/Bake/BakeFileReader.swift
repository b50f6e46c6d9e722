import Foundation

/// A bake definition file as read: its name (as given, for messages) and text.
public struct BakeFile: Sendable {
    public var name: String
    public var text: String

    public init(name: String, text: String) {
        self.name = name
        self.text = text
    }
}

/// Every target and group of the files, in file order, before any target is resolved.
public struct BakeConfig: Sendable {
    public var targets: [BakeTarget] = []
    public var groups: [BakeGroup] = []

    public init(targets: [BakeTarget] = [], groups: [BakeGroup] = []) {
        self.targets = targets
        self.groups = groups
    }

    public func target(_ name: String) -> BakeTarget? { targets.first { $0.name == name } }
    public func group(_ name: String) -> BakeGroup? { groups.first { $0.name == name } }

    /// buildx's `mergeConfig`: a later file's target merges into the earlier one of that name,
    /// a group's targets are added to the earlier group's.
    /// `replacingGroups`: HCL and JSON files decode over compose files, so their group of a
    /// name replaces the compose one (buildx's `default` group of an HCL file wins).
    mutating func merge(_ other: BakeConfig, replacingGroups: Bool = false) {
        for group in other.groups {
            if let at = groups.firstIndex(where: { $0.name == group.name }), replacingGroups {
                groups[at] = group
            } else if let at = groups.firstIndex(where: { $0.name == group.name }) {
                for name in group.targets where !groups[at].targets.contains(name) { groups[at].targets.append(name) }
            } else {
                groups.append(group)
            }
        }
        for target in other.targets {
            if let at = targets.firstIndex(where: { $0.name == target.name }) { targets[at].merge(target) } else { targets.append(target) }
        }
    }
}

/// Reads bake files as buildx does: compose files (`.yml`/`.yaml`, or anything that reads as
/// compose) by their `build:` sections, JSON and HCL files as one merged HCL body whose
/// variables take their values from the environment.
public enum BakeFileReader {
    /// `dotEnv`: the text of the working directory's `.env`, which compose files (only) see.
    public static func read(_ files: [BakeFile], environment: [String: String], dotEnv: String? = nil) throws -> BakeConfig {
        let composeEnvironment = try dotEnv.map { try DotEnv.merged($0, into: environment) } ?? environment
        var config = BakeConfig()
        var bodies: [HCLBody] = []
        for file in files {
            let lower = file.name.lowercased()
            if lower.hasSuffix(".yml") || lower.hasSuffix(".yaml") {
                config.merge(try ComposeFile.read(file, environment: composeEnvironment))
            } else if lower.hasSuffix(".json") || (!lower.hasSuffix(".hcl") && file.text.trimmingSpaces.hasPrefix("{")) {
                bodies.append(try JSONBakeFile.parse(file.text, file: file.name))
            } else if lower.hasSuffix(".hcl") {
                bodies.append(try HCLParser.parse(file.text, file: file.name))
            } else if let compose = try? ComposeFile.read(file, environment: composeEnvironment), !compose.targets.isEmpty {
                config.merge(compose)
            } else {
                bodies.append(try HCLParser.parse(file.text, file: file.name))
            }
        }
        if !bodies.isEmpty { config.merge(try HCLBakeDecoder(bodies: bodies, environment: environment).decode(), replacingGroups: true) }
        return config
    }
}

/// Turns the HCL bodies of all files into targets and groups: a target defined in several
/// blocks (or files) is their merge, in order; a later group of a name replaces an earlier one.
struct HCLBakeDecoder {
    let bodies: [HCLBody]
    let evaluator: HCLEvaluator

    static let namePattern = "^[a-zA-Z0-9_-]+$"

    init(bodies: [HCLBody], environment: [String: String]) {
        self.bodies = bodies
        evaluator = HCLEvaluator(lookup: { environment[$0] })
    }

    struct MergedBlock {
        var name: String
        var position: SourcePosition
        var attributes: [String: HCLAttribute] = [:]
        var order: [String] = []
    }

    func decode() throws -> BakeConfig {
        var targets: [MergedBlock] = []
        var groups: [MergedBlock] = []
        for body in bodies {
            for attribute in body.attributes { evaluator.attributes[attribute.name] = attribute.expression }
            for block in body.blocks {
                switch block.type {
                case "variable":
                    try variable(block)
                case "function":
                    try function(block)
                case "target", "group":
                    guard block.labels.count == 1, let name = block.labels.first else {
                        throw BakeError("a \(block.type) block takes one name: \(block.type) \"NAME\" { … }", at: block.position)
                    }
                    guard name.range(of: Self.namePattern, options: .regularExpression) != nil else {
                        throw BakeError("invalid \(block.type) name '\(name)': only letters, digits, '_' and '-' are allowed", at: block.position)
                    }
                    if let nested = block.body.blocks.first {
                        throw BakeError("unknown block '\(nested.type)' in \(block.type) '\(name)'", at: nested.position)
                    }
                    // Each block is decoded on its own; blocks of one name merge as buildx merges
                    // targets (`args` by key, most other keys replaced by the later block).
                    var decoded = MergedBlock(name: name, position: block.position)
                    for attribute in block.body.attributes {
                        if decoded.attributes[attribute.name] == nil { decoded.order.append(attribute.name) }
                        decoded.attributes[attribute.name] = attribute
                    }
                    if block.type == "target" { targets.append(decoded) } else { groups.append(decoded) }
                default:
                    throw BakeError("unknown block type '\(block.type)' (known: target, group, variable, function)", at: block.position)
                }
            }
        }
        // `target.NAME.KEY` reads the last block of NAME that sets KEY (as the merge would).
        var referenced: [String: BakeValue] = [:]
        var referencing: [String] = []
        evaluator.targetAttribute = { [evaluator] name, key, position in
            let id = "\(name).\(key)"
            if let value = referenced[id] { return value }
            guard targets.contains(where: { $0.name == name }) else { throw BakeError("target.\(name): no target '\(name)' is defined", at: position) }
            if key == "name" { return .string(name) }
            guard !referencing.contains(id) else {
                throw BakeError("target attributes refer to themselves (\((referencing + [id]).joined(separator: " → ")))", at: position)
            }
            guard let attribute = targets.last(where: { $0.name == name && $0.attributes[key] != nil })?.attributes[key] else { return .null }
            referencing.append(id)
            defer { referencing.removeLast() }
            let value = try evaluator.evaluate(attribute.expression, scope: [:])
            referenced[id] = value
            return value
        }
        // Every variable is evaluated, used or not, as buildx does (a cycle is an error either way).
        for name in evaluator.variables.keys.sorted() {
            if let definition = evaluator.variables[name] { _ = try evaluator.variable(name, at: definition.position) }
        }
        var config = BakeConfig()
        for group in groups {
            let decoded = try decodeGroup(group)
            if let at = config.groups.firstIndex(where: { $0.name == decoded.name }) { config.groups[at] = decoded } else { config.groups.append(decoded) }
        }
        for target in targets { config.merge(BakeConfig(targets: [try decodeTarget(target)])) }
        return config
    }

    func variable(_ block: HCLBlock) throws {
        guard block.labels.count == 1, let name = block.labels.first else {
            throw BakeError("a variable block takes one name: variable \"NAME\" { default = … }", at: block.position)
        }
        var definition = HCLEvaluator.Variable(name: name, defaultValue: nil, validations: [], position: block.position)
        for attribute in block.body.attributes {
            switch attribute.name {
            case "default": definition.defaultValue = attribute.expression
            case "type": definition.type = try VariableType.parse(attribute.expression)
            case "description", "sensitive": break
            default: throw BakeError("unknown key '\(attribute.name)' in variable '\(name)' (known: default, description, type, validation)", at: attribute.position)
            }
        }
        for inner in block.body.blocks {
            guard inner.type == "validation" else { throw BakeError("unknown block '\(inner.type)' in variable '\(name)'", at: inner.position) }
            guard let condition = inner.body.attributes.first(where: { $0.name == "condition" }) else {
                throw BakeError("variable '\(name)': Condition expression must return either true or false, not null (the validation block has no condition)", at: inner.position)
            }
            definition.validations.append((condition.expression, inner.body.attributes.first { $0.name == "error_message" }?.expression, condition.position))
        }
        evaluator.variables[name] = definition
    }

    func function(_ block: HCLBlock) throws {
        guard block.labels.count == 1, let name = block.labels.first else { throw BakeError("a function block takes one name", at: block.position) }
        var parameters: [String] = []
        var variadic: String?
        var result: HCLExpression?
        for attribute in block.body.attributes {
            switch attribute.name {
            case "params", "variadic_params":
                guard case .tuple(let items, _) = attribute.expression else { throw BakeError("\(attribute.name) must be a list of names", at: attribute.position) }
                let names = try items.map { item -> String in
                    switch item {
                    case .variable(let parameter, _): return parameter
                    case .literal(.string(let parameter), _): return parameter   // JSON: "params": ["inp"]
                    default: throw BakeError("a parameter must be a bare name", at: item.position)
                    }
                }
                if attribute.name == "params" { parameters = names } else { variadic = names.first }
            case "result": result = attribute.expression
            default: throw BakeError("unknown key '\(attribute.name)' in function '\(name)' (known: params, variadic_params, result)", at: attribute.position)
            }
        }
        guard let result else { throw BakeError("function '\(name)' has no result", at: block.position) }
        guard block.body.attributes.contains(where: { $0.name == "params" }) else {
            throw BakeError("function '\(name)' has no params (write params = [] for none)", at: block.position)
        }
        evaluator.functions[name] = HCLEvaluator.UserFunction(parameters: parameters, variadic: variadic, result: result, position: block.position)
    }

    func decodeGroup(_ block: MergedBlock) throws -> BakeGroup {
        var group = BakeGroup(name: block.name, targets: [], position: block.position)
        for key in block.order {
            guard let attribute = block.attributes[key] else { continue }
            let value = try evaluator.evaluate(attribute.expression, scope: [:])
            switch key {
            case "targets": group.targets = try strings(value, attribute) ?? []
            case "description": group.description = try string(value, attribute)
            default: throw BakeError("unknown key '\(key)' in group '\(block.name)' (known: targets, description)", at: attribute.position)
            }
        }
        return group
    }

    static let targetKeys = ["description", "inherits", "annotations", "attest", "context", "contexts", "dockerfile", "dockerfile-inline",
                             "args", "labels", "tags", "cache-from", "cache-to", "target", "secret", "ssh", "platforms", "output", "pull",
                             "no-cache", "network", "no-cache-filter", "entitlements", "extra-hosts"]

    func decodeTarget(_ block: MergedBlock) throws -> BakeTarget {
        var target = BakeTarget(name: block.name)
        target.position = block.position
        for key in block.order {
            guard let attribute = block.attributes[key] else { continue }
            switch key {
            case "matrix", "name":
                throw BakeError("'\(key)' (matrix targets) is not supported by slipway's bake; write the targets out or use a group", at: attribute.position)
            case "shm-size", "ulimits", "call", "resources", "policy":
                throw BakeError("'\(key)' is not supported: slipway builds without a daemon (see `slipway build --help`)", at: attribute.position)
            default: break
            }
            let value = try evaluator.evaluate(attribute.expression, scope: [:])
            if value == .null { continue }
            switch key {
            case "description": target.description = try string(value, attribute)
            case "inherits": target.inherits = try strings(value, attribute)
            case "annotations": target.annotations = try strings(value, attribute)
            case "attest": target.attest = try entries(value, attribute, kind: .attest)
            case "context": target.context = try string(value, attribute)
            case "contexts": target.contexts = try map(value, attribute).mapValues { $0 ?? "" }
            case "dockerfile": target.dockerfile = try string(value, attribute)
            case "dockerfile-inline": target.dockerfileInline = try string(value, attribute)
            case "args": target.args = try map(value, attribute)
            case "labels": target.labels = try map(value, attribute)
            case "tags": target.tags = try strings(value, attribute)
            case "cache-from": target.cacheFrom = try entries(value, attribute, kind: .cache)
            case "cache-to": target.cacheTo = try entries(value, attribute, kind: .cache)
            case "target": target.target = try string(value, attribute)
            case "secret": target.secret = try entries(value, attribute, kind: .secret)
            case "ssh": target.ssh = try entries(value, attribute, kind: .ssh)
            case "platforms": target.platforms = try strings(value, attribute)
            case "output": target.output = try entries(value, attribute, kind: .output)
            case "pull": target.pull = try bool(value, attribute)
            case "no-cache": target.noCache = try bool(value, attribute)
            case "network": target.network = try string(value, attribute)
            case "no-cache-filter": target.noCacheFilter = try strings(value, attribute)
            case "entitlements": target.entitlements = try strings(value, attribute)
            case "extra-hosts": target.extraHosts = try map(value, attribute)
            default:
                throw BakeError("unknown key '\(key)' in target '\(block.name)' (known: \(Self.targetKeys.joined(separator: ", ")))", at: attribute.position)
            }
        }
        return target
    }

    func string(_ value: BakeValue, _ attribute: HCLAttribute) throws -> String {
        guard let text = value.stringValue else { throw BakeError("'\(attribute.name)' must be a string, not a \(value.typeName)", at: attribute.position) }
        return text
    }

    func bool(_ value: BakeValue, _ attribute: HCLAttribute) throws -> Bool {
        switch value {
        case .bool(let flag): return flag
        case .string(let text) where Bool(text.lowercased()) != nil: return Bool(text.lowercased()) ?? false
        default: throw BakeError("'\(attribute.name)' must be a bool, not a \(value.typeName)", at: attribute.position)
        }
    }

    func strings(_ value: BakeValue, _ attribute: HCLAttribute) throws -> [String]? {
        guard case .list(let items) = value else { throw BakeError("'\(attribute.name)' must be a list of strings, not a \(value.typeName)", at: attribute.position) }
        return try items.compactMap { item in
            if item == .null { return nil }
            guard let text = item.stringValue else { throw BakeError("'\(attribute.name)' must be a list of strings; it holds a \(item.typeName)", at: attribute.position) }
            return text
        }
    }

    func map(_ value: BakeValue, _ attribute: HCLAttribute) throws -> [String: String?] {
        guard case .object(let members) = value else { throw BakeError("'\(attribute.name)' must be a map, not a \(value.typeName)", at: attribute.position) }
        var result: [String: String?] = [:]
        for (key, member) in members {
            if member == .null { result[key] = .some(nil); continue }
            guard let text = member.stringValue else { throw BakeError("'\(attribute.name).\(key)' must be a string, not a \(member.typeName)", at: attribute.position) }
            result[key] = text
        }
        return result
    }

    func entries(_ value: BakeValue, _ attribute: HCLAttribute, kind: BakeEntry.Kind) throws -> [BakeEntry] {
        guard case .list(let items) = value else { throw BakeError("'\(attribute.name)' must be a list, not a \(value.typeName)", at: attribute.position) }
        return try items.flatMap { item -> [BakeEntry] in
            switch item {
            case .null: return []
            case .object(let members):
                var attributes: [String: String] = [:]
                for (key, member) in members where member != .null {
                    guard let text = member.stringValue else { throw BakeError("'\(attribute.name)': '\(key)' must be a string", at: attribute.position) }
                    attributes[key] = text
                }
                if kind == .attest, attributes["disabled"] == "false" { attributes["disabled"] = nil }
                if kind != .secret && kind != .ssh, attributes["type"] == nil { throw BakeError("'\(attribute.name)': type is required", at: attribute.position) }
                return [BakeEntry(attributes)]
            default:
                guard let text = item.stringValue else { throw BakeError("'\(attribute.name)' must be a list of strings or objects", at: attribute.position) }
                do { return try BakeEntry.parseList(text, kind: kind) } catch let error as BakeError {
                    throw BakeError("'\(attribute.name)': \(error.message)", at: attribute.position)
                }
            }
        }
    }
}
