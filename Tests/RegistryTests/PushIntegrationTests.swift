import Foundation
import HTTP
import OCI
@testable import Registry
import TestSupport
import XCTest

/// Pushes to real registries (scripts/test-registry) and checks the result with skopeo.
final class PushIntegrationTests: XCTestCase {
    var images: TestImages!

    override func setUpWithError() throws {
        images = try TestImages()
    }

    override func tearDown() {
        images = nil
    }

    func uniqueRepository(_ prefix: String) -> String { uniqueName("slipway/\(prefix)") }

    func pusher(_ registries: TestRegistries, recorder: Recorder, options: PushOptions = PushOptions(), credentials: (any CredentialProvider)? = nil) -> Pusher {
        Pusher(store: images.store, transport: recorder, credentials: credentials ?? registries.credentials, options: options, onEvent: recorder.onEvent)
    }

    func testSingleManifestPushWithBasicAuthAndRepushUploadsNothing() async throws {
        let registries = try TestRegistries.get()
        let layers = [try images.layer(named: "a.txt", size: 3000), try images.layer(named: "b.txt", size: 100)]
        let manifest = try images.manifest(platform: Platform(os: "linux", architecture: "amd64"), layers: layers)
        let reference = try ImageReference(parsing: "\(registries.basic)/\(uniqueRepository("single")):v1")

        let recorder = Recorder(registries.httpClient())
        let results = try await pusher(registries, recorder: recorder).push(manifest, to: [reference])
        XCTAssertEqual(results.map(\.description), ["\(reference.name):v1@\(manifest.digest)"])
        XCTAssertEqual(recorder.count { if case .blobUploaded = $0 { return true } else { return false } }, 3, "2 layers + config")
        XCTAssertEqual(recorder.count { if case .manifestPushed = $0 { return true } else { return false } }, 2, "by digest, then the tag")

        // skopeo sees the same bytes under the tag, and can copy the image (verifying every blob).
        let raw = try registries.skopeo(["inspect", "--raw"] + registries.skopeoAuth(registries.basic) + ["docker://\(reference)"])
        XCTAssertEqual(Digest.sha256(of: raw), manifest.digest)
        let oci = images.root.appendingPathComponent("copy")
        _ = try registries.skopeo(["copy", "-q"] + registries.skopeoAuth(registries.basic, prefix: "src-") + ["docker://\(reference)", "oci:\(oci.path):v1"])
        let index = try CanonicalJSON.decode(Index.self, from: Data(contentsOf: oci.appendingPathComponent("index.json")), what: "copied index")
        XCTAssertEqual(index.manifests.first?.digest, manifest.digest)

        // A second push uploads no blob and writes only the tag.
        let again = Recorder(registries.httpClient())
        let second = try await pusher(registries, recorder: again).push(manifest, to: [reference])
        XCTAssertEqual(second, results)
        XCTAssertEqual(again.count { if case .blobSkipped = $0 { return true } else { return false } }, 3)
        XCTAssertEqual(again.count { if case .blobUploadStarted = $0 { return true } else { return false } }, 0)
        XCTAssertEqual(again.requestCount("PATCH") + again.requestCount("POST"), 0, "no upload session opened")
        XCTAssertEqual(again.count { if case .manifestSkipped = $0 { return true } else { return false } }, 1)
    }

    func testIndexPushWithTokenAuthToSeveralTags() async throws {
        let registries = try TestRegistries.get()
        let shared = try images.layer(named: "shared.txt", size: 5000)
        let amd = try images.manifest(platform: Platform(os: "linux", architecture: "amd64"), layers: [shared, try images.layer(named: "amd64.txt", size: 10)])
        let arm = try images.manifest(platform: Platform(os: "linux", architecture: "arm64", variant: "v8"), layers: [shared, try images.layer(named: "arm64.txt", size: 20)])
        let index = try images.index([amd, arm])
        let repository = uniqueRepository("multi")
        let references = try ["\(registries.token)/\(repository):1.0", "\(registries.token)/\(repository):latest"].map(ImageReference.init(parsing:))

        let recorder = Recorder(registries.httpClient())
        let results = try await pusher(registries, recorder: recorder, options: PushOptions(jobs: 3)).push(index, to: references)
        XCTAssertEqual(results.map(\.description), references.map { "\($0.name):\($0.tag!)@\(index.digest)" })
        XCTAssertEqual(recorder.count { if case .blobUploaded = $0 { return true } else { return false } }, 5, "shared layer once, 2 layers, 2 configs")
        // One token for the whole push (3 parallel uploads share it), not one per request.
        let tokens = try String(contentsOfFile: registries.tokenLog, encoding: .utf8).split(separator: "\n").filter { $0.contains(repository) }
        XCTAssertEqual(tokens, ["get slipway repository:\(repository):pull,push"])

        // Order: every blob before any manifest; children before the index; tags last.
        let pushed = recorder.events.withLock { $0 }.compactMap { event -> String? in
            switch event {
            case .blobUploaded: return "blob"
            case .manifestPushed(_, let d, let ref): return d.digest == index.digest ? (ref.hasPrefix("sha256:") ? "index" : "tag") : "manifest"
            default: return nil
            }
        }
        XCTAssertEqual(pushed, ["blob", "blob", "blob", "blob", "blob", "manifest", "manifest", "index", "tag", "tag"])

        let auth = registries.skopeoAuth(registries.token)
        let raw = try registries.skopeo(["inspect", "--raw"] + auth + ["docker://\(references[0])"])
        XCTAssertEqual(Digest.sha256(of: raw), index.digest)
        let config = try registries.skopeo(["inspect", "--override-arch", "arm64", "--config"] + auth + ["docker://\(references[1])"])
        let decoded = try JSONDecoder().decode(ImageConfig.self, from: config)
        XCTAssertEqual(decoded.architecture, "arm64")
        let oci = images.root.appendingPathComponent("copy")
        _ = try registries.skopeo(["copy", "-q", "--all"] + registries.skopeoAuth(registries.token, prefix: "src-") + ["docker://\(references[0])", "oci:\(oci.path):x"])
        let copied = try CanonicalJSON.decode(Index.self, from: Data(contentsOf: oci.appendingPathComponent("index.json")), what: "copied index")
        XCTAssertEqual(copied.manifests.first?.digest, index.digest)

    }

