import Foundation
import HTTP
import OCI
@testable import Registry
import XCTest

/// The real registries of `scripts/test-registry/start`. When `.ci/run` has started them it
/// exports `SLIPWAY_TEST_REGISTRY_DIR` (the state directory, holding `env`) and the tests use
/// them; otherwise the first test that needs them starts them in a private state directory and
/// stops them when the test process exits. Without docker-registry & co. the tests skip, unless
/// `SLIPWAY_TEST_REQUIRE_REGISTRY=1`.
struct TestRegistries: Sendable {
    let basic: String
    let token: String
    let certsDirectory: String
    let user: String
    let password: String
    let tokenLog: String
    let stateDirectory: String

    static let shared: Result<TestRegistries, TestRegistryError> = load()

    struct TestRegistryError: Error, CustomStringConvertible { var description: String }

    static var scripts: URL {
        // Tests/RegistryTests/TestRegistries.swift → repository root (symlinks resolved).
        URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/test-registry")
    }

    private static func load() -> Result<TestRegistries, TestRegistryError> {
        let env = ProcessInfo.processInfo.environment
        var stateDir = env["SLIPWAY_TEST_REGISTRY_DIR"]
        var startedHere = false
        if stateDir == nil || !FileManager.default.fileExists(atPath: stateDir! + "/env") {
            let dir = stateDir ?? FileManager.default.temporaryDirectory.appendingPathComponent("slipway-registry-tests-\(getpid())").path
            let result: Subprocess.Result
            do { result = try Subprocess.run(scripts.appendingPathComponent("start").path, [dir]) } catch {
                return .failure(TestRegistryError(description: "cannot run \(scripts.path)/start: \(error)"))
            }
            guard result.status == 0 else {
                return .failure(TestRegistryError(description: "scripts/test-registry/start failed: \(String(decoding: result.stderr, as: UTF8.self))"))
            }
            stateDir = dir
            startedHere = env["SLIPWAY_TEST_REGISTRY_DIR"] == nil
        }
        guard let text = try? String(contentsOfFile: stateDir! + "/env", encoding: .utf8) else {
            return .failure(TestRegistryError(description: "no env file in \(stateDir!)"))
        }
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { values[parts[0]] = parts[1] }
        }
        if startedHere {
            StartedRegistries.directory.withLock { $0 = stateDir }
            atexit {
                guard let dir = StartedRegistries.directory.withLock({ $0 }) else { return }
                _ = try? Subprocess.run(TestRegistries.scripts.appendingPathComponent("stop").path, [dir])
            }
        }
        return .success(TestRegistries(basic: values["SLIPWAY_TEST_BASIC_REGISTRY"] ?? "", token: values["SLIPWAY_TEST_TOKEN_REGISTRY"] ?? "",
                                        certsDirectory: values["SLIPWAY_TEST_CERTS_DIR"] ?? "", user: values["SLIPWAY_TEST_USER"] ?? "",
                                        password: values["SLIPWAY_TEST_PASSWORD"] ?? "", tokenLog: values["SLIPWAY_TEST_TOKEN_LOG"] ?? "",
                                        stateDirectory: stateDir!))
    }

    static func get() throws -> TestRegistries {
        switch shared {
        case .success(let r): return r
        case .failure(let e):
            // CI sets SLIPWAY_TEST_REQUIRE_REGISTRY=1 so a broken harness fails instead of skipping.
            if ProcessInfo.processInfo.environment["SLIPWAY_TEST_REQUIRE_REGISTRY"] == "1" { throw e }
            throw XCTSkip("test registries unavailable: \(e)")
        }
    }

    var credentials: StaticCredentials {
        let c = Credential(username: user, password: password)
        return StaticCredentials([basic: c, token: c])
    }

    func httpClient(log: (@Sendable (String) -> Void)? = nil) -> HTTPClient {
        var c = HTTPClient.Configuration()
        c.certsDirectories = [certsDirectory]
        c.allowLoopbackHTTP = false
        c.debugLog = log
        return HTTPClient(configuration: c)
    }

    /// skopeo with this registry's CA and login; returns stdout.
    func skopeo(_ arguments: [String]) throws -> Data {
        let result = try Subprocess.run("/usr/bin/skopeo", arguments)
        guard result.status == 0 else {
            throw TestRegistryError(description: "skopeo \(arguments.joined(separator: " ")) failed: \(String(decoding: result.stderr, as: UTF8.self))")
        }
        return result.stdout
    }

    func skopeoAuth(_ host: String, prefix: String = "") -> [String] {
        ["--\(prefix)cert-dir", "\(certsDirectory)/\(host)", "--\(prefix)creds", "\(user):\(password)"]
    }
}

