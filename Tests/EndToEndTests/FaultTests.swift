import Foundation
import XCTest

/// One `scripts/test-faults/proxy.py` in front of the Basic-auth test registry: plain HTTP on
/// loopback (slipway's TLS probe fails, it falls back to http://), TLS to the registry, faults
/// drawn from a seeded generator, one JSON line per request in `log`.
final class FaultProxy {
    let process = Process()
    let port: Int
    let log: String

    init(registry: TestRegistries.Settings, directory: String, seed: UInt64, rate: Double, faults: String? = nil, stall: Double = 3) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        log = directory + "/proxy.log"
        let portFile = directory + "/proxy.port"
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Run.repositoryRoot.path + "/scripts/test-faults/proxy.py", "--upstream", registry.basic,
                             "--ca", registry.ca, "--port-file", portFile, "--log", log, "--seed", "\(seed)",
                             "--rate", "\(rate)", "--stall", "\(stall)"] + (faults.map { ["--faults", $0] } ?? [])
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        while !FileManager.default.fileExists(atPath: portFile) {
            guard Date() < deadline, process.isRunning else {
                throw NSError(domain: "faults", code: 1, userInfo: [NSLocalizedDescriptionKey: "the fault proxy did not start"])
            }
            usleep(20_000)
        }
        port = Int((try String(contentsOfFile: portFile, encoding: .utf8)).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }

    var host: String { "127.0.0.1:\(port)" }

    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    deinit { stop() }

    /// The log so far, one dictionary per request.
    func entries() -> [[String: Any]] {
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    /// Request-body bytes of blob uploads (PATCH/PUT under `/blobs/uploads/`) the proxy received
    /// for `repository` (all repositories when nil), from entry `from` on.
    static func blobUploadBytes(_ entries: [[String: Any]], repository: String? = nil) -> Int {
        entries.filter { entry in
            guard (entry["blob_upload"] as? Bool) == true else { return false }
            guard let repository else { return true }
            return (entry["path"] as? String)?.hasPrefix("/v2/\(repository)/") == true
        }.reduce(0) { $0 + (($1["body_bytes"] as? Int) ?? 0) }
    }

    /// A docker config with the test login for `host` (the proxy), written under `directory`.
    static func dockerConfig(_ directory: String, host: String, registry: TestRegistries.Settings) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let auth = Data("\(registry.user):\(registry.password)".utf8).base64EncodedString()
        try Data(#"{"auths":{"\#(host)":{"auth":"\#(auth)"}}}"#.utf8).write(to: URL(fileURLWithPath: directory + "/config.json"))
    }
}

/// Reads the registry directly (not through the proxy) with curl.
enum RegistryWalk {
    static let accept = "application/vnd.oci.image.index.v1+json,application/vnd.oci.image.manifest.v1+json,application/vnd.docker.distribution.manifest.list.v2+json,application/vnd.docker.distribution.manifest.v2+json"

