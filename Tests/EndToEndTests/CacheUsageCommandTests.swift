import Foundation
import TestSupport
import XCTest

/// `slipway cache du` after real builds (issue 15): every area of the cache with its size,
/// the areas adding up to what `find` counts; `cache prune --all` empties all of them.
final class CacheUsageCommandTests: XCTestCase {
    var work = ""

    override func setUpWithError() throws { work = try Run.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    /// Area name → (count, bytes) from `cache du`; the total from its first line.
    private func usage(_ cache: String) throws -> (total: String, areas: [String: (Int, String)]) {
        let out = try Run.slipway(["cache", "du", "--cache-dir", cache])
        XCTAssertEqual(out.status, 0, out.stderr)
        let lines = out.stdout.split(separator: "\n").map(String.init)
        let total = String(try XCTUnwrap(lines.first?.split(separator: ":").last).dropFirst())
        var areas: [String: (Int, String)] = [:]
        for line in lines.dropFirst() {
            // "  layer cache keys (layers/keys)        3 keys          1.0 KiB"
            let fields = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard let countIndex = fields.firstIndex(where: { Int($0) != nil }), fields.count >= countIndex + 4 else {
                XCTFail("unreadable line: \(line)")
                continue
            }
            let name = fields[..<countIndex].joined(separator: " ")
            areas[name] = (Int(fields[countIndex]) ?? -1, fields[(countIndex + 2)...].joined(separator: " "))
        }
        return (total, areas)
    }

    private func findBytes(_ directory: String) throws -> Int64 {
        try Run.tool("find", [directory, "-type", "f", "-printf", "%s\\n"]).split(separator: "\n").reduce(Int64(0)) { $0 + (Int64($1) ?? 0) }
    }

    func testDuShowsEveryAreaAndPruneAllEmptiesThem() throws {
        let cache = work + "/cache", context = work + "/ctx"
        try Run.write(["Dockerfile": "FROM scratch\nCOPY one /one\nCOPY two /two\nCOPY three /three\n", "one": "1\n", "two": "2\n", "three": "3\n"], under: context)
        try Run.slipway(["build", "--cache-dir", cache, "--output", "type=oci,dest=\(work)/out.tar", context])
        try Run.slipway(["build", "--cache-dir", cache, "--output", "type=oci,dest=\(work)/out2.tar", context])

        let (total, areas) = try usage(cache)
        XCTAssertEqual(Set(areas.keys), ["blobs (store/blobs)", "partial files (store/ingest)", "RUN cache mounts (run-cache)", "layer cache keys (layers/keys)",
                                         "file-hash memo (layers/file-hashes)", "tag resolutions (resolutions.json)", "ECR logins (ecr-auth)", "other"])
        XCTAssertEqual(areas["layer cache keys (layers/keys)"]?.0, 3, "one key per COPY layer")
        XCTAssertEqual(areas["file-hash memo (layers/file-hashes)"]?.0, 3, "one record per context file")
        XCTAssertEqual(areas["file-hash memo (layers/file-hashes)"]?.1, "\(8 + 3 * 96) B")
        XCTAssertEqual(areas["blobs (store/blobs)"]?.0, try FileManager.default.contentsOfDirectory(atPath: cache + "/store/blobs/sha256").count)
        let bytes = try findBytes(cache)
        XCTAssertTrue(total == "\(bytes) B" || total.hasSuffix("KiB"), total)
        if total.hasSuffix("KiB") { XCTAssertEqual(total, String(format: "%.1f KiB", Double(bytes) / 1024)) }

        let pruned = try Run.slipway(["cache", "prune", "--all", "--cache-dir", cache])
        XCTAssertTrue(pruned.stdout.contains("removed 3 layer cache keys"), pruned.stdout)
        let (_, empty) = try usage(cache)
        for (name, value) in empty where name != "other" {
            XCTAssertEqual(value.0, 0, name)
            XCTAssertEqual(value.1, "0 B", name)
        }
        XCTAssertEqual(try findBytes(cache), 0, "only empty lock files are left")
    }
}