enum StartedRegistries {
    static let directory = Locked<String?>(nil)
}

/// Builds small real images in a temporary content store: gzip'd tar layers made with `tar`
/// and `gzip -n`, configs and manifests through CanonicalJSON.
struct TestImages {
    let store: ContentStore
    let root: URL

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-images-\(UUID().uuidString)")
        store = try ContentStore(root: root.appendingPathComponent("store"))
    }

    func cleanUp() { try? FileManager.default.removeItem(at: root) }

    /// A layer holding one file of `size` bytes (random when `random`, else repeated text).
    func layer(named name: String, size: Int, random: Bool = false) throws -> (descriptor: Descriptor, diffID: Digest) {
        let work = root.appendingPathComponent("work-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work.appendingPathComponent("content"), withIntermediateDirectories: true)
        var bytes = Data(count: size)
        if random {
            bytes.withUnsafeMutableBytes { raw in
                var generator = SystemRandomNumberGenerator()
                let words = raw.bindMemory(to: UInt64.self)
                for i in 0..<words.count { words[i] = generator.next() }
            }
        } else {
            let text = Array("slipway \(name)\n".utf8)
            for i in 0..<size { bytes[i] = text[i % text.count] }
        }
        try bytes.write(to: work.appendingPathComponent("content/\(name)"))
        let tar = work.appendingPathComponent("layer.tar")
        try run("/bin/tar", ["--sort=name", "--mtime=@0", "--owner=0", "--group=0", "--numeric-owner", "-cf", tar.path, "-C", work.appendingPathComponent("content").path, "."])
        let diffID = try digest(of: tar)
        try run("/bin/gzip", ["-n", "-f", tar.path])
        let gz = URL(fileURLWithPath: tar.path + ".gz")
        let digest = try digest(of: gz)
        let size = try FileManager.default.attributesOfItem(atPath: gz.path)[.size] as! NSNumber
        let ingest = store.makeIngestURL()
        try FileManager.default.moveItem(at: gz, to: ingest)
        try store.commit(ingest: ingest, as: digest)
        try? FileManager.default.removeItem(at: work)
        return (Descriptor(mediaType: MediaType.layerGzip, digest: digest, size: size.int64Value), diffID)
    }

    func manifest(platform: Platform, layers: [(descriptor: Descriptor, diffID: Digest)]) throws -> Descriptor {
        var config = ImageConfig(platform: platform)
        config.rootfs = RootFS(diffIDs: layers.map(\.diffID))
        config.config?.cmd = ["/bin/sh"]
        let configDescriptor = try store.putJSON(config, mediaType: MediaType.imageConfig)
        var descriptor = try store.putJSON(Manifest(config: configDescriptor, layers: layers.map(\.descriptor)), mediaType: MediaType.imageManifest)
        descriptor.platform = platform
        return descriptor
    }

    func index(_ manifests: [Descriptor]) throws -> Descriptor {
        try store.putJSON(Index(manifests: manifests), mediaType: MediaType.imageIndex)
    }

    private func digest(of url: URL) throws -> Digest {
        // Test files are a few MiB at most.
        Digest.sha256(of: try Data(contentsOf: url))
    }

    private func run(_ tool: String, _ arguments: [String]) throws {
        let result = try Subprocess.run(tool, arguments)
        guard result.status == 0 else {
            throw TestRegistries.TestRegistryError(description: "\(tool) \(arguments) failed: \(String(decoding: result.stderr, as: UTF8.self))")
        }
    }
}

/// Collects push events and wraps the transport to count requests by method.
final class Recorder: HTTPTransport {
    let inner: any HTTPTransport
    let events = Locked<[PushEvent]>([])
    let requests = Locked<[String]>([])

    init(_ inner: any HTTPTransport) { self.inner = inner }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        requests.withLock { $0.append("\(request.method) \(request.url.path)") }
        return try await inner.send(request)
    }

    func allowsPlainHTTP(host: String) -> Bool { inner.allowsPlainHTTP(host: host) }

    var onEvent: @Sendable (PushEvent) -> Void { { [events] event in events.withLock { $0.append(event) } } }

    func count(_ predicate: (PushEvent) -> Bool) -> Int { events.withLock { $0.filter(predicate).count } }
    func requestCount(_ method: String) -> Int { requests.withLock { $0.filter { $0.hasPrefix(method + " ") }.count } }
}
