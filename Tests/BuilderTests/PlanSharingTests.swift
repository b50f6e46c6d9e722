import Foundation
import Layers
import OCI
import TestSupport
import XCTest
@testable import Builder

/// Planning shared between platforms (issue 10, item 5): the plan cache keeps only the newest
/// tree of each chain, so a second platform that reuses plans gets the other layers' entries
/// applied when, and only when, it reads its tree. These check that it always sees them all,
/// and that what the cache keeps does not grow with the instruction count.
final class PlanSharingTests: XCTestCase {
    private var fixture: BuildFixture?

    override func setUpWithError() throws {
        fixture = try BuildFixture(files: ["a": "a", "b": "b", "c": "c", "d": "d",
                                           "passwd": "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001:app:/home/app:/bin/sh\n"])
    }

    override func tearDownWithError() throws { fixture = nil }

    private func build(_ dockerfile: String, keepFileTrees: Bool) async throws -> BuildResult {
        let fixture = try XCTUnwrap(fixture)
        return try await fixture.build(dockerfile, platforms: ["linux/amd64", "linux/arm64"]) { $0.keepFileTrees = keepFileTrees }.result
    }

    private func paths(_ image: BuildResult.PlatformImage) -> [String] { image.tree.allEntries.map(\.path) }

    func testTheSecondPlatformSeesEveryLayerOfAStageItCopiesFrom() async throws {
        // `base`'s trees are superseded by `mid`, so the second platform has base's layers
        // pending and applies them when `COPY --from=base` reads it; the last COPY differs per
        // platform, so it is planned (not shared) on the tree those layers built.
        let result = try await build("""
            FROM scratch AS base
            COPY a /a
            COPY b /b
            COPY c /c
            FROM base AS mid
            COPY d /d
            FROM scratch
            ARG TARGETARCH
            COPY --from=base / /all/
            COPY --from=mid /d /d
            COPY a /arch-$TARGETARCH
            """, keepFileTrees: true)
        XCTAssertEqual(result.images.count, 2)
        for image in result.images {
            XCTAssertEqual(paths(image), ["all", "all/a", "all/b", "all/c", "arch-\(image.platform.architecture)", "d"], "\(image.platform)")
        }
        XCTAssertEqual(result.images[0].layers.dropLast(), result.images[1].layers.dropLast(), "equal plans give equal layers")
    }

    func testChownByNameReadsTheStageTreeOnEveryPlatform() async throws {
        // The second platform reuses the first three plans and reads its tree only at the
        // COPY that differs: /etc/passwd must be there by then.
        let result = try await build("""
            FROM scratch
            ARG TARGETARCH
            COPY passwd /etc/passwd
            COPY a /a
            WORKDIR /w
            COPY --chown=app b owned-$TARGETARCH
            COPY c /c
            """, keepFileTrees: false)
        XCTAssertEqual(result.images.count, 2)
        for image in result.images {
            let owned = "w/owned-\(image.platform.architecture)"
            let layer = try XCTUnwrap(image.layers.dropLast().last)
            let listing = try layerListing(layer.digest, store: result.store)
            XCTAssertEqual(listing, ["w/:0:0", "\(owned):1000:1001"], "\(image.platform)")
        }
        XCTAssertEqual(result.images[0].layers.prefix(3), result.images[1].layers.prefix(3))
    }

    /// Path, uid and gid of every entry of a stored gzip layer, read with python's tarfile.
    private func layerListing(_ digest: Digest, store: ContentStore) throws -> [String] {
        let output = try Run.command("python3", ["-c", """
            import sys, tarfile
            for m in tarfile.open(sys.argv[1]): print(f"{m.name}{'/' if m.isdir() else ''}:{m.uid}:{m.gid}")
            """, store.blobURL(digest).path])
        return output.stdout.split(separator: "\n").map(String.init)
    }

    func testWhatThePlanCacheKeepsDoesNotGrowWithTheInstructions() throws {
        let jobs = LayerJobs()
        var tree = FileTree()
        let start = tree.lineage
        for index in 0..<2000 {
            let entries = [LayerEntry(path: "f\(index)", kind: .regularFile(.bytes([1])), mode: 0o644)]
            _ = jobs.commit(entries, to: &tree, key: "copy\(index)")
        }
        XCTAssertEqual(jobs.retainedTrees, 1, "one tree per chain, not one per instruction")
        var one = FileTree()
        one.advanceLineage(job: 0)
        XCTAssertEqual(tree.lineage.utf8.count, one.lineage.utf8.count, "a lineage has the same size after 2,000 layers as after one")
        XCTAssertNotEqual(tree.lineage, start)
        XCTAssertEqual(tree.allEntries.count, 2000)
        let shared = try XCTUnwrap(jobs.cachedPlan("copy1999")?.tree)
        XCTAssertEqual(shared.allEntries.count, 2000, "the newest tree is shared whole")
        XCTAssertNil(jobs.cachedPlan("copy1998")?.tree, "an older one is not kept")
        XCTAssertEqual(jobs.cachedPlan("copy1998")?.entries.map(\.path), ["f1998"], "its layer is, to apply when read")
    }
}
