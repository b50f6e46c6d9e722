/// One bake target as buildx models it: every key optional (nil: not set here, so
/// `inherits` and later files fill it in), merged with buildx's rules.
public struct BakeTarget: Sendable, Equatable {
    public var name: String
    public var description: String?
    public var inherits: [String]?
    public var annotations: [String]?
    public var attest: [BakeEntry]?
    public var context: String?
    public var contexts: [String: String]?
    public var dockerfile: String?
    public var dockerfileInline: String?
    /// A nil value is "unset here" (HCL `null`): it does not replace an inherited value.
    public var args: [String: String?]?
    public var labels: [String: String?]?
    public var tags: [String]?
    public var cacheFrom: [BakeEntry]?
    public var cacheTo: [BakeEntry]?
    public var target: String?
    public var secret: [BakeEntry]?
    public var ssh: [BakeEntry]?
    public var platforms: [String]?
    public var output: [BakeEntry]?
    public var pull: Bool?
    public var noCache: Bool?
    public var network: String?
    public var noCacheFilter: [String]?
    public var entitlements: [String]?
    public var extraHosts: [String: String?]?
    /// Where the target was defined (first block), for errors about it.
    public var position: SourcePosition?

    public init(name: String) { self.name = name }

    /// buildx's `Target.Merge`: scalars and most lists replace, `args`/`labels`/`contexts`
    /// merge by key, `annotations`, `attest`, `secret`, `ssh`, `cache-from` append.
    public mutating func merge(_ other: BakeTarget) {
        if let value = other.context { context = value }
        if let value = other.dockerfile { dockerfile = value }
        if let value = other.dockerfileInline { dockerfileInline = value }
        for (key, value) in other.args ?? [:] where value != nil { args = args ?? [:]; args?[key] = value }
        for (key, value) in other.contexts ?? [:] { contexts = contexts ?? [:]; contexts?[key] = value }
        for (key, value) in other.labels ?? [:] where value != nil { labels = labels ?? [:]; labels?[key] = value }
        if let value = other.tags { tags = value }
        if let value = other.target { target = value }
        if let value = other.annotations { annotations = (annotations ?? []) + value }
        if let value = other.attest { attest = EntryRules.lastPer("type", (attest ?? []) + value) }
        if let value = other.secret { secret = EntryRules.lastPer("id", (secret ?? []) + value) }
        if let value = other.ssh { ssh = EntryRules.lastPer("id", (ssh ?? []) + value) }
        if let value = other.platforms { platforms = value }
        if let value = other.cacheFrom { cacheFrom = EntryRules.removeDuplicates((cacheFrom ?? []) + value) }
        if let value = other.cacheTo { cacheTo = value }
        if let value = other.output { output = value }
        if let value = other.pull { pull = value }
        if let value = other.noCache { noCache = value }
        if let value = other.network { network = value }
        if let value = other.noCacheFilter { noCacheFilter = (noCacheFilter ?? []) + value }
        if let value = other.description { description = value }
        if let value = other.entitlements { entitlements = (entitlements ?? []) + value }
        for (key, value) in other.extraHosts ?? [:] where value != nil { extraHosts = extraHosts ?? [:]; extraHosts?[key] = value }
        if other.inherits != nil || inherits != nil { inherits = (inherits ?? []) + (other.inherits ?? []) }
        if position == nil { position = other.position }
    }

    /// buildx's `normalize`: duplicates and empty strings out of the lists, empty contexts out.
    mutating func normalize() {
        func unique(_ list: [String]?) -> [String]? {
            guard let list else { return nil }
            var seen = Set<String>()
            return list.filter { !$0.isEmpty && seen.insert($0).inserted }
        }
        annotations = unique(annotations)
        tags = unique(tags)
        platforms = unique(platforms)
        noCacheFilter = unique(noCacheFilter)
        if network == "host" { entitlements = (entitlements ?? []) + ["network.host"] }
        entitlements = unique(entitlements)
        attest = attest.map { EntryRules.lastPer("type", $0) }.flatMap { $0.isEmpty ? nil : $0 }
        secret = secret.map { EntryRules.lastPer("id", $0) }.flatMap { $0.isEmpty ? nil : $0 }
        cacheFrom = cacheFrom.map(EntryRules.removeDuplicates).flatMap { $0.isEmpty ? nil : $0 }
        cacheTo = cacheTo.map(EntryRules.removeDuplicates).flatMap { $0.isEmpty ? nil : $0 }
        output = output.map(EntryRules.removeDuplicates).flatMap { $0.isEmpty ? nil : $0 }
        contexts = contexts?.filter { !$0.value.isEmpty }
        if contexts?.isEmpty == true { contexts = nil }
    }

    /// The named contexts that are other targets (`target:NAME`), by context name.
    public var linkedTargets: [(context: String, target: String)] {
        (contexts ?? [:]).sorted { $0.key < $1.key }.compactMap { key, value in
            value.hasPrefix("target:") ? (key, String(value.dropFirst("target:".count))) : nil
        }
    }
}

/// A `group`: targets and other groups, built together.
public struct BakeGroup: Sendable, Equatable {
    public var name: String
    public var description: String?
    public var targets: [String]
    public var position: SourcePosition?

    public init(name: String, description: String? = nil, targets: [String], position: SourcePosition? = nil) {
        self.name = name
        self.description = description
        self.targets = targets
        self.position = position
    }
}
