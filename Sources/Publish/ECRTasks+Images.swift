import AWS
import Foundation
import OCI

/// Housekeeping: listing and deleting images, never breaking an image that stays.
extension ECRTasks {
    /// The images of a repository, newest first; `untagged` keeps those without tags,
    /// `tagPrefix` those with a tag starting with it.
    public func listImages(_ name: String, untagged: Bool, tagPrefix: String?, registryID: String?) async throws -> [ECRImageDetail] {
        let (client, credentials) = try await session()
        var images = try await client.describeAllImages(name, untaggedOnly: untagged, registryID: registryID, credentials: credentials)
        if untagged { images = images.filter { ($0.imageTags ?? []).isEmpty } }
        if let tagPrefix { images = images.filter { ($0.imageTags ?? []).contains { $0.hasPrefix(tagPrefix) } } }
        return images.sorted { ($0.imagePushedAt ?? 0, $0.imageDigest) > ($1.imagePushedAt ?? 0, $1.imageDigest) }
    }

    /// What `delete-images` removes and what it keeps, and why.
    public struct ImageDeletion: Sendable, Hashable, Encodable {
        public struct Kept: Sendable, Hashable, Encodable { public var imageDigest: String; public var reason: String }
        /// Tags removed (the image goes with its last tag).
        public var tags: [String] = []
        /// Images that go: deleted by digest, or with their last tag.
        public var digests: [String] = []
        public var kept: [Kept] = []
        /// Asked for, but not in the repository (already gone: nothing to do).
        public var notFound: [String] = []
        public var failures: [ECRClient.DeleteResult.Failure] = []
        public var dryRun = false
    }

    /// Deletes by tag, by digest and untagged images pushed before `untaggedBefore`, but never
    /// an image that an index staying in the repository references (directly or through
    /// another index it keeps), nor, in the `untaggedBefore` sweep, a referrer (`subject`) of an
    /// image that stays: those are listed as kept. Indexes go first, in their own
    /// BatchDeleteImage calls, so ECR never sees a child deleted before its index.
    public func deleteImages(_ name: String, tags: [String], digests: [String], untaggedBefore: Date?, dryRun: Bool,
                             registryID: String?) async throws -> ImageDeletion {
        let (client, credentials) = try await session()
        let images = try await client.describeAllImages(name, untaggedOnly: false, registryID: registryID, credentials: credentials)
        var plan = ImageDeletion(dryRun: dryRun)
        let byDigest = Dictionary(images.map { ($0.imageDigest, $0) }, uniquingKeysWith: { a, _ in a })
        var byTag: [String: String] = [:]
        for image in images { for tag in image.imageTags ?? [] { byTag[tag] = image.imageDigest } }

        var removed = Set<String>()          // digests whose image goes
        let explicit = Set(digests)
        var tagsToRemove: [String] = []
        for digest in digests {
            if byDigest[digest] == nil { plan.notFound.append(digest) } else { removed.insert(digest) }
        }
        if let untaggedBefore {
            for image in images where (image.imageTags ?? []).isEmpty && (image.imagePushedAt ?? .infinity) < untaggedBefore.timeIntervalSince1970 {
                removed.insert(image.imageDigest)
            }
        }
        var removedTags: [String: Set<String>] = [:]
        for tag in tags {
            guard let digest = byTag[tag] else { plan.notFound.append(tag); continue }
            if removed.contains(digest) { continue }
            tagsToRemove.append(tag)
            removedTags[digest, default: []].insert(tag)
        }
        // An image whose every tag is removed goes with its last tag: no digest delete for it.
        var goneWithTags = Set<String>()
        for (digest, gone) in removedTags where Set(byDigest[digest]?.imageTags ?? []).isSubset(of: gone) {
            removed.insert(digest)
            goneWithTags.insert(digest)
        }

        // Children of every index that stays are kept, and so are referrers (signatures,
        // SBOMs: manifests whose `subject` is an image that stays), transitively.
        let indexes = Set(images.filter { Self.isIndex($0.imageManifestMediaType) }.map(\.imageDigest))
        var children: [String: [String]] = [:]
        var subjects: [String: String] = [:]
        let wanted = indexes.union(removed).sorted()
        if !wanted.isEmpty && !removed.isEmpty {
            struct Referrer: Decodable { struct Subject: Decodable { var digest: String }; var subject: Subject? }
            for manifest in try await client.batchGetImageManifests(name, digests: wanted, registryID: registryID, credentials: credentials) {
                let data = Data(manifest.manifest.utf8)
                if indexes.contains(manifest.digest), let index = try? JSONDecoder().decode(Index.self, from: data) {
                    children[manifest.digest] = index.manifests.map(\.digest.description)
                }
                if let subject = (try? JSONDecoder().decode(Referrer.self, from: data))?.subject?.digest { subjects[manifest.digest] = subject }
            }
        }
        var changed = true
        while changed {
            changed = false
            for (index, refs) in children where !removed.contains(index) {
                for child in refs where removed.contains(child) {
                    removed.remove(child)
                    plan.kept.append(.init(imageDigest: child, reason: "referenced by index \(index), which stays"))
                    changed = true
                }
            }
            // A referrer named by --digest goes as asked; only the age sweep spares them.
            for (referrer, subject) in subjects where removed.contains(referrer) && !explicit.contains(referrer)
                && byDigest[subject] != nil && !removed.contains(subject) {
                removed.remove(referrer)
                plan.kept.append(.init(imageDigest: referrer, reason: "a referrer of \(subject) (its subject), which stays"))
                changed = true
            }
        }
        let keptDigests = Set(plan.kept.map(\.imageDigest))
        tagsToRemove = tagsToRemove.filter { tag in
            guard let digest = byTag[tag], keptDigests.contains(digest) else { return true }
            plan.kept.append(.init(imageDigest: digest, reason: "tag \(tag) not removed: it is the image's last tag and index-referenced"))
            return false
        }
        plan.tags = tagsToRemove
        plan.digests = removed.sorted()
        plan.kept.sort { $0.imageDigest < $1.imageDigest }
        if dryRun { return plan }

        let send = plan.digests.filter { !goneWithTags.contains($0) }
        let first = send.filter { Self.isIndex(byDigest[$0]?.imageManifestMediaType) }
        let rest = send.filter { !Self.isIndex(byDigest[$0]?.imageManifestMediaType) }
        for batch in [tagsToRemove.map(ECRClient.ImageSelector.tag) + first.map(ECRClient.ImageSelector.digest), rest.map(ECRClient.ImageSelector.digest)] where !batch.isEmpty {
            let result = try await client.batchDeleteImage(name, ids: batch, registryID: registryID, credentials: credentials)
            plan.failures += result.failures
        }
        return plan
    }

    static func isIndex(_ mediaType: String?) -> Bool {
        mediaType == MediaType.imageIndex || mediaType == MediaType.dockerManifestList
    }
}
