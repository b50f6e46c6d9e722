/// `--set TARGET.KEY=VALUE` (and `*.KEY`, globs, `KEY+=VALUE` to append), parsed and applied
/// with buildx's keys and rules; the CLI's `--push`, `--load`, `--no-cache`, `--pull`,
/// `--sbom`, `--provenance` become such overrides, as in buildx.
public enum BakeOverrides {
    public struct Item: Sendable {
        /// `args.NAME`, `tags`, `platform`, …
        var key: String
        var value: String?
        var append: Bool
    }

    static let listKeys: Set<String> = ["output", "cache-to", "cache-from", "tags", "platform", "secrets", "ssh", "attest", "entitlements", "network", "annotations"]
    static let knownKeys = ["args", "cache-from", "cache-to", "context", "contexts", "dockerfile", "labels", "load", "no-cache", "no-cache-filter",
                            "output", "platform", "pull", "push", "secrets", "secret", "ssh", "tags", "target", "annotations", "attest", "entitlements", "network"]

    public static func parse(_ overrides: [String], config: BakeConfig, environment: [String: String]) throws -> [String: [Item]] {
        var result: [String: [Item]] = [:]
        for text in overrides {
            let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            var keyText = parts[0]
            let append = keyText.hasSuffix("+")
            if append { keyText.removeLast() }
            let keys = keyText.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            guard keys.count >= 2 else { throw BakeError("--set '\(text)': invalid override key \(keyText), expected target.name") }
            if parts.count != 2 && keys[1] != "args" { throw BakeError("--set '\(text)': invalid override, expected target.name=value") }
            guard knownKeys.contains(keys[1]) else {
                throw BakeError("--set '\(text)': unknown key: \(keys[1]) (known: \(knownKeys.sorted().joined(separator: ", ")))")
            }
            if ["args", "labels", "contexts", "secret"].contains(keys[1]), keys.count != 3 {
                throw BakeError("--set '\(text)': invalid key \(keyText), \(keys[1]) requires name")
            }
            if append && !listKeys.contains(keys[1]) { throw BakeError("--set '\(text)': \(keys[1]) does not support append (+=)") }
            var value = parts.count == 2 ? parts[1] : nil
            if value == nil, keys[1] == "args" {
                guard let fromEnvironment = environment[keys[2]] else { continue }
                value = fromEnvironment
            }
            let item = Item(key: keys.dropFirst().joined(separator: "."), value: value, append: append)
            for name in try expandTargets(keys[0], config: config) { result[name, default: []].append(item) }
        }
        return result
    }

    static func expandTargets(_ pattern: String, config: BakeConfig) throws -> [String] {
        if config.target(pattern) != nil { return [pattern] }
        let names = config.targets.map(\.name).filter { Glob.matches(pattern, $0) }
        guard !names.isEmpty else { throw BakeError("--set: could not find any target matching '\(pattern)'") }
        return names
    }

    /// Applies a target's overrides in order; list keys given several times collect their values.
    static func apply(_ items: [Item], to target: inout BakeTarget) throws {
        // Values of one list key are collected first (buildx keeps one override per key).
        var lists: [String: (values: [String], append: Bool)] = [:]
        var order: [String] = []
        for item in items {
            let head = String(item.key.split(separator: ".", maxSplits: 1).first ?? "")
            if listKeys.contains(head) {
                if lists[item.key] == nil { order.append(item.key) }
                var entry = lists[item.key] ?? ([], false)
                if let value = item.value { entry.values.append(value) }
                entry.append = entry.append || item.append
                lists[item.key] = entry
            } else {
                try applyOne(item.key, item.value ?? "", to: &target)
            }
        }
        for key in order {
            guard let (values, append) = lists[key] else { continue }
            try applyList(key, values, append: append, to: &target)
        }
    }

    static func bool(_ key: String, _ value: String) throws -> Bool {
        switch value.lowercased() {
        case "1", "t", "true": return true
        case "0", "f", "false": return false
        default: throw BakeError("--set: invalid value \(value) for boolean key \(key)")
        }
    }

