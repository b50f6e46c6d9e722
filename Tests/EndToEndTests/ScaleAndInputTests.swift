import Foundation
import TestSupport
import XCTest

/// Issue 10 ("Never harm the user"), items 5, 6, 11 and 12, through the built binary: planning
/// cost that grows with the Dockerfile (memory ceilings and "does not crash", never timings —
/// the curve is in `scripts/bench-plan`), ADD checksums, a Dockerfile that is a symlink, and
/// errors naming the context they are about.
final class ScaleAndInputTests: XCTestCase {
    var work = ""

    override func setUpWithError() throws { work = try Run.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    /// Builds `work/ctx` into an OCI layout directory under GNU time; returns the run and the
    /// child's peak RSS in KiB.
    private func measuredBuild(_ extra: [String] = [], limitSeconds: Int? = nil) throws -> (Run.Output, Int) {
        let rss = work + "/rss"
        var command = ["-f", "%M", "-o", rss, Run.slipway, "build", "--progress", "plain", "--cache-dir", work + "/cache",
                       "--output", "type=oci,dest=\(work)/out,tar=false"] + extra + [work + "/ctx"]
        var executable = "/usr/bin/time"
        if let limitSeconds {
            // A guard against a hang, not a speed target: the bound is far above the time taken.
            command = [String(limitSeconds), executable] + command
            executable = "/usr/bin/timeout"
        }
        let output = try Run.command(executable, command)
        let peak = Int((try? String(contentsOfFile: rss, encoding: .utf8))?.split(separator: "\n").last ?? "") ?? -1
        return (output, peak)
    }

    /// The image config of the single-platform image in `work/out`.
    private func builtConfig() throws -> [String: Any] {
        func blob(_ digest: String) throws -> [String: Any] {
            let path = work + "/out/blobs/sha256/" + digest.dropFirst("sha256:".count)
            return try Run.json(try String(contentsOfFile: path, encoding: .utf8))
        }
        let index = try Run.json(try String(contentsOfFile: work + "/out/index.json", encoding: .utf8))
        let manifests = index["manifests"] as? [[String: Any]] ?? []
        let manifest = try blob(manifests.first?["digest"] as? String ?? "")
        return try blob((manifest["config"] as? [String: Any])?["digest"] as? String ?? "")
    }

    // MARK: Item 5: planning is linear and iterative

    func testAThousandStageChainBuildsWithoutCrashing() throws {
        var lines = ["FROM scratch AS s0", "COPY f /f"]
        for index in 1..<1000 { lines += ["FROM scratch AS s\(index)", "COPY --from=s\(index - 1) /f /f"] }
        try Run.write(["Dockerfile": lines.joined(separator: "\n") + "\n", "f": "chained"], under: work + "/ctx")
        let output = try Run.command(Run.slipway, ["build", "--progress", "quiet", "--cache-dir", work + "/cache",
                                                   "--output", "type=local,dest=\(work)/local", work + "/ctx"])
        XCTAssertEqual(output.status, 0, String(output.stderr.suffix(2000)))
        XCTAssertEqual(try? String(contentsOfFile: work + "/local/f", encoding: .utf8), "chained")
    }

    func testFiveThousandCopiesStayUnder256MiBAndWarnAboutLayerCount() throws {
        var files = [String: String]()
        var lines = ["FROM scratch"]
        for index in 0..<5000 {
            files["f\(index)"] = "\(index)\n"
            lines.append("COPY f\(index) /f\(index)")
        }
        files["Dockerfile"] = lines.joined(separator: "\n") + "\n"
        try Run.write(files, under: work + "/ctx")
        let (output, peakKiB) = try measuredBuild()
        XCTAssertEqual(output.status, 0, String(output.stderr.suffix(2000)))
        XCTAssertGreaterThan(peakKiB, 0, "GNU time reported no peak RSS")
        XCTAssertLessThan(peakKiB, 256 * 1024, "peak RSS \(peakKiB / 1024) MiB for 5,000 COPYs")
        XCTAssertTrue(output.stderr.contains("warning: the image has 5000 layers"), String(output.stderr.suffix(2000)))
        let layers = (try builtConfig()["rootfs"] as? [String: Any])?["diff_ids"] as? [Any]
        XCTAssertEqual(layers?.count, 5000)
    }

    func testAFewLayersGiveNoLayerCountWarning() throws {
        let lines = ["FROM scratch"] + (0..<125).map { "COPY <<EOF /h\($0)\n\($0)\nEOF" }
        try Run.write(["Dockerfile": lines.joined(separator: "\n") + "\n"], under: work + "/ctx")
        let (output, _) = try measuredBuild()
        XCTAssertEqual(output.status, 0, output.stderr)
        XCTAssertFalse(output.stderr.contains("layers"), output.stderr)
    }

    func testAHundredThousandLabelsComplete() throws {
        let lines = ["FROM scratch"] + (0..<100_000).map { "LABEL k\($0)=v\($0)" }
        try Run.write(["Dockerfile": lines.joined(separator: "\n") + "\n"], under: work + "/ctx")
        let (output, _) = try measuredBuild(limitSeconds: 100)
        XCTAssertEqual(output.status, 0, "status \(output.status) (124: did not finish): \(output.stderr.suffix(2000))")
        let labels = (try builtConfig()["config"] as? [String: Any])?["Labels"] as? [String: String]
        XCTAssertEqual(labels?.count, 100_000)
        XCTAssertEqual(labels?["k99999"], "v99999")
    }

    func testDeeplyNestedVariableExpansionIsRefusedWithoutCrashing() throws {
        // 100,000 levels, over continuation lines (one physical line may hold 64 KiB).
        let depth = 100_000
        let word = Array(String(repeating: "${A:-", count: depth) + "x" + String(repeating: "}", count: depth))
        let lines = stride(from: 0, to: word.count, by: 50_000).map { String(word[$0..<min($0 + 50_000, word.count)]) }
        try Run.write(["Dockerfile": "FROM scratch\nLABEL deep=" + lines.joined(separator: "\\\n") + "\n"], under: work + "/ctx")
        let (output, _) = try measuredBuild()
        XCTAssertNotEqual(output.status, 0)
        XCTAssertTrue(output.stderr.contains("Dockerfile:2") && output.stderr.contains("nested"), String(output.stderr.suffix(2000)))
        XCTAssertFalse(output.stderr.contains("Fatal error"), String(output.stderr.suffix(2000)))
    }

    // MARK: Item 6: ADD of a large archive

    func testAddOfATwoHundredThousandEntryArchiveHasBoundedMemory() throws {
        try FileManager.default.createDirectory(atPath: work + "/ctx", withIntermediateDirectories: true)
        let script = """
        import io, sys, tarfile
        with tarfile.open(sys.argv[1], "w", format=tarfile.GNU_FORMAT) as tar:
            for d in range(1000):
                info = tarfile.TarInfo(f"d{d:04d}"); info.type = tarfile.DIRTYPE; info.mode = 0o755
                tar.addfile(info)
                for i in range(199):
                    data = f"{d}/{i}\\n".encode()
                    info = tarfile.TarInfo(f"d{d:04d}/f{i:03d}"); info.size = len(data); info.mode = 0o644
                    tar.addfile(info, io.BytesIO(data))
        """
        let made = try Run.command("python3", ["-c", script, work + "/ctx/a.tar"])
        XCTAssertEqual(made.status, 0, made.stderr)
        try Run.write(["Dockerfile": "FROM scratch\nADD a.tar /x/\n"], under: work + "/ctx")
        let (output, peakKiB) = try measuredBuild()
        XCTAssertEqual(output.status, 0, String(output.stderr.suffix(2000)))
        XCTAssertGreaterThan(peakKiB, 0, "GNU time reported no peak RSS")
        // About 120 MiB now (40 of them the runtime), 200 MiB when each entry had a scratch file
        // and the extraction was copied three times over.
        XCTAssertLessThan(peakKiB, 160 * 1024, "peak RSS \(peakKiB / 1024) MiB for a 200,000-entry ADD")
    }

    // MARK: Item 11: ADD --checksum and the Dockerfile itself

    /// Serves `served` over plain HTTP on a random local port for the duration of `body`.
    private func serving(_ served: String, _ body: (Int) throws -> Void) throws {
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let port = 20000 + Int.random(in: 0..<20000)
        server.arguments = ["python3", "-m", "http.server", "\(port)", "--bind", "127.0.0.1", "--directory", served]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { server.terminate(); server.waitUntilExit() }
        var ready = false
        for _ in 0..<50 where !ready {
            ready = (try? Run.command("curl", ["-sf", "http://127.0.0.1:\(port)/file.txt"]))?.status == 0
            if !ready { usleep(100_000) }
        }
        XCTAssertTrue(ready, "test HTTP server did not start")
        try body(port)
    }

    private func hex(_ algorithm: String, _ text: String) throws -> String {
        let file = work + "/digest-input"
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        let output = try Run.command("openssl", ["dgst", "-\(algorithm)", "-r", file])
        return String(output.stdout.prefix { $0 != " " })
    }

    func testAddChecksumVerifiesSHA256SHA384AndSHA512AndRefusesOtherAlgorithms() throws {
        try Run.write(["file.txt": "downloaded"], under: work + "/served")
        try serving(work + "/served") { port in
            let url = "http://127.0.0.1:\(port)/file.txt"
            for algorithm in ["sha256", "sha384", "sha512"] {
                let right = try hex(algorithm, "downloaded")
                try Run.write(["Dockerfile": "FROM scratch\nADD --checksum=\(algorithm):\(right) \(url) /dl/\n"], under: work + "/ctx")
                let (built, _) = try measuredBuild()
                XCTAssertEqual(built.status, 0, "\(algorithm): \(built.stderr)")

                let wrong = String(repeating: "0", count: right.count)
                try Run.write(["Dockerfile": "FROM scratch\nADD --checksum=\(algorithm):\(wrong) \(url) /dl/\n"], under: work + "/ctx")
                let (mismatch, _) = try measuredBuild()
                XCTAssertNotEqual(mismatch.status, 0)
                XCTAssertTrue(mismatch.stderr.contains("checksum mismatch") && mismatch.stderr.contains("\(algorithm):\(right)"), mismatch.stderr)
            }
            let md5 = try hex("md5", "downloaded")
            for checksum in ["md5:\(md5)", "sha256:ABC", "blake3:" + String(repeating: "a", count: 64)] {
                try Run.write(["Dockerfile": "FROM scratch\nADD --checksum=\(checksum) \(url) /dl/\n"], under: work + "/ctx")
                let (refused, _) = try measuredBuild()
                XCTAssertNotEqual(refused.status, 0)
                XCTAssertTrue(refused.stderr.contains("Dockerfile:2") && refused.stderr.contains("sha256, sha384 or sha512"), refused.stderr)
            }
        }
    }

    func testDockerfileSymlinkLeavingTheContextIsRefusedWithoutShowingTheFile() throws {
        let secret = "s3cr3t-line:with:colons:and:no:spaces"
        try Run.write(["outside/secret": secret + "\nsecond line\n", "ctx/a": "a"], under: work)
        for target in [work + "/outside/secret", "../outside/secret"] {
            try? FileManager.default.removeItem(atPath: work + "/ctx/Dockerfile")
            try FileManager.default.createSymbolicLink(atPath: work + "/ctx/Dockerfile", withDestinationPath: target)
            let output = try Run.command(Run.slipway, ["build", "--progress", "plain", "--cache-dir", work + "/cache", work + "/ctx"])
            XCTAssertNotEqual(output.status, 0, target)
            XCTAssertTrue(output.stderr.contains("symlink") && output.stderr.contains("outside"), output.stderr)
            XCTAssertFalse(output.stderr.contains("s3cr3t") || output.stderr.contains("second line"), output.stderr)
        }
        // A link that stays next to the Dockerfile is followed, as BuildKit's transfer does.
        try Run.write(["ctx/build/Dockerfile.real": "FROM scratch\nCOPY a /a\n"], under: work)
        try FileManager.default.removeItem(atPath: work + "/ctx/Dockerfile")
        try FileManager.default.createSymbolicLink(atPath: work + "/ctx/Dockerfile", withDestinationPath: "build/Dockerfile.real")
        try Run.slipway(["build", "--progress", "quiet", "--cache-dir", work + "/cache", work + "/ctx"])
    }

    func testAFileThatIsNotADockerfileIsNotEchoed() throws {
        let secret = "s3cr3t-line:with:colons:and:no:spaces"
        try Run.write(["notes.txt": secret + " more\n", "ctx/a": "a"], under: work)
        let output = try Run.command(Run.slipway, ["build", "--progress", "plain", "--cache-dir", work + "/cache",
                                                   "-f", work + "/notes.txt", work + "/ctx"])
        XCTAssertNotEqual(output.status, 0)
        XCTAssertTrue(output.stderr.contains("unknown instruction"), output.stderr)
        XCTAssertFalse(output.stderr.contains("s3cr3t"), output.stderr)
    }

    // MARK: Item 12: errors name the context they are about

    func testSpecialFileErrorsNameTheirContext() throws {
        try Run.write(["ctx/Dockerfile": "FROM scratch\nCOPY . /app\n", "ctx/a": "a", "other/b": "b"], under: work)
        XCTAssertEqual(mkfifo(work + "/ctx/fifo", 0o644), 0)
        let main = try Run.command(Run.slipway, ["build", "--progress", "plain", "--cache-dir", work + "/cache", work + "/ctx"])
        XCTAssertNotEqual(main.status, 0)
        XCTAssertTrue(main.stderr.contains("'fifo' in the build context is a FIFO"), main.stderr)

        try FileManager.default.removeItem(atPath: work + "/ctx/fifo")
        XCTAssertEqual(mkfifo(work + "/other/pipe", 0o644), 0)
        try Run.write(["ctx/Dockerfile": "FROM scratch\nCOPY --from=extra . /app\n"], under: work)
        let named = try Run.command(Run.slipway, ["build", "--progress", "plain", "--cache-dir", work + "/cache",
                                                  "--build-context", "extra=\(work)/other", work + "/ctx"])
        XCTAssertNotEqual(named.status, 0)
        XCTAssertTrue(named.stderr.contains("'pipe' in build context 'extra' is a FIFO"), named.stderr)
    }
}
