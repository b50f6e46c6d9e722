import Builder
import Foundation
import OCI
import Registry

/// `--attest-mode=referrers`: each platform's attestation manifest is pushed beside the
/// image, after it (a referrer must never name a subject the registry lacks), into every
/// repository the image went to, and made findable through the registry's referrers API or
/// the `sha256-<hex>` fallback tag.
extension Publisher {
    public func publishReferrers(_ attestations: [AttestationManifest], from store: ContentStore, to references: [ImageReference],
                                 options: PushOptions) async throws {
        let referrers = attestations.filter { $0.storage == .referrers }
        guard !referrers.isEmpty else { return }
        var repositories: [ImageReference] = []
        for reference in references where !repositories.contains(where: { $0.name == reference.name }) {
            repositories.append(reference.with(tag: nil, digest: nil))
        }
        let onEvent = onEvent
        let pusher = Pusher(store: store, transport: session.transport, credentials: session.credentials,
                            options: options, onEvent: { onEvent(.push($0)) })
        for repository in repositories {
            let client = pusher.client(for: repository.registry)
            for attestation in referrers {
                _ = try await pusher.push(attestation.manifest, to: [repository])
                let data: Data
                do { data = try store.read(attestation.manifest.digest) } catch { throw PublishError.failed("\(error)") }
                var entry = attestation.manifest
                entry.artifactType = MediaType.inToto
                entry.platform = nil
                let indexing = try await client.pushReferrer(data, descriptor: entry, subject: attestation.subject.digest,
                                                             in: repository.repository)
                if case .fallbackTag(let tag) = indexing {
                    onEvent(.push(.manifestPushed(repository: repository.name, descriptor: entry, reference: tag)))
                }
            }
        }
    }
}
