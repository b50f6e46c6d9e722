import Foundation
import TestSupport
import XCTest

/// Issue 10 item 4: an interrupted build leaves no partial file in the cache and no scratch
/// directory, and exits as interrupted; `cache prune` removes what a killed run left; the
/// cache stays under its size bound instead of growing by a copy per build.
final class CacheSafetyTests: XCTestCase {
    var work = ""

    override func setUpWithError() throws { work = try Run.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    private func entries(_ directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    }

    /// A context with one file of `megabytes` random bytes: incompressible, so its layer is
    /// written for a while.
    private func randomContext(_ name: String, megabytes: Int) throws -> String {
        let context = work + "/" + name
        try Run.write(["Dockerfile": "FROM scratch\nCOPY big.bin /big.bin\n"], under: context)
        try Run.mustShell("head -c \(megabytes << 20) /dev/urandom > \(Run.quoted(context + "/big.bin"))")
        return context
    }

    func testCtrlCMidLayerRemovesPartialFilesAndScratchAndExits130() throws {
        let context = try randomContext("ctx", megabytes: 400)
        try interrupt(context, signal: "INT", status: 130)
        try interrupt(context, signal: "TERM", status: 143)
    }

    /// Builds `context`, sends `signal` once the layer's partial file in the cache has grown
    /// past 4 MiB, and checks what is left.
    private func interrupt(_ context: String, signal: String, status: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        let run = work + "/" + signal
        let cache = run + "/cache", tmp = run + "/tmp"
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        // Job control on (set -m): a background job keeps SIGINT, as under an interactive shell.
        let script = """
        set -m
        TMPDIR=\(Run.quoted(tmp)) \(Run.quoted(Run.slipway)) build --progress plain --cache-dir \(Run.quoted(cache)) \
            --output type=oci,dest=\(Run.quoted(run + "/out.tar")) \(Run.quoted(context)) 2>\(Run.quoted(run + "/stderr")) &
        pid=$!
        for _ in $(seq 600); do
            if [ -n "$(find \(Run.quoted(cache + "/store/ingest")) -type f -size +4M 2>/dev/null)" ]; then break; fi
            sleep 0.05
        done
        ls -la \(Run.quoted(cache + "/store/ingest")) \(Run.quoted(tmp)) >&2
        kill -\(signal) $pid
        wait $pid
        echo "status=$?"
        """
        let out = try Run.command("bash", ["-c", script])
        let stderr = (try? String(contentsOfFile: run + "/stderr", encoding: .utf8)) ?? ""
        XCTAssertTrue(out.stderr.contains("slipway-"), "\(signal): no scratch directory while building (sent too late?): \(out.stderr)", file: file, line: line)
        XCTAssertTrue(out.stdout.contains("status=\(status)"), "\(signal): \(out.stdout)\n\(stderr)", file: file, line: line)
        XCTAssertEqual(entries(cache + "/store/ingest"), [], "\(signal): partial files left in the cache", file: file, line: line)
        XCTAssertEqual(entries(tmp).filter { $0.hasPrefix("slipway-") }, [], "\(signal): scratch directories left in TMPDIR", file: file, line: line)
        XCTAssertFalse(FileManager.default.fileExists(atPath: run + "/out.tar"), file: file, line: line)
        XCTAssertFalse(stderr.contains("error:"), stderr, file: file, line: line)
    }

    func testCachePruneRemovesPartialFilesOfKilledRuns() throws {
        let cache = work + "/cache"
        try Run.write(["Dockerfile": "FROM scratch\nCOPY a.txt /a.txt\n", "a.txt": "a\n"], under: work + "/ctx")
        try Run.slipway(["build", "--cache-dir", cache, "--output", "type=oci,dest=\(work)/out.tar", work + "/ctx"])
        // What `kill -9` mid-layer leaves: a partial file named by a process that is gone,
        // written a moment ago.
        let partial = cache + "/store/ingest/999999-\(UUID().uuidString)"
        try Data(count: 1 << 20).write(to: URL(fileURLWithPath: partial))
        let out = try Run.slipway(["cache", "prune", "--cache-dir", cache])
        XCTAssertFalse(FileManager.default.fileExists(atPath: partial), "cache prune kept the partial file")
        XCTAssertTrue(out.stdout.contains("removed 1 partial file of interrupted runs (1.0 MiB)"), out.stdout)
        // And a build clears them too on its way in.
        try Data(count: 1 << 20).write(to: URL(fileURLWithPath: partial))
        try Run.slipway(["build", "--cache-dir", cache, "--output", "type=oci,dest=\(work)/out2.tar", work + "/ctx"])
        XCTAssertEqual(entries(cache + "/store/ingest"), [])
    }

    func testTheCacheStaysUnderItsBoundDroppingTheOldestBlobs() throws {
        let cache = work + "/cache"
        let environment = ["SLIPWAY_CACHE_KEEP_STORAGE": "5MiB"]
        var layers: [[String]] = []
        for name in ["first", "second"] {
            let context = try randomContext(name, megabytes: 3)
            let layout = work + "/out-" + name
            try Run.slipway(["build", "--cache-dir", cache, "--compression", "uncompressed", "--output", "type=oci,dest=\(layout),tar=false", context],
                            environment: environment)
            layers.append(entries(layout + "/blobs/sha256"))
            // File times are coarse: a run protects what was used in the two seconds before it.
            Thread.sleep(forTimeInterval: 2.5)
        }
        let stored = Set(entries(cache + "/store/blobs/sha256"))
        XCTAssertTrue(Set(layers[1]).isSubset(of: stored), "the last build's blobs were pruned")
        let firstLayer = try XCTUnwrap(layers[0].max { size(work + "/out-first/blobs/sha256/" + $0) < size(work + "/out-first/blobs/sha256/" + $1) })
        XCTAssertFalse(stored.contains(firstLayer), "the first build's layer is still cached")
        let total = stored.reduce(Int64(0)) { $0 + size(cache + "/store/blobs/sha256/" + $1) }
        XCTAssertLessThanOrEqual(total, 5 << 20)

        // --keep-storage 0: no bound.
        let context = try randomContext("third", megabytes: 3)
        try Run.slipway(["build", "--cache-dir", cache, "--keep-storage", "0", "--compression", "uncompressed", "--output", "type=oci,dest=\(work)/out3.tar", context],
                        environment: environment)
        XCTAssertTrue(Set(layers[1]).isSubset(of: Set(entries(cache + "/store/blobs/sha256"))))
    }

    private func size(_ path: String) -> Int64 {
        ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? NSNumber)?.int64Value ?? 0
    }
}