    /// Status and body of `GET`/`HEAD` `path` on the registry.
    static func request(_ registry: TestRegistries.Settings, _ method: String, _ path: String) throws -> (Int, Data) {
        let body = FileManager.default.temporaryDirectory.appendingPathComponent("walk-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: body) }
        var arguments = ["-sS", "--cacert", registry.ca, "-u", "\(registry.user):\(registry.password)", "-H", "Accept: \(accept)",
                         "-o", body, "-w", "%{http_code}"]
        if method == "HEAD" { arguments.append("-I") }
        let output = try Run.command("curl", arguments + ["https://\(registry.basic)\(path)"])
        guard output.status == 0, let status = Int(output.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw NSError(domain: "walk", code: 1, userInfo: [NSLocalizedDescriptionKey: "curl \(path) failed: \(output.stderr)"])
        }
        return (status, (try? Data(contentsOf: URL(fileURLWithPath: body))) ?? Data())
    }

    /// Walks tag → index → manifests → config and layers. Returns nil when the tag does not
    /// exist, else the tag's digest and every problem found (missing or mismatching content).
    static func check(_ registry: TestRegistries.Settings, repository: String, tag: String) throws -> (digest: String, problems: [String])? {
        let (status, data) = try request(registry, "GET", "/v2/\(repository)/manifests/\(tag)")
        if status == 404 { return nil }
        guard status == 200 else { return ("", ["GET tag \(tag): HTTP \(status)"]) }
        let digest = "sha256:" + sha256(data)
        var problems: [String] = []
        var manifests: [Data] = []
        let root = try Run.json(String(decoding: data, as: UTF8.self))
        if let list = root["manifests"] as? [[String: Any]] {
            for entry in list {
                let child = entry["digest"] as? String ?? ""
                let (s, d) = try request(registry, "GET", "/v2/\(repository)/manifests/\(child)")
                if s != 200 { problems.append("manifest \(child): HTTP \(s)"); continue }
                if "sha256:" + sha256(d) != child { problems.append("manifest \(child): other bytes") }
                manifests.append(d)
            }
        } else {
            manifests.append(data)
        }
        for manifest in manifests {
            let object = try Run.json(String(decoding: manifest, as: UTF8.self))
            let blobs = [object["config"] as? [String: Any]].compactMap { $0 } + ((object["layers"] as? [[String: Any]]) ?? [])
            for blob in blobs {
                let child = blob["digest"] as? String ?? ""
                let (s, _) = try request(registry, "HEAD", "/v2/\(repository)/blobs/\(child)")
                if s != 200 { problems.append("blob \(child): HTTP \(s)") }
            }
        }
        return (digest, problems)
    }

    /// Every blob of an OCI layout directory's image (index, manifests, configs, layers): digest → size.
    static func layoutBlobs(_ layout: String) throws -> [(digest: String, size: Int, isManifest: Bool)] {
        func read(_ digest: String) throws -> [String: Any] {
            try Run.json(String(contentsOfFile: layout + "/blobs/sha256/" + digest.dropFirst(7), encoding: .utf8))
        }
        var result: [(String, Int, Bool)] = []
        let top = try Run.json(String(contentsOfFile: layout + "/index.json", encoding: .utf8))
        for image in (top["manifests"] as? [[String: Any]]) ?? [] {
            let indexDigest = image["digest"] as? String ?? ""
            result.append((indexDigest, image["size"] as? Int ?? 0, true))
            for manifest in (try read(indexDigest)["manifests"] as? [[String: Any]]) ?? [] {
                let digest = manifest["digest"] as? String ?? ""
                result.append((digest, manifest["size"] as? Int ?? 0, true))
                let object = try read(digest)
                for blob in [object["config"] as? [String: Any]].compactMap({ $0 }) + ((object["layers"] as? [[String: Any]]) ?? []) {
                    result.append((blob["digest"] as? String ?? "", blob["size"] as? Int ?? 0, false))
                }
            }
        }
        var seen = Set<String>()
        return result.filter { seen.insert($0.0).inserted }
    }
}

/// A seeded generator (SplitMix64) so trials are reproducible.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// §1 of the reliability issue: pushes through a proxy that faults 30% of requests converge to the
/// byte-identical image, and a wrong `Docker-Content-Digest` is never accepted.
final class FaultTests: XCTestCase {
    var work = ""
    var registry: TestRegistries.Settings!

