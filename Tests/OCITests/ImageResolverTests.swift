import Foundation
import TestSupport
import XCTest
@testable import OCI

/// `ImageResolver` over every kind of source: an OCI layout must pick the same manifest a
/// registry does (exact variant preferred, entries normalised, attestations skipped).
final class ImageResolverTests: XCTestCase {
    var root = ""
    /// Every blob written, for the registry-like source.
    var blobs: [Digest: Data] = [:]
    var manifests: [String: Digest] = [:]

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("resolver-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root + "/blobs/sha256", withIntermediateDirectories: true)
        try Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8).write(to: URL(fileURLWithPath: root + "/oci-layout"))
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: root) }

    @discardableResult
    private func put(_ data: Data, _ mediaType: String) throws -> Descriptor {
        let digest = Digest.sha256(of: data)
        try data.write(to: URL(fileURLWithPath: root + "/blobs/sha256/" + digest.hex))
        blobs[digest] = data
        return Descriptor(mediaType: mediaType, digest: digest, size: Int64(data.count))
    }

    /// An image for `os/arch[/variant]` as its config spells it; the index entry carries the
    /// platform exactly as written (not normalised), as buildx and Docker Hub write them.
    private func image(_ platform: String, configType: String = MediaType.imageConfig) throws -> Descriptor {
        let parts = platform.split(separator: "/").map(String.init)
        var config: [String: Any] = ["os": parts[0], "architecture": parts[1], "rootfs": ["type": "layers", "diff_ids": [] as [String]]]
        if parts.count > 2 { config["variant"] = parts[2] }
        let configDescriptor = try put(try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys]), configType)
        var manifest = try put(try CanonicalJSON.encode(Manifest(config: configDescriptor, layers: [])), MediaType.imageManifest)
        manifests[platform] = manifest.digest
        var entry = Platform(os: parts[0], architecture: parts[1])
        entry.architecture = parts[1]
        entry.variant = parts.count > 2 ? parts[2] : nil
        manifest.platform = entry
        return manifest
    }

    private func attestation() throws -> Descriptor {
        var descriptor = try image("unknown/unknown", configType: "application/vnd.in-toto+json")
        descriptor.annotations = ["vnd.docker.reference.type": "attestation-manifest"]
        return descriptor
    }

    /// `multi`: an attestation first, then arm v6, arm v7 and arm64/v8; `single`: one image
    /// whose entry names no platform, next to its attestation.
    private func writeLayout() throws {
        let multi = try put(try CanonicalJSON.encode(Index(manifests: [try attestation(), try image("linux/arm/v6"), try image("linux/arm/v7"),
                                                                       try image("linux/arm64/v8")])), MediaType.imageIndex)
        var only = try image("linux/amd64")
        only.platform = nil
        let single = try put(try CanonicalJSON.encode(Index(manifests: [only, try attestation()])), MediaType.imageIndex)
        var entries: [Descriptor] = []
        for (tag, descriptor) in [("multi", multi), ("single", single)] {
            var entry = descriptor
            entry.annotations = [AnnotationKey.refName: tag]
            entries.append(entry)
        }
        try CanonicalJSON.encode(Index(manifests: entries)).write(to: URL(fileURLWithPath: root + "/index.json"))
    }

    func testLayoutResolvesLikeTheRegistryPath() async throws {
        try writeLayout()
        let layout = try OCILayoutReader(path: root)
        let registry = RegistryLikeSource(tags: ["multi": try layout.select(reference: "multi").digest,
                                                 "single": try layout.select(reference: "single").digest], blobs: blobs)
        let store = ContentStore(readingLayoutAt: URL(fileURLWithPath: root))
        let cases: [(tag: String, wanted: String, expected: String)] = [
            ("multi", "linux/arm/v7", "linux/arm/v7"), ("multi", "linux/arm/v6", "linux/arm/v6"),
            ("multi", "linux/arm", "linux/arm/v7"), ("multi", "linux/arm64", "linux/arm64/v8"),
            ("multi", "linux/aarch64", "linux/arm64/v8"), ("single", "linux/amd64", "linux/amd64"),
        ]
        for (tag, wanted, expected) in cases {
            let platform = try Platform(parsing: wanted)
            let fromLayout = try await ImageResolver.resolve(layout, tag, platform: platform)
            let fromRegistry = try await ImageResolver.resolve(registry, tag, platform: platform)
            let fromStore = try await ImageResolver.resolve(store, try layout.select(reference: tag).digest, platform: platform)
            XCTAssertEqual(fromLayout.manifestDescriptor.digest, manifests[expected], "\(tag) for \(wanted)")
            XCTAssertEqual(fromLayout, fromRegistry, "\(tag) for \(wanted): the layout and the registry agree")
            XCTAssertEqual(fromLayout, fromStore, "\(tag) for \(wanted): the layout and the store agree")
            // The rule the puller used before it went through ImageResolver.
            let index = try CanonicalJSON.decode(Index.self, from: try layout.read(layout.select(reference: tag).digest), what: "index")
            XCTAssertEqual(index.manifest(for: platform)?.digest, manifests[expected])
        }
    }

    func testMissingPlatformListsRunnablePlatformsOnly() async throws {
        try writeLayout()
        let layout = try OCILayoutReader(path: root)
        do {
            _ = try await ImageResolver.resolve(layout, "multi", platform: Platform(parsing: "linux/amd64"))
            XCTFail("resolved a platform the image lacks")
        } catch let error as ImageSelectionError {
            XCTAssertEqual(error, .platformNotFound(wanted: "linux/amd64", available: ["linux/arm/v6", "linux/arm/v7", "linux/arm64"]))
            XCTAssertEqual(error.description, "no linux/amd64 manifest; it has: linux/arm/v6, linux/arm/v7, linux/arm64")
        }
        // A manifest named directly must be the platform asked for (variant included).
        let v6 = try XCTUnwrap(manifests["linux/arm/v6"])
        do {
            _ = try await ImageResolver.resolve(layout, v6.description, platform: Platform(parsing: "linux/arm/v7"))
            XCTFail("a linux/arm/v6 manifest served linux/arm/v7")
        } catch let error as ImageSelectionError {
            XCTAssertEqual(error, .platformNotFound(wanted: "linux/arm/v7", available: ["linux/arm/v6"]))
        }
    }

    func testBlobsAreCopiedVerified() async throws {
        try writeLayout()
        let layout = try OCILayoutReader(path: root)
        let target = try ContentStore(root: URL(fileURLWithPath: root + "-target"))
        defer { try? FileManager.default.removeItem(atPath: root + "-target") }
        let manifest = try XCTUnwrap(manifests["linux/arm/v7"])
        let descriptor = Descriptor(mediaType: MediaType.imageManifest, digest: manifest, size: Int64(blobs[manifest]?.count ?? 0))
        try await layout.copyBlob(descriptor, from: nil, into: target)
        XCTAssertTrue(try target.verify(manifest))
        try Data("tampered".utf8).write(to: URL(fileURLWithPath: layout.blobPath(manifest)))
        let other = try ContentStore(root: URL(fileURLWithPath: root + "-other"))
        defer { try? FileManager.default.removeItem(atPath: root + "-other") }
        do {
            try await layout.copyBlob(descriptor, from: nil, into: other)
            XCTFail("a tampered blob was copied")
        } catch OCIError.digestMismatch {
            XCTAssertFalse(other.contains(manifest))
        }
    }
}

/// What a registry looks like to `ImageResolver`: tags naming roots, content by digest.
private struct RegistryLikeSource: ImageSource {
    let tags: [String: Digest]
    let blobs: [Digest: Data]

    func resolveRoot(_ tag: String) async throws -> FetchedManifest {
        guard let digest = tags[tag], let data = blobs[digest] else { throw OCIError.invalidLayout("no tag \(tag)") }
        return FetchedManifest(local: data, as: Descriptor(mediaType: "", digest: digest, size: -1))
    }

    func manifest(_ descriptor: Descriptor, from _: String) async throws -> FetchedManifest {
        guard let data = blobs[descriptor.digest] else { throw OCIError.blobMissing(descriptor.digest) }
        return FetchedManifest(local: data, as: descriptor)
    }

    func smallBlob(_ descriptor: Descriptor, from _: String) async throws -> Data {
        guard let data = blobs[descriptor.digest] else { throw OCIError.blobMissing(descriptor.digest) }
        return data
    }

    func copyBlob(_ descriptor: Descriptor, from _: String, into store: ContentStore) async throws {
        guard let data = blobs[descriptor.digest] else { throw OCIError.blobMissing(descriptor.digest) }
        try store.put(data, mediaType: descriptor.mediaType)
    }
}
