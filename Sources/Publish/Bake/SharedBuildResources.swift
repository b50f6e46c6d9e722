import Builder
import OCI

/// What the builds of one `bake` share: one registry session (connections, credentials, ECR
/// tokens) and one resolution per base image and platform, so targets `FROM` the same image
/// resolve it once between them, even when they run at the same time. The layer cache and the
/// content store are shared through the cache directory already.
public final class SharedBuildResources: Sendable {
    public let session: RegistrySession
    let resolutions = ResolutionMemo()

    public init(_ settings: RegistrySettings) throws {
        session = try RegistrySession(settings)
    }

    /// How many base resolutions went to the registry (the rest were shared).
    public func resolvedCount() async -> Int { await resolutions.count }
}

/// One task per (reference, platform, pull): later callers await the first one's answer.
actor ResolutionMemo {
    private var tasks: [String: Task<ResolvedBase, any Error>] = [:]

    var count: Int { tasks.count }

    func value(_ key: String, _ make: @escaping @Sendable () async throws -> ResolvedBase) async throws -> ResolvedBase {
        if let task = tasks[key] { return try await task.value }
        let task = Task { try await make() }
        tasks[key] = task
        return try await task.value
    }
}

/// A build's base resolver whose answers are shared with the other builds of the command.
struct SharedBaseResolver: BaseImageResolver {
    let inner: RegistryBaseResolver
    let memo: ResolutionMemo
    let pull: Bool

    func resolve(_ reference: String, platform: Platform) async throws -> ResolvedBase {
        let inner = self.inner
        return try await memo.value("\(reference)|\(platform)|\(pull)") { try await inner.resolve(reference, platform: platform) }
    }

    func fetchLayers(_ layers: [Descriptor], of reference: String, into store: ContentStore) async throws {
        try await inner.fetchLayers(layers, of: reference, into: store)
    }
}
