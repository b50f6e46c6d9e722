import Foundation
import TestSupport
import XCTest

/// The same inputs give the same digests: whatever the file times, creation order, umask,
/// working directory or thread count. One digest is checked in as a golden value.
final class ReproducibilityTests: XCTestCase {
    var work = ""

    override func setUpWithError() throws { work = try Run.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    /// Copies testdata/example with its files created in the given order, explicit modes
    /// (so git's checkout umask does not matter) and the given mtime.
    private func makeContext(_ name: String, reversed: Bool, mtime: String, umask: String) throws -> String {
        let source = Run.repositoryRoot.path + "/testdata/example"
        let target = work + "/" + name
        let files = try FileManager.default.subpathsOfDirectory(atPath: source).sorted()
        let script = """
        set -e
        umask \(umask)
        mkdir -p '\(target)'
        cd '\(source)'
        for f in \((reversed ? files.reversed() : files).map { "'\($0)'" }.joined(separator: " ")); do
          if [ -L "$f" ]; then mkdir -p "$(dirname '\(target)'/"$f")"; ln -s "$(readlink "$f")" '\(target)'/"$f"
          elif [ -d "$f" ]; then mkdir -p '\(target)'/"$f"
          else mkdir -p "$(dirname '\(target)'/"$f")"; cat "$f" > '\(target)'/"$f"; fi
        done
        cd '\(target)'
        find . -type d -exec chmod 755 {} +
        find . -type f -exec chmod 644 {} +
        chmod 755 bin/*/hello
        find . -exec touch -h -d '\(mtime)' {} +
        """
        _ = try Run.tool("bash", ["-c", script])
        return target
    }

    /// slipway's defaults (provenance on for an OCI output), unless `flags` say otherwise.
    private func build(_ context: String, jobs: Int, cwd: String, umask: String, flags: String = "") throws -> String {
        let output = try Run.command("bash", ["-c", "cd '\(cwd)' && umask \(umask) && exec '\(Run.slipway)' build --platform linux/amd64,linux/arm64 --jobs \(jobs) --progress quiet \(flags) --output type=oci,dest=out-\(jobs).tar '\(context)'"],
                                     environment: ["BUILDX_NO_DEFAULT_ATTESTATIONS": ""])
        XCTAssertEqual(output.status, 0, output.stderr)
        let line = try XCTUnwrap(output.stdout.split(separator: "\n").last { $0.hasPrefix("index ") })
        return String(line.dropFirst("index ".count))
    }

    func testSameDigestAcrossMtimesOrderUmaskDirectoryAndJobs() throws {
        let first = try makeContext("a", reversed: false, mtime: "2001-02-03 04:05:06", umask: "022")
        let second = try makeContext("b", reversed: true, mtime: "2024-12-31 23:59:59", umask: "077")
        try FileManager.default.createDirectory(atPath: work + "/cwd1", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: work + "/cwd2", withIntermediateDirectories: true)
        let one = try build(first, jobs: 1, cwd: work + "/cwd1", umask: "022")
        let eight = try build(second, jobs: 8, cwd: work + "/cwd2", umask: "077")
        XCTAssertEqual(one, eight)
        let golden = try String(contentsOfFile: Run.repositoryRoot.path + "/testdata/example.index-digest", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(one, golden, "testdata/example.index-digest: the checked-in digest of this build (with the default min provenance); it changes only when the image format or the example changes on purpose")
        // The tar output itself is byte-identical too.
        let a = try Data(contentsOf: URL(fileURLWithPath: work + "/cwd1/out-1.tar"))
        let b = try Data(contentsOf: URL(fileURLWithPath: work + "/cwd2/out-8.tar"))
        XCTAssertEqual(sha256(a), sha256(b))
    }

    /// The second golden digest: the same build without attestations (the image as it was
    /// before provenance became the default), also what BUILDX_NO_DEFAULT_ATTESTATIONS=1 gives.
    func testWithoutAttestationsTheDigestIsTheSecondGolden() throws {
        let context = try makeContext("p", reversed: false, mtime: "2001-02-03 04:05:06", umask: "022")
        try FileManager.default.createDirectory(atPath: work + "/cwd3", withIntermediateDirectories: true)
        let plain = try build(context, jobs: 2, cwd: work + "/cwd3", umask: "022", flags: "--provenance=false")
        let golden = try String(contentsOfFile: Run.repositoryRoot.path + "/testdata/example.index-digest.no-attestations", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(plain, golden, "testdata/example.index-digest.no-attestations: the example without attestations")
        let index = try Run.json(Run.tool("skopeo", ["inspect", "--raw", "oci-archive:\(work)/cwd3/out-2.tar"]))
        XCTAssertEqual((index["manifests"] as? [[String: Any]])?.count, 2, "no attestation entries")
    }

    /// Provenance (max, v1 and v0.2) and the SBOM do not break reproducibility: two copies of
    /// the context that differ in path, mtimes, umask and creation order give the same index.
    func testProvenanceAndSBOMKeepTheIndexDigestReproducible() throws {
        let first = try makeContext("x", reversed: false, mtime: "2001-02-03 04:05:06", umask: "022")
        let second = try makeContext("y/deeper", reversed: true, mtime: "2024-12-31 23:59:59", umask: "077")
        for dir in ["cwd4", "cwd5"] { try FileManager.default.createDirectory(atPath: work + "/" + dir, withIntermediateDirectories: true) }
        for flags in ["--provenance=mode=max --sbom=true", "--attest type=provenance,mode=max,version=v1 --attest type=sbom"] {
            let one = try build(first, jobs: 1, cwd: work + "/cwd4", umask: "022", flags: flags)
            let two = try build(second, jobs: 4, cwd: work + "/cwd5", umask: "077", flags: flags)
            XCTAssertEqual(one, two, flags)
            let index = try Run.json(Run.tool("skopeo", ["inspect", "--raw", "oci-archive:\(work)/cwd4/out-1.tar"]))
            let attestations = (index["manifests"] as? [[String: Any]] ?? []).filter {
                ($0["annotations"] as? [String: String])?["vnd.docker.reference.type"] == "attestation-manifest"
            }
            XCTAssertEqual(attestations.count, 2, "one attestation manifest per platform: \(index)")
        }
    }

    func testSourceDateEpochChangesTimesAndCreated() throws {
        let context = try makeContext("c", reversed: false, mtime: "2001-02-03 04:05:06", umask: "022")
        let out = work + "/epoch"
        let result = try Run.command(Run.slipway, ["build", "--platform", "linux/amd64", "--progress", "quiet",
                                                   "--output", "type=oci,dest=\(out),tar=false", context],
                                     environment: ["SOURCE_DATE_EPOCH": "1700000000"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let config = try Run.json(Run.tool("skopeo", ["inspect", "--config", "oci:\(out)"]))
        XCTAssertEqual(config["created"] as? String, "2023-11-14T22:13:20Z")
        let manifest = try Run.json(Run.tool("skopeo", ["inspect", "--raw", "oci:\(out)"]))
        let layer = try XCTUnwrap((manifest["layers"] as? [[String: Any]])?.last?["digest"] as? String)
        let listing = try Run.tool("bsdtar", ["-tvf", out + "/blobs/sha256/" + layer.dropFirst(7)])
        XCTAssertTrue(listing.contains("Nov 14  2023"), listing)
    }
}