    static func applyOne(_ key: String, _ value: String, to target: inout BakeTarget) throws {
        let keys = key.split(separator: ".", maxSplits: 1).map(String.init)
        switch keys[0] {
        case "context": target.context = value
        case "dockerfile": target.dockerfile = value
        case "target": target.target = value
        case "args": target.args = target.args ?? [:]; target.args?[keys[1]] = value
        case "labels": target.labels = target.labels ?? [:]; target.labels?[keys[1]] = value
        case "contexts": target.contexts = target.contexts ?? [:]; target.contexts?[keys[1]] = value
        case "no-cache": target.noCache = try bool(key, value)
        case "pull": target.pull = try bool(key, value)
        case "no-cache-filter": target.noCacheFilter = value.split(separator: ",").map(String.init)
        case "secret":
            var entry = try BakeEntry.parse(value.contains("=") ? value : "src=\(value)", kind: .secret)
            entry.attributes["id"] = keys[1]
            target.secret = EntryRules.lastPer("id", (target.secret ?? []) + [entry])
        case "push":
            target.output = pushOverride(target.output ?? [], push: try bool(key, value))
        case "load":
            target.output = loadOverride(target.output ?? [], load: try bool(key, value))
        default:
            throw BakeError("--set: unknown key: \(keys[0])")
        }
    }

    static func applyList(_ key: String, _ values: [String], append: Bool, to target: inout BakeTarget) throws {
        func entries(_ kind: BakeEntry.Kind) throws -> [BakeEntry] { try values.flatMap { try BakeEntry.parseList($0, kind: kind) } }
        switch key {
        case "tags": target.tags = append ? (target.tags ?? []) + values : values
        case "platform": target.platforms = append ? (target.platforms ?? []) + values.flatMap { $0.split(separator: ",").map(String.init) } : values.flatMap { $0.split(separator: ",").map(String.init) }
        case "annotations": target.annotations = (target.annotations ?? []) + values
        case "entitlements": target.entitlements = (target.entitlements ?? []) + values
        case "network": target.network = values.last
        case "attest": target.attest = EntryRules.lastPer("type", (target.attest ?? []) + (try entries(.attest)))
        case "cache-from": target.cacheFrom = append ? EntryRules.removeDuplicates((target.cacheFrom ?? []) + (try entries(.cache))) : try entries(.cache)
        case "cache-to": target.cacheTo = append ? EntryRules.removeDuplicates((target.cacheTo ?? []) + (try entries(.cache))) : try entries(.cache)
        case "output": target.output = append ? EntryRules.removeDuplicates((target.output ?? []) + (try entries(.output))) : try entries(.output)
        case "secrets": target.secret = append ? EntryRules.lastPer("id", (target.secret ?? []) + (try entries(.secret))) : try entries(.secret)
        case "ssh": target.ssh = append ? EntryRules.lastPer("id", (target.ssh ?? []) + (try entries(.ssh))) : try entries(.ssh)
        default: throw BakeError("--set: unknown key: \(key)")
        }
    }

    /// buildx's `setPushOverride`.
    static func pushOverride(_ outputs: [BakeEntry], push: Bool) -> [BakeEntry] {
        var outputs = outputs
        if !push {
            outputs.removeAll { $0.type == "registry" }
            for i in outputs.indices where outputs[i].type == "image" { outputs[i].attributes["push"] = "false" }
            return outputs
        }
        var addImage = true
        for i in outputs.indices {
            if outputs[i].type != "docker" { addImage = false }
            if outputs[i].type == "image" { outputs[i].attributes["push"] = "true" }
        }
        if addImage { outputs.append(BakeEntry(["type": "image", "push": "true"])) }
        return outputs
    }

    /// buildx's `setLoadOverride`.
    static func loadOverride(_ outputs: [BakeEntry], load: Bool) -> [BakeEntry] {
        guard load else { return outputs }
        for output in outputs {
            switch output.type {
            case "docker": if output.attributes["dest"] == nil { return outputs }
            case "image", "registry", "oci": break
            default: return outputs
            }
        }
        return outputs + [BakeEntry(["type": "docker"])]
    }
}
