import Foundation

/// One entry of `imageTagMutabilityExclusionFilters`: a tag pattern exempt from the
/// repository's tag mutability. ECR knows one type, `WILDCARD` (`*` matches any run of
/// characters, everything else itself).
public struct ECRTagExclusionFilter: Sendable, Hashable, Codable {
    public var filterType: String
    public var filter: String

    public init(wildcard filter: String) {
        filterType = "WILDCARD"
        self.filter = filter
    }

    /// ECR's limits: 1 to 5 filters, each `^[0-9a-zA-Z._*-]{1,128}$`.
    public static let maximumCount = 5

    /// Why `filter` would be refused by ECR, or nil when it is valid.
    public static func problem(_ filter: String) -> String? {
        guard (1...128).contains(filter.count) else { return "'\(filter)' must be 1 to 128 characters" }
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._*-")
        guard filter.allSatisfy(allowed.contains) else { return "'\(filter)' may hold only letters, digits, '.', '_', '-' and '*'" }
        return nil
    }

    /// Whether `tag` matches the wildcard pattern.
    public func matches(_ tag: String) -> Bool { Wildcard.matches(Array(filter.utf8), Array(tag.utf8)) }
}

/// `*`-only glob matching (ECR's WILDCARD filters, repository filters and lifecycle tag patterns).
public enum Wildcard {
    public static func matches(_ pattern: String, _ text: String) -> Bool { matches(Array(pattern.utf8), Array(text.utf8)) }

    static func matches(_ pattern: [UInt8], _ text: [UInt8]) -> Bool {
        var p = 0, t = 0, star = -1, mark = 0
        while t < text.count {
            if p < pattern.count && pattern[p] == UInt8(ascii: "*") {
                star = p; mark = t; p += 1
            } else if p < pattern.count && pattern[p] == text[t] {
                p += 1; t += 1
            } else if star >= 0 {
                p = star + 1; mark += 1; t = mark
            } else {
                return false
            }
        }
        while p < pattern.count && pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.count
    }
}

extension ECRRepository {
    /// Whether a push to `tag` may not move it: `IMMUTABLE` always, `IMMUTABLE_WITH_EXCLUSION`
    /// unless a filter matches, `MUTABLE_WITH_EXCLUSION` only when one matches.
    public func isImmutable(tag: String) -> Bool {
        let matched = (imageTagMutabilityExclusionFilters ?? []).contains { $0.matches(tag) }
        switch (imageTagMutability ?? "MUTABLE").uppercased() {
        case "IMMUTABLE": return true
        case "IMMUTABLE_WITH_EXCLUSION": return !matched
        case "MUTABLE_WITH_EXCLUSION": return matched
        default: return false
        }
    }

    /// `IMMUTABLE_WITH_EXCLUSION (mutable: latest, dev-*)`, `MUTABLE`, …
    public var mutabilityDescription: String {
        let mode = (imageTagMutability ?? "MUTABLE").uppercased()
        let filters = (imageTagMutabilityExclusionFilters ?? []).map(\.filter)
        guard !filters.isEmpty else { return mode }
        return "\(mode) (\(mode.hasPrefix("IMMUTABLE") ? "mutable" : "immutable"): \(filters.joined(separator: ", ")))"
    }
}

extension ECRRepositorySettings {
    /// `--image-tag-mutability` with `--mutable-tag` (exempt from IMMUTABLE) or
    /// `--immutable-tag` (exempt from MUTABLE): the `…_WITH_EXCLUSION` form ECR stores. A
    /// mode given with filters must agree with them; filters are checked against ECR's limits.
    public static func tagMutability(_ mode: String?, mutableTags: [String], immutableTags: [String]) throws -> (Mutability?, [String]) {
        var mutability: Mutability?
        if let mode {
            guard let value = Mutability(rawValue: mode.uppercased()) else {
                throw AWSError.invalidRequest("--image-tag-mutability must be MUTABLE, IMMUTABLE, IMMUTABLE_WITH_EXCLUSION or MUTABLE_WITH_EXCLUSION")
            }
            mutability = value
        }
        if !mutableTags.isEmpty && !immutableTags.isEmpty {
            throw AWSError.invalidRequest("use --mutable-tag (exceptions of an immutable repository) or --immutable-tag (exceptions of a mutable one), not both")
        }
        let filters = mutableTags.isEmpty ? immutableTags : mutableTags
        if filters.isEmpty {
            if let mutability, mutability == .immutableWithExclusion || mutability == .mutableWithExclusion {
                throw AWSError.invalidRequest("\(mutability.rawValue) needs its exceptions: --\(mutability == .immutableWithExclusion ? "mutable" : "immutable")-tag PATTERN (repeatable)")
            }
            return (mutability, [])
        }
        let wanted: Mutability = mutableTags.isEmpty ? .mutableWithExclusion : .immutableWithExclusion
        let compatible: Set<Mutability> = wanted == .immutableWithExclusion ? [.immutable, .immutableWithExclusion] : [.mutable, .mutableWithExclusion]
        if let mutability, !compatible.contains(mutability) {
            throw AWSError.invalidRequest("--\(mutableTags.isEmpty ? "immutable" : "mutable")-tag does not go with --image-tag-mutability \(mutability.rawValue)")
        }
        guard filters.count <= ECRTagExclusionFilter.maximumCount else {
            throw AWSError.invalidRequest("ECR allows at most \(ECRTagExclusionFilter.maximumCount) tag exclusion filters (\(filters.count) given)")
        }
        for filter in filters {
            if let problem = ECRTagExclusionFilter.problem(filter) { throw AWSError.invalidRequest("tag filter \(problem)") }
        }
        var unique: [String] = []
        for filter in filters where !unique.contains(filter) { unique.append(filter) }
        return (wanted, unique)
    }

    /// How `mutability` and its exclusions read in messages.
    public var mutabilityDescription: String? {
        guard let mutability else { return nil }
        var repository = ECRRepository(repositoryName: "")
        repository.imageTagMutability = mutability.rawValue
        repository.imageTagMutabilityExclusionFilters = mutabilityExclusions.map(ECRTagExclusionFilter.init(wildcard:))
        return repository.mutabilityDescription
    }
}

extension ECRClient {
    /// PutImageTagMutability with exclusion filters (an empty list for the plain forms).
    public func putImageTagMutability(_ repository: String, _ mutability: ECRRepositorySettings.Mutability, exclusions: [String],
                                      registryID: String? = nil, credentials: AWSCredentials) async throws {
        struct Input: Encodable {
            var repositoryName: String
            var registryId: String?
            var imageTagMutability: String
            var imageTagMutabilityExclusionFilters: [ECRTagExclusionFilter]?
        }
        struct Output: Decodable {}
        let filters = exclusions.isEmpty ? nil : exclusions.map(ECRTagExclusionFilter.init(wildcard:))
        _ = try await rpc.call("PutImageTagMutability", Input(repositoryName: repository, registryId: registryID, imageTagMutability: mutability.rawValue,
                                                              imageTagMutabilityExclusionFilters: filters),
                               as: Output.self, credentials: credentials)
    }
}