    override func setUpWithError() throws {
        work = try Run.temporaryDirectory()
        registry = try TestRegistries.settings.get()
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    /// Two platforms, five layers: 20 MiB shared, 20 MiB per platform, 3 MB, a tiny file —
    /// all incompressible, so 5 MiB chunks make the 20 MiB layers five requests each.
    private func buildImage() throws -> (layout: String, index: String) {
        let context = work + "/ctx"
        try Run.write(["Dockerfile": "FROM scratch\nARG TARGETARCH\nCOPY shared.bin /shared.bin\nCOPY ${TARGETARCH}.bin /arch.bin\nCOPY small.bin /small.bin\nCOPY a.txt /a.txt\n",
                       "a.txt": "a\n"], under: context)
        _ = try Run.tool("bash", ["-c", "cd '\(context)' && for f in shared amd64 arm64; do head -c 20971520 /dev/urandom > $f.bin; done && head -c 3000000 /dev/urandom > small.bin"])
        let layout = work + "/layout"
        let built = try Run.slipway(["build", "--platform", "linux/amd64,linux/arm64", "--progress", "quiet", "--cache-dir", work + "/cache",
                                     "--output", "type=oci,dest=\(layout),tar=false", context])
        let index = try XCTUnwrap(built.stdout.split(separator: "\n").first { $0.hasPrefix("index ") }).dropFirst(6)
        return (layout, String(index))
    }

    struct RunResult {
        var seed: UInt64
        var status: Int32 = -1
        var seconds = 0.0
        var retries = -1
        var requests = 0
        var faults: [String: Int] = [:]
        var uploadBytes = 0
        var printed = ""
        var stderr = ""
        var error: String?
    }

    /// One seeded push through its own proxy into its own repository.
    private static func faultedPush(seed: UInt64, run: String, layout: String, work: String, registry: TestRegistries.Settings) -> RunResult {
        var result = RunResult(seed: seed)
        do {
            let directory = work + "/run-\(seed)"
            let proxy = try FaultProxy(registry: registry, directory: directory, seed: seed, rate: 0.3)
            defer { proxy.stop() }
            try FaultProxy.dockerConfig(directory + "/docker", host: proxy.host, registry: registry)
            let start = Date()
            let output = try Run.command(Run.slipway, ["push", layout, "\(proxy.host)/faults/\(run)-\(seed):t", "--chunk-size", "5MiB",
                                                       "--retries", "10", "--progress", "plain"],
                                         environment: ["DOCKER_CONFIG": directory + "/docker", "SLIPWAY_LOW_SPEED_TIME": "2"])
            result.seconds = Date().timeIntervalSince(start)
            result.status = output.status
            result.printed = output.stdout
            result.stderr = output.stderr
            if let line = output.stderr.split(separator: "\n").last(where: { $0.contains("pushed in") }),
               let match = line.range(of: #"(\d+) retries"#, options: .regularExpression) {
                result.retries = Int(line[match].split(separator: " ")[0]) ?? -1
            }
            let entries = proxy.entries()
            result.requests = entries.count
            for entry in entries { if let fault = entry["fault"] as? String { result.faults[fault, default: 0] += 1 } }
            result.uploadBytes = FaultProxy.blobUploadBytes(entries)
        } catch {
            result.error = "\(error)"
        }
        return result
    }

    /// `SLIPWAY_FAULT_RUNS` seeded runs (default 2; the issue's figure is 20), four at a time.
    func testPushThroughThirtyPercentFaultsConvergesToTheSameImage() throws {
        let (layout, index) = try buildImage()
        let runs = max(1, Int(ProcessInfo.processInfo.environment["SLIPWAY_FAULT_RUNS"] ?? "") ?? 2)
        let results = Locked<[RunResult]>([])
        let (work, registry) = (self.work, self.registry!)
        // Fresh repositories for every test run: a registry started by the test script is shared.
        let run = UUID().uuidString.prefix(8).lowercased()
        let group = DispatchGroup()
        let slots = DispatchSemaphore(value: 4)
        for seed in 1...UInt64(runs) {
            group.enter()
            // Threads, not the dispatch pool: Run.command itself waits on a pool thread, and the
            // pool is only as wide as the machine (two threads here), so it would starve.
            Thread {
                slots.wait()
                let result = Self.faultedPush(seed: seed, run: run, layout: layout, work: work, registry: registry)
                slots.signal()
                results.withLock { $0.append(result) }
                group.leave()
            }.start()
        }
        group.wait()
        var converged = 0
        for result in results.withLock({ $0 }).sorted(by: { $0.seed < $1.seed }) {
            let faults = result.faults.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: " ")
            print(String(format: "fault run seed %llu: exit %d in %.1fs, %d retries, %d requests, %d faulted (%@), %.1f MiB of blob uploads sent",
                         result.seed, result.status, result.seconds, result.retries, result.requests, result.faults.values.reduce(0, +),
                         faults, Double(result.uploadBytes) / 1_048_576))
            XCTAssertNil(result.error)
            XCTAssertEqual(result.status, 0, "seed \(result.seed):\n\(result.stderr.suffix(3000))")
            XCTAssertTrue(result.printed.contains("@\(index)"), "seed \(result.seed) printed \(result.printed)")
            // The registry itself (not through the proxy) serves exactly the index built.
            let raw = (try? Run.tool("skopeo", ["inspect", "--raw", "--cert-dir", registry.certsDir + "/" + registry.basic,
                                              "--creds", "\(registry.user):\(registry.password)", "docker://\(registry.basic)/faults/\(run)-\(result.seed):t"])) ?? ""
            XCTAssertEqual("sha256:" + sha256(Data(raw.utf8)), index, "seed \(result.seed)")
            // (No throwing here: every run's figures are printed even after a failure.)
            if let walk = try? RegistryWalk.check(registry, repository: "faults/\(run)-\(result.seed)", tag: "t") {
                XCTAssertEqual(walk.problems, [], "seed \(result.seed)")
                if result.status == 0 && walk.digest == index && walk.problems.isEmpty { converged += 1 }
            } else {
                XCTFail("seed \(result.seed): no tag in the registry")
            }
        }
        print("fault runs: \(converged) of \(runs) converged to \(index)")
    }

