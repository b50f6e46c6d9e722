@testable import Builder
import Foundation
import HTTP
import TestSupport
import XCTest

/// RUN --mount beyond BuildKit's own tests: what reaches the layer, the sharing modes of
/// cache mounts, and the refusals.
final class RunMountTests: XCTestCase {
    private var keep: BuildFixture?
    private var layout = ""

    override func setUp() async throws {
        let (fixture, path) = try await BusyboxBase.layout()
        keep = fixture
        layout = path
    }

    private func failure(_ dockerfile: String) async throws -> String? {
        await (try BuildFixture()).failure(dockerfile, configure: BusyboxBase.configure(layout))?.description
    }

    func testMountPointsTheRunMadeAreNotInTheLayerButWhatItWroteBesideThemIs() async throws {
        let fixture = try BuildFixture(files: ["ctx.txt": "c\n"])
        let image = try await fixture.build("""
            FROM base AS other
            RUN mkdir /built && echo from-other > /built/file
            FROM base
            RUN --mount=type=cache,target=/a/b/cache --mount=type=tmpfs,target=/a/t --mount=from=other,source=/built,target=/a/o \\
                --mount=source=ctx.txt,target=/a/ctx.txt echo kept > /a/b/sibling && cat /a/o/file /a/ctx.txt > /out \\
                && echo in-cache > /a/b/cache/f && echo in-tmpfs > /a/t/f
            """, configure: BusyboxBase.configure(layout))
        XCTAssertEqual(try image.text("out"), "from-other\nc\n")
        XCTAssertEqual(try image.text("a/b/sibling"), "kept\n", "a stub the RUN wrote into stays, as BuildKit keeps it")
        let names = try image.bsdtarNames(1)
        XCTAssertEqual(names.sorted(), ["a/", "a/b/", "a/b/sibling", "out"], "only what the command wrote outside its mounts")
    }

    func testBindFromAnImageAndACacheSeededFromAStage() async throws {
        let image = try await BuildFixture().build("""
            FROM base AS seed
            RUN mkdir /seed && echo s > /seed/v
            FROM base
            RUN --mount=from=base,source=/etc,target=/i cat /i/passwd > /p
            RUN --mount=type=cache,from=seed,source=/seed,target=/c cat /c/v > /v && echo more >> /c/v
            RUN --mount=type=cache,from=seed,source=/seed,target=/c cat /c/v > /v2
            """, configure: BusyboxBase.configure(layout))
        XCTAssertEqual(try image.text("p")?.hasPrefix("root:x:0:0:"), true)
        XCTAssertEqual(try image.text("v"), "s\n", "the cache starts as the stage's directory")
        XCTAssertEqual(try image.text("v2"), "s\nmore\n", "and is the same cache for the same id and base")
        XCTAssertNil(try image.files()["seed"])
    }

    func testTheSameCommandWithDifferentCacheContentGivesTheSameLayer() async throws {
        let dockerfile = "FROM base\nARG N\nRUN --mount=type=cache,target=/c echo $N >> /c/log && echo done > /done\n"
        let cache = try TemporaryDirectory(prefix: "slipway-run-cache")
        var digests: [String] = []
        for n in 1...2 {
            let image = try await BuildFixture().build(dockerfile) {
                BusyboxBase.configure(self.layout)(&$0)
                $0.buildArgs = ["N": "\(n)"]
                $0.runSettings.cacheMountDirectory = cache.path
            }
            digests.append(image.result.images[0].layers[1].digest.description)
        }
        XCTAssertEqual(digests[0], digests[1], "a cache mount's content does not enter the layer (nor its key: the key is the layer's content)")
        let store = RunCacheStore(directory: cache.path)
        XCTAssertEqual(store.usage().mounts, 1)
    }

    func testCacheMountsPersistAcrossBuildsPerNamespace() async throws {
        let cache = try TemporaryDirectory(prefix: "slipway-run-cache")
        let dockerfile = "FROM base\nARG N\nRUN --mount=type=cache,target=/c (cat /c/log 2>/dev/null || true) > /seen && echo $N >> /c/log\n"
        func seen(_ n: Int, namespace: String? = nil) async throws -> String? {
            let image = try await BuildFixture().build(dockerfile) {
                BusyboxBase.configure(self.layout)(&$0)
                $0.buildArgs = ["N": "\(n)"]
                if let namespace { $0.buildArgs["BUILDKIT_CACHE_MOUNT_NS"] = namespace }
                $0.runSettings.cacheMountDirectory = cache.path
            }
            return try image.text("seen")
        }
        let first = try await seen(1)
        let second = try await seen(2)
        let other = try await seen(3, namespace: "other")
        XCTAssertEqual(first, "")
        XCTAssertEqual(second, "1\n", "the next build sees the cache")
        XCTAssertEqual(other, "", "BUILDKIT_CACHE_MOUNT_NS gives other caches")
    }

