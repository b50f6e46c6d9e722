import Foundation
import TestSupport
import XCTest

/// §2 of the reliability issue: `kill -9` at seeded random moments of a push and of a build.
/// After each kill: no tag names an image with a missing manifest or blob, the next run finishes
/// and uploads only what was missing (bytes counted through the proxy), every blob in the cache's
/// content store matches its digest, and an output file is whole or absent.
/// `SLIPWAY_KILL_TRIALS` (default 8; the figure is 50) push trials,
/// `SLIPWAY_KILL_BUILD_TRIALS` (default 6) build trials; `SLIPWAY_KILL_SEED` changes the moments.
final class KillTests: XCTestCase {
    var work = ""
    var registry: TestRegistries!
    var generator = SeededGenerator(seed: 6)

    override func setUpWithError() throws {
        work = try Run.temporaryDirectory()
        registry = try TestRegistries.get()
        if let seed = ProcessInfo.processInfo.environment["SLIPWAY_KILL_SEED"].flatMap(UInt64.init) { generator = SeededGenerator(seed: seed) }
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    private func trials(_ name: String, default value: Int) -> Int {
        max(1, Int(ProcessInfo.processInfo.environment[name] ?? "") ?? value)
    }

    /// Two platforms: a 12 MiB shared layer and a 6 MiB one per platform (chunked at 5 MiB), a
    /// small one and a tiny one.
    private func makeContext() throws -> String {
        let context = work + "/ctx"
        try Run.write(["Dockerfile": "FROM scratch\nARG TARGETARCH\nCOPY shared.bin /shared.bin\nCOPY ${TARGETARCH}.bin /arch.bin\nCOPY small.bin /small.bin\nCOPY a.txt /a.txt\n",
                       "a.txt": "a\n"], under: context)
        _ = try Run.tool("bash", ["-c", "cd '\(context)' && head -c 12582912 /dev/urandom > shared.bin && head -c 6291456 /dev/urandom > amd64.bin && head -c 6291456 /dev/urandom > arm64.bin && head -c 500000 /dev/urandom > small.bin"])
        return context
    }

    /// Runs slipway under `timeout`, which kills it with SIGKILL after `delay` seconds; true
    /// when it was still running then (timeout exits 128 + 9).
    private func killed(_ arguments: [String], after delay: Double, environment: [String: String] = [:]) throws -> Bool {
        try Run.command("timeout", ["-s", "KILL", String(format: "%.3f", delay), Run.slipway] + arguments, environment: environment).status == 137
    }

    /// Files under the cache's content store whose bytes do not hash to their name.
    private func corruptBlobs(in cache: String) throws -> [String] {
        let blobs = cache + "/store/blobs/sha256"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: blobs), !names.isEmpty else { return [] }
        let sums = try Run.tool("bash", ["-c", "cd '\(blobs)' && sha256sum -- *"])
        return sums.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { return String(line) }
            let name = parts[1].trimmingCharacters(in: CharacterSet(charactersIn: " *"))
            return parts[0] == name ? nil : name
        }
    }

    func testKilledPushLeavesNoBrokenTagAndTheNextRunUploadsOnlyWhatIsMissing() throws {
        let context = try makeContext()
        let layout = work + "/layout"
        let built = try Run.slipway(["build", "--platform", "linux/amd64,linux/arm64", "--progress", "quiet", "--cache-dir", work + "/cache",
                                     "--output", "type=oci,dest=\(layout),tar=false", context])
        let index = String(try XCTUnwrap(built.stdout.split(separator: "\n").first { $0.hasPrefix("index ") }).dropFirst(6))
        let blobs = try RegistryWalk.layoutBlobs(layout).filter { !$0.isManifest }
        let proxy = try FaultProxy(registry: registry, directory: work + "/proxy", seed: 1, rate: 0)
        defer { proxy.stop() }
        try registry.writeDockerConfig(work + "/docker", host: proxy.host)
        let env = ["DOCKER_CONFIG": work + "/docker"]
        func push(_ repository: String) -> [String] {
            ["push", layout, "\(proxy.host)/\(repository):t", "--chunk-size", "5MiB", "--progress", "quiet"]
        }
        // How long an undisturbed push takes: the kills land anywhere in [0, that].
        let start = Date()
        try Run.slipway(push("kill/reference-\(UUID().uuidString.prefix(8).lowercased())"), environment: env)
        let full = Date().timeIntervalSince(start)

        let count = trials("SLIPWAY_KILL_TRIALS", default: 8)
        // Fresh repositories for every test run: a registry started by the test script is shared.
        let run = UUID().uuidString.prefix(8).lowercased()
        var killedRuns = 0, taggedAfterKill = 0, exact = 0
        var missingTotal = 0, resentTotal = 0
        for trial in 0..<count {
            let repository = "kill/\(run)-push\(trial)"
            let delay = Double.random(in: 0...full, using: &generator)
            if try killed(push(repository), after: delay, environment: env) { killedRuns += 1 }
            usleep(300_000)  // let the proxy finish requests already sent upstream
            if let walk = try RegistryWalk.check(registry, repository: repository, tag: "t") {
                taggedAfterKill += 1
                XCTAssertEqual(walk.digest, index, "trial \(trial): the tag names another image")
                XCTAssertEqual(walk.problems, [], "trial \(trial): the tag names an incomplete image")
            }
            var missing = 0
            for blob in blobs where try RegistryWalk.request(registry, "HEAD", "/v2/\(repository)/blobs/\(blob.digest)").0 != 200 {
                missing += blob.size
            }
            let before = proxy.entries().count
            try Run.slipway(push(repository), environment: env)
            let resent = FaultProxy.blobUploadBytes(Array(proxy.entries().dropFirst(before)), repository: repository)
            XCTAssertLessThanOrEqual(resent, missing, "trial \(trial) (killed at \(delay)s): the next run uploaded more than was missing")
            if resent == missing { exact += 1 }
            missingTotal += missing
            resentTotal += resent
            let walk = try XCTUnwrap(RegistryWalk.check(registry, repository: repository, tag: "t"))
            XCTAssertEqual(walk.digest, index)
            XCTAssertEqual(walk.problems, [])
        }
        print(String(format: "kill push trials: %d (full push %.2fs), %d killed while running, %d left a (complete) tag, next runs uploaded %.1f of %.1f MiB missing (exactly the missing bytes in %d)",
                     count, full, killedRuns, taggedAfterKill, Double(resentTotal) / 1_048_576, Double(missingTotal) / 1_048_576, exact))
    }

    func testKilledBuildLeavesWholeOrAbsentOutputsAndAVerifiedCache() throws {
        let context = try makeContext()
        let reference = work + "/reference.tar"
        let arguments = { (dest: String, cache: String) in
            ["build", "--platform", "linux/amd64,linux/arm64", "--progress", "quiet", "--cache-dir", cache, "--output", "type=oci,dest=\(dest)", context]
        }
        let start = Date()
        try Run.slipway(arguments(reference, work + "/reference-cache"))
        let full = Date().timeIntervalSince(start)
        let expected = try Data(contentsOf: URL(fileURLWithPath: reference))
        let cache = work + "/cache"
        let count = trials("SLIPWAY_KILL_BUILD_TRIALS", default: 6)
        var killedRuns = 0, whole = 0, absent = 0
        for trial in 0..<count {
            let outputs = work + "/out\(trial)"
            try FileManager.default.createDirectory(atPath: outputs, withIntermediateDirectories: true)
            let dest = outputs + "/image.tar"
            let delay = Double.random(in: 0...(1.2 * full), using: &generator)
            if try killed(arguments(dest, cache), after: delay) { killedRuns += 1 }
            if FileManager.default.fileExists(atPath: dest) {
                whole += 1
                XCTAssertTrue(try Data(contentsOf: URL(fileURLWithPath: dest)) == expected, "trial \(trial) (killed at \(delay)s): a partial output")
            } else {
                absent += 1
            }
            XCTAssertEqual(try corruptBlobs(in: cache), [], "trial \(trial): the cache holds a blob that does not match its digest")
            // The next build finishes, from whatever the killed one left in the cache.
            try FileManager.default.removeItem(atPath: outputs)
            try FileManager.default.createDirectory(atPath: outputs, withIntermediateDirectories: true)
            try Run.slipway(arguments(dest, cache))
            XCTAssertTrue(try Data(contentsOf: URL(fileURLWithPath: dest)) == expected, "trial \(trial): the build after a kill differs")
            XCTAssertEqual(try corruptBlobs(in: cache), [])
        }
        print(String(format: "kill build trials: %d (full build %.2fs), %d killed while running, outputs whole %d / absent %d",
                     count, full, killedRuns, whole, absent))
    }
}
