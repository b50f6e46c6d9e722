import Foundation
import OCI
import Registry

/// Publishes an image from a content store to references in one or more registries: what
/// `push`, `build --push` and `copy` share. ECR targets log in by themselves, get their
/// repositories created on request and one retry with a fresh token after a 401.
public struct Publisher: Sendable {
    public let session: RegistrySession
    public let onEvent: PublishEventHandler

    public init(session: RegistrySession, onEvent: @escaping PublishEventHandler) {
        self.session = session
        self.onEvent = onEvent
    }

    /// Target references as typed; a malformed one is an invalid argument.
    public static func references(_ texts: [String]) throws -> [ImageReference] {
        try texts.map { text in
            do { return try ImageReference(parsing: text) } catch { throw PublishError.invalidArgument("\(error)") }
        }
    }

    /// Pushes `root` and everything it references, reporting progress, then each published
    /// reference (`REGISTRY/REPO:TAG@sha256:…`), in the order given.
    public func publish(_ root: Descriptor, from store: ContentStore, to references: [ImageReference],
                        options: PushOptions) async throws -> [PushedReference] {
        let settings = session.settings
        if let repositorySettings = settings.createRepository {
            try await ECRRepositories.ensure(references, settings: repositorySettings, credentials: session.credentials, onEvent: onEvent)
        }
        let started = Date()
        let onEvent = onEvent
        let pushed = try await ECRRepositories.retryingUnauthorized(references, credentials: session.credentials,
                                                                    createRepository: settings.createRepository != nil) {
            let pusher = Pusher(store: store, transport: session.transport, credentials: session.credentials,
                                options: options, onEvent: { onEvent(.push($0)) })
            try await ImmutableTagCheck.check(root, references: references, pusher: pusher, credentials: session.credentials)
            return try await pusher.push(root, to: references)
        }
        onEvent(.pushFinished(seconds: Date().timeIntervalSince(started)))
        if let gate = settings.scanGate {
            try await ECRScanGate.enforce(gate, root: root, store: store, references: references, credentials: session.credentials, onEvent: onEvent)
        }
        pushed.forEach { onEvent(.published($0)) }
        return pushed
    }

    /// `push`: an OCI layout (directory or tar, `PATH:TAG` / `PATH@sha256:…`) to references.
    public static func pushLayout(_ source: String, to references: [String], settings: RegistrySettings, jobs: Int,
                                  metadataFile: String?, onEvent: @escaping PublishEventHandler) async throws {
        let input = try await LayoutInput.open(source)
        defer { input.close() }
        let targets = try Publisher.references(references)
        let publisher = Publisher(session: try RegistrySession(settings), onEvent: onEvent)
        let pushed = try await publisher.publish(input.root, from: input.store, to: targets, options: settings.pushOptions(jobs: jobs))
        if let metadataFile {
            try writeAtomically(metadataFile, try PushMetadata.json(pushed, root: input.root))
        }
    }
}