    func testSharingModesOfACacheKey() throws {
        let directory = try TemporaryDirectory(prefix: "slipway-run-cache")
        let store = RunCacheStore(directory: directory.path)
        let first = try store.acquire(key: "/k", sharing: .private) { _ in }
        let second = try store.acquire(key: "/k", sharing: .private) { _ in }
        XCTAssertNotEqual(first.path, second.path, "private: a fresh instance while the first is in use")
        second.release()
        let shared = try store.acquire(key: "/k", sharing: .shared) { _ in }
        let sharedToo = try store.acquire(key: "/k", sharing: .shared) { _ in }
        XCTAssertEqual(shared.path, sharedToo.path, "shared users share one instance")
        XCTAssertNotEqual(shared.path, first.path)
        shared.release(); sharedToo.release()
        // locked: waits for the holder instead of taking another instance.
        let order = Locked<[String]>([])
        let done = expectation(description: "locked user got the cache")
        let holder = try store.acquire(key: "/l", sharing: .locked) { _ in }
        DispatchQueue.global().async {
            do {
                let waiter = try store.acquire(key: "/l", sharing: .locked) { _ in }
                order.withLock { $0.append("waiter:" + waiter.path) }
                waiter.release()
            } catch { order.withLock { $0.append("error \(error)") } }
            done.fulfill()
        }
        Thread.sleep(forTimeInterval: 0.3)
        order.withLock { $0.append("holder releases") }
        let holderPath = holder.path
        holder.release()
        wait(for: [done], timeout: 10)
        XCTAssertEqual(order.withLock { $0 }, ["holder releases", "waiter:" + holderPath])
        first.release()
        let pruned = store.prune(all: true)
        XCTAssertEqual(pruned.removed, 3)
        XCTAssertEqual(store.usage().mounts, 0)
    }

    func testRefusals() async throws {
        let ssh = try await failure("FROM base\nRUN --mount=type=ssh true\n")
        XCTAssertEqual(ssh?.hasPrefix("Dockerfile:2: RUN --mount=type=ssh: slipway does not forward SSH agents"), true, ssh ?? "")
        let cases: [(String, String)] = [
            ("FROM base\nRUN --mount=type=cache,target=/ true\n",
             "Dockerfile:2: invalid mount target \"/\""),
            ("FROM base\nRUN --mount=required,type=secret,id=x true\n",
             "Dockerfile:2: unexpected key 'required' for mount type 'bind'"),
            ("FROM base\nRUN --mount=type=bind,target=/x,uid=1 true\n",
             "Dockerfile:2: uid not allowed for \"bind\" type mounts"),
            ("FROM base\nRUN --mount=type=tmpfs,target=/x,sharing=locked true\n",
             "Dockerfile:2: invalid cache sharing set for tmpfs mount"),
            ("FROM base\nRUN --mount=type=cache,target=/x,sharing=lockd true\n",
             "Dockerfile:2: unsupported sharing value \"lockd\" (did you mean locked?)"),
            ("FROM base\nRUN --mount=type=secret,id=x,from=y true\n",
             "Dockerfile:2: secret mount should not have a from"),
            ("FROM base\nRUN --mount=source=missing,target=/x true\n",
             "Dockerfile:2: RUN --mount source 'missing' not found in build context 'context'"),
        ]
        let later = await (try BuildFixture()).failure("FROM base AS first\nRUN --mount=from=later,target=/x true\nFROM base AS later\n") {
            BusyboxBase.configure(self.layout)(&$0)
            $0.target = "first"
        }
        XCTAssertEqual(later?.description, "Dockerfile:2: cannot mount from stage \"later\" to \"/x\", stage needs to be defined before current command")
        for (dockerfile, expected) in cases {
            let error = try await failure(dockerfile)
            XCTAssertEqual(error, expected, dockerfile)
        }
    }
}