    func testChunkedUploadOfLargeBlob() async throws {
        let registries = try TestRegistries.get()
        let big = try images.layer(named: "big.bin", size: 13 << 20, random: true)
        XCTAssertGreaterThan(big.descriptor.size, 12 << 20)
        let manifest = try images.manifest(platform: Platform(os: "linux", architecture: "amd64"), layers: [big])
        let reference = try ImageReference(parsing: "\(registries.basic)/\(uniqueRepository("chunked")):big")
        let recorder = Recorder(registries.httpClient())
        let progress = Locked<Int64>(0)
        let pusher = Pusher(store: images.store, transport: recorder, credentials: registries.credentials, options: PushOptions(chunkSize: 5 << 20)) { event in
            recorder.onEvent(event)
            if case .blobProgress(_, let d, let bytes) = event, d.digest == big.descriptor.digest { progress.withLock { $0 = max($0, bytes) } }
        }
        _ = try await pusher.push(manifest, to: [reference])
        XCTAssertEqual(recorder.requestCount("PATCH"), 3, "13 MiB in 5 MiB chunks")
        XCTAssertEqual(progress.withLock { $0 }, big.descriptor.size)
        let oci = images.root.appendingPathComponent("copy")
        _ = try registries.skopeo(["copy", "-q"] + registries.skopeoAuth(registries.basic, prefix: "src-") + ["docker://\(reference)", "oci:\(oci.path):big"])
        XCTAssertTrue(FileManager.default.fileExists(atPath: oci.appendingPathComponent("blobs/sha256/\(big.descriptor.digest.hex)").path))
    }

    func testSecondRepositoryOfTheSameRegistryMountsBlobs() async throws {
        let registries = try TestRegistries.get()
        let manifest = try images.manifest(platform: Platform(os: "linux", architecture: "amd64"), layers: [try images.layer(named: "m.txt", size: 700)])
        let first = try ImageReference(parsing: "\(registries.token)/\(uniqueRepository("mount-a")):v1")
        let second = try ImageReference(parsing: "\(registries.token)/\(uniqueRepository("mount-b")):v1")
        let recorder = Recorder(registries.httpClient())
        let results = try await pusher(registries, recorder: recorder).push(manifest, to: [first, second])
        XCTAssertEqual(results.count, 2)
        XCTAssertEqual(recorder.count { if case .blobMounted(let r, _, _) = $0 { return r == second.name } else { return false } }, 2)
        let raw = try registries.skopeo(["inspect", "--raw"] + registries.skopeoAuth(registries.token) + ["docker://\(second)"])
        XCTAssertEqual(Digest.sha256(of: raw), manifest.digest)
    }