    /// Every `Docker-Content-Digest` on the way back is wrong: slipway must never accept it —
    /// it fails, and the tag is absent or names the right image (the registry stored the right
    /// bytes; only the answer was corrupted).
    func testWrongDigestIsNeverAccepted() throws {
        let context = work + "/ctx"
        try Run.write(["Dockerfile": "FROM scratch\nCOPY a.txt /a.txt\n", "a.txt": "a\n"], under: context)
        let layout = work + "/layout"
        let built = try Run.slipway(["build", "--progress", "quiet", "--cache-dir", work + "/cache", "--output", "type=oci,dest=\(layout),tar=false", context])
        let digest = try XCTUnwrap(built.stdout.split(separator: "\n").last).split(separator: " ").last.map(String.init)
        let run = UUID().uuidString.prefix(8).lowercased()
        for (seed, faults) in [(UInt64(1), "digest")] {
            let proxy = try FaultProxy(registry: registry, directory: work + "/digest-\(seed)", seed: seed, rate: 1, faults: faults)
            defer { proxy.stop() }
            try FaultProxy.dockerConfig(work + "/docker", host: proxy.host, registry: registry)
            let output = try Run.command(Run.slipway, ["push", layout, "\(proxy.host)/faults/digest-\(run):t", "--retries", "2", "--progress", "plain"],
                                         environment: ["DOCKER_CONFIG": work + "/docker"])
            XCTAssertNotEqual(output.status, 0, "a wrong Docker-Content-Digest was accepted:\n\(output.stderr)")
            XCTAssertTrue(output.stderr.contains("content has digest"), output.stderr)
            XCTAssertGreaterThan(proxy.entries().filter { ($0["fault"] as? String) == "digest" }.count, 0)
            if let walk = try RegistryWalk.check(registry, repository: "faults/digest-\(run)", tag: "t") {
                XCTAssertEqual(walk.digest, digest, "the tag names another image")
                XCTAssertEqual(walk.problems, [])
            }
        }
    }
}

/// A value behind a lock, for results gathered on several threads.
final class Locked<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()
    init(_ value: Value) { self.value = value }
    func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
