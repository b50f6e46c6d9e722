import Foundation

/// What `bake TARGET…` builds: the resolved targets by name (inherits applied, `--set`
/// overrides applied, defaults filled in) and the groups that were named, as buildx's
/// `ReadTargets` returns them.
public struct BakePlan: Sendable {
    public var targets: [String: BakeTarget]
    public var groups: [String: BakeGroup]
    /// Targets built only because another target uses them as a `target:` context.
    public var linked: Set<String>
}

/// buildx's target resolution: groups expanded (nested groups too), `inherits` applied in
/// order, `--set` overrides, then `target:NAME` contexts pulled in. Circular `inherits`,
/// groups and contexts are refused, naming the cycle.
public struct BakeResolver {
    public let config: BakeConfig
    let environment: [String: String]

    public init(config: BakeConfig, environment: [String: String] = [:]) {
        self.config = config
        self.environment = environment
    }

    public func resolve(_ requested: [String], overrides: [String]) throws -> BakePlan {
        var names: [String] = []
        for request in requested.isEmpty ? ["default"] : requested {
            for name in try matchNames(request.replacingOccurrences(of: ".", with: "_")) where !names.contains(name) { names.append(name) }
        }
        let parsedOverrides = try BakeOverrides.parse(overrides, config: config, environment: environment)
        var targets: [String: BakeTarget] = [:]
        var groups: [String: BakeGroup] = [:]
        for name in names {
            let (targetNames, groupNames) = try expand(name, path: [])
            for targetName in targetNames where targets[targetName] == nil {
                targets[targetName] = try resolveTarget(targetName, overrides: parsedOverrides)
            }
            for groupName in groupNames { if let group = config.group(groupName) { groups[groupName] = group } }
        }
        // buildx's `default` group: the names asked for (a `default` group of the file keeps
        // its targets, and other names asked for join it).
        let fileDefault = groups["default"] != nil
        var defaultGroup = groups["default"] ?? BakeGroup(name: "default", targets: [])
        for name in names where !(fileDefault && name == "default") { defaultGroup.targets.append(name) }
        defaultGroup.targets = Array(Set(defaultGroup.targets)).sorted()
        groups["default"] = defaultGroup
        var linked = Set<String>()
        for name in targets.keys.sorted() {
            guard let target = targets[name] else { continue }
            try loadLinks(name, target, into: &targets, linked: &linked, overrides: parsedOverrides, path: [])
        }
        return BakePlan(targets: targets, groups: groups, linked: linked)
    }

    /// Glob patterns (`*`, `?`, `[…]`) select every matching group and target.
    func matchNames(_ pattern: String) throws -> [String] {
        guard pattern.contains(where: { "*?[]".contains($0) }) else { return [pattern] }
        let names = (config.groups.map(\.name) + config.targets.map(\.name)).filter { Glob.matches(pattern, $0) }
        guard !names.isEmpty else { throw BakeError("could not find any target matching '\(pattern)'") }
        return names
    }

    /// A group's targets (through nested groups) and the groups seen; a name that is no
    /// group is a target.
    func expand(_ name: String, path: [String]) throws -> ([String], [String]) {
        guard let group = config.group(name) else { return ([name], []) }
        // A group may list a target of its own name (`group "foo" { targets = ["foo"] }`).
        if path.last == name || path.contains(name), config.target(name) != nil { return ([name], []) }
        if path.contains(name) {
            throw BakeError("group '\(name)' includes itself (\((path + [name]).joined(separator: " → ")))", at: group.position)
        }
        var targets: [String] = []
        var groups = [name]
        for member in group.targets {
            let (innerTargets, innerGroups) = try expand(member, path: path + [name])
            for target in innerTargets where !targets.contains(target) { targets.append(target) }
            for inner in innerGroups where !groups.contains(inner) { groups.append(inner) }
        }
        return (targets, groups)
    }

    public func resolveTarget(_ name: String, overrides: [String: [BakeOverrides.Item]]) throws -> BakeTarget {
        var target = try inherited(name, overrides: overrides, path: [])
        target.inherits = nil
        if target.context == nil { target.context = "." }
        if target.dockerfile?.isEmpty ?? true { target.dockerfile = "Dockerfile" }
        return target
    }

    func inherited(_ name: String, overrides: [String: [BakeOverrides.Item]], path: [String]) throws -> BakeTarget {
        guard let own = config.target(name) else {
            if let from = path.last, let parent = config.target(from) {
                throw BakeError("target '\(from)' inherits from '\(name)', which is not defined", at: parent.position)
            }
            throw BakeError("failed to find target \(name) (defined: \(config.targets.map(\.name).joined(separator: ", ")))")
        }
        if path.contains(name) {
            throw BakeError("target '\(name)' inherits from itself (\((path + [name]).joined(separator: " → ")))", at: own.position)
        }
        var base = BakeTarget(name: name)
        for parent in own.inherits ?? [] {
            var inheritedTarget = try inherited(parent, overrides: overrides, path: path + [name])
            inheritedTarget.inherits = nil
            base.merge(inheritedTarget)
        }
        var merged = BakeTarget(name: name)
        merged.merge(base)
        merged.merge(own)
        merged.name = name
        merged.position = own.position
        try BakeOverrides.apply(overrides[name] ?? [], to: &merged)
        merged.normalize()
        return merged
    }

    func loadLinks(_ name: String, _ target: BakeTarget, into targets: inout [String: BakeTarget], linked: inout Set<String>,
                   overrides: [String: [BakeOverrides.Item]], path: [String]) throws {
        let path = path + [name]
        for (_, other) in target.linkedTargets {
            if other == name { throw BakeError("target \(name) cannot link to itself", at: target.position) }
            if path.contains(other) { throw BakeError("infinite loop from \(name) to \(other) (\((path + [other]).joined(separator: " → ")))", at: target.position) }
            var dependency: BakeTarget
            if let existing = targets[other] {
                dependency = existing
            } else {
                dependency = try resolveTarget(other, overrides: overrides)
                dependency.output = [BakeEntry(["type": "cacheonly"])]
                targets[other] = dependency
                linked.insert(other)
            }
            try loadLinks(other, dependency, into: &targets, linked: &linked, overrides: overrides, path: path)
            if let own = target.platforms, let theirs = dependency.platforms, own.count > 1, theirs.count > 1, !own.allSatisfy(theirs.contains) {
                throw BakeError("target \(other) can't be used by \(name) because its platforms \(own) are not a subset of \(theirs)", at: target.position)
            }
        }
    }
}

/// Go's `path.Match` through fnmatch(3) without FNM_PATHNAME differences that matter for
/// target names (which have no '/').
enum Glob {
    static func matches(_ pattern: String, _ name: String) -> Bool {
        fnmatch(pattern, name, 0) == 0
    }
}