    func testWrongCredentialsGiveAClearError() async throws {
        let registries = try TestRegistries.get()
        let manifest = try images.manifest(platform: Platform(os: "linux", architecture: "amd64"), layers: [try images.layer(named: "w.txt", size: 10)])
        let wrongPassword = "definitely-wrong-\(UUID().uuidString)"
        for host in [registries.basic, registries.token] {
            let reference = try ImageReference(parsing: "\(host)/\(uniqueRepository("denied")):v1")
            let wrong = StaticCredentials([host: Credential(username: registries.user, password: wrongPassword)])
            let logged = Locked<[String]>([])
            let client = registries.httpClient { line in logged.withLock { $0.append(line) } }
            do {
                _ = try await pusher(registries, recorder: Recorder(client), credentials: wrong).push(manifest, to: [reference])
                XCTFail("push with a wrong password succeeded")
            } catch let error as RegistryError {
                guard case .unauthorized(let registry, _) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(registry, host)
                XCTAssertTrue(error.description.contains(host), error.description)
                XCTAssertTrue(error.description.contains("authentication failed"), error.description)
                XCTAssertFalse(error.description.contains(wrongPassword))
            }
            let log = logged.withLock { $0 }.joined(separator: "\n")
            XCTAssertTrue(log.contains("Authorization: Basic ***"), log)
            XCTAssertFalse(log.contains(Data("\(registries.user):\(wrongPassword)".utf8).base64EncodedString()))
        }

        // Anonymous access is refused with a hint to log in.
        let reference = try ImageReference(parsing: "\(registries.basic)/\(uniqueRepository("anon")):v1")
        do {
            _ = try await pusher(registries, recorder: Recorder(registries.httpClient()), credentials: AnonymousCredentials()).push(manifest, to: [reference])
            XCTFail("anonymous push succeeded")
        } catch {
            XCTAssertTrue("\(error)".contains("slipway login \(registries.basic)"), "\(error)")
        }
    }

    func testLoginVerifiesThenWritesConfigAndItsCredentialsWork() async throws {
        let registries = try TestRegistries.get()
        let config = images.root.appendingPathComponent("docker/config.json")
        let store = CredentialStore(configURL: config)
        for host in [registries.basic, registries.token] {
            do {
                try await store.login(registry: host, username: registries.user, password: "wrong-password", verifyingWith: registries.httpClient())
                XCTFail("login with a wrong password succeeded")
            } catch let error as RegistryError {
                guard case .unauthorized(let registry, _) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(registry, host)
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: config.path), "nothing saved after a failed login")
        }
        try await store.login(registry: "https://\(registries.basic)/", username: registries.user, password: registries.password, verifyingWith: registries.httpClient())
        try await store.login(registry: registries.token, username: registries.user, password: registries.password, verifyingWith: registries.httpClient())
        let mode = try FileManager.default.attributesOfItem(atPath: config.path)[.posixPermissions] as? NSNumber
        XCTAssertEqual(mode?.intValue, 0o600)

        // The saved credentials push.
        let manifest = try images.manifest(platform: Platform(os: "linux", architecture: "amd64"), layers: [try images.layer(named: "l.txt", size: 10)])
        let references = try [registries.basic, registries.token].map { try ImageReference(parsing: "\($0)/\(uniqueRepository("login")):v1") }
        let results = try await pusher(registries, recorder: Recorder(registries.httpClient()), credentials: DockerConfigCredentials(configURL: config)).push(manifest, to: references)
        XCTAssertEqual(results.count, 2)

        XCTAssertTrue(try store.logout(registry: registries.basic))
        let after = try await DockerConfigCredentials(configURL: config).credential(for: registries.basic)
        XCTAssertNil(after)
    }

    func testIdentityTokenUsesTheRefreshTokenGrant() async throws {
        let registries = try TestRegistries.get()
        let config = images.root.appendingPathComponent("docker/config.json")
        try FileManager.default.createDirectory(at: config.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(#"{"auths":{"\#(registries.token)":{"identitytoken":"slipway-test-refresh-token"}}}"#.utf8).write(to: config)
        let manifest = try images.manifest(platform: Platform(os: "linux", architecture: "amd64"), layers: [try images.layer(named: "i.txt", size: 10)])
        let repository = uniqueRepository("oauth")
        let reference = try ImageReference(parsing: "\(registries.token)/\(repository):v1")
        _ = try await pusher(registries, recorder: Recorder(registries.httpClient()), credentials: DockerConfigCredentials(configURL: config)).push(manifest, to: [reference])
        let tokens = try String(contentsOfFile: registries.tokenLog, encoding: .utf8).split(separator: "\n").filter { $0.contains(repository) }
        XCTAssertFalse(tokens.isEmpty)
        XCTAssertTrue(tokens.allSatisfy { $0.hasPrefix("refresh ") }, "\(tokens)")
    }

    func testMissingBlobInStoreFailsBeforeAnyManifest() async throws {
        let registries = try TestRegistries.get()
        let layer = try images.layer(named: "gone.txt", size: 10)
        let manifest = try images.manifest(platform: Platform(os: "linux", architecture: "amd64"), layers: [layer])
        try FileManager.default.removeItem(at: images.store.blobURL(layer.descriptor.digest))
        let reference = try ImageReference(parsing: "\(registries.basic)/\(uniqueRepository("missing")):v1")
        let recorder = Recorder(registries.httpClient())
        await XCTAssertThrowsAsync(try await pusher(registries, recorder: recorder).push(manifest, to: [reference]))
        XCTAssertEqual(recorder.requests.withLock { $0.filter { $0.hasPrefix("PUT ") && $0.contains("/manifests/") }.count }, 0, "no manifest written")
        let found = try await RegistryClient(registry: registries.basic, transport: registries.httpClient(), credentials: registries.credentials)
            .manifestExists("v1", in: reference.repository)
        XCTAssertNil(found)
    }
}
