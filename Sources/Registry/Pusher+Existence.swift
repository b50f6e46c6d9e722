import Foundation
import OCI

/// The parts of a push that ask the registry what it has, and write what it lacks, in waves
/// of concurrent requests rather than one after another: over a network each sequential
/// request costs a round trip, and over HTTP/2 a wave of HEADs costs about one.
extension Pusher {
    /// HEAD requests in flight at once while checking what a repository has.
    static let existenceChecks = 32

    /// The digests among `manifests` that the repository holds (a HEAD by digest each, all at once).
    func presentManifests(_ manifests: [Descriptor], client: RegistryClient, repository: String) async throws -> Set<Digest> {
        let found = try await concurrently(manifests, limit: Self.existenceChecks) { manifest -> Digest? in
            let existing = try await client.manifestExists(manifest.digest.description, in: repository, forPush: true)
            return existing?.digest == manifest.digest ? manifest.digest : nil
        }
        return Set(found.compactMap { $0 })
    }

    /// PUTs missing child manifests by digest: every image manifest at once, then the indexes
    /// among them in the graph's order (children before the indexes that list them).
    func pushManifests(_ missing: [Descriptor], graph: ImageGraph, client: RegistryClient, repository: String) async throws {
        let isIndex: (Descriptor) -> Bool = { MediaType.isIndex(ImageGraph.mediaType(of: $0, data: graph.content[$0.digest] ?? Data())) }
        _ = try await concurrently(missing.filter { !isIndex($0) }, limit: Self.existenceChecks) { manifest in
            try await self.pushManifest(manifest, data: graph.content[manifest.digest]!, client: client, repository: repository,
                                        reference: manifest.digest.description, skipIfPresent: false, isTag: false)
        }
        for index in missing where isIndex(index) {
            try await pushManifest(index, data: graph.content[index.digest]!, client: client, repository: repository,
                                   reference: index.digest.description, skipIfPresent: false, isTag: false)
        }
    }
}

/// Runs `body` for every element with at most `limit` running at once; results in input order.
/// The first error cancels the rest and is thrown.
func concurrently<T: Sendable, R: Sendable>(_ items: [T], limit: Int, _ body: @escaping @Sendable (T) async throws -> R) async throws -> [R] {
    try await withThrowingTaskGroup(of: (Int, R).self) { group in
        var results = [R?](repeating: nil, count: items.count)
        var next = 0
        func startNext() {
            guard next < items.count else { return }
            let index = next
            let item = items[index]
            next += 1
            group.addTask { (index, try await body(item)) }
        }
        for _ in 0..<max(1, limit) { startNext() }
        while let (index, result) = try await group.next() {
            results[index] = result
            startNext()
        }
        return results.compactMap { $0 }
    }
}
