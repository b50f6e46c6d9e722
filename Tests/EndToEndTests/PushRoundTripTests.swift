import Foundation
import TestSupport
import XCTest

/// Issue 15 §1: what a push costs over a network, counted rather than timed. Pushes go through
/// `scripts/delay-proxy` (100 ms RTT, so that every request of one wave leaves before any
/// answer can come back) to the real Basic-auth registry; requests and their order come from
/// slipway's `--debug` log, connections from the proxy's count, results are checked with skopeo.
final class PushRoundTripTests: XCTestCase {
    var work = ""
    var registry: TestRegistries!
    var env: [String: String] = [:]
    var proxy: DelayProxy!

    override func setUpWithError() throws {
        (work, registry, env) = try TestRegistries.workspace()
        proxy = try DelayProxy(target: registry.basic, directory: work + "/proxy", rtt: 100)
        let login = try registry.login(proxy.host, environment: env)
        XCTAssertEqual(login.status, 0, login.stderr)
    }

    override func tearDownWithError() throws {
        proxy?.stop()
        try? FileManager.default.removeItem(atPath: work)
    }

    /// A two-platform layout of `layers` small layers per platform; `variant` changes only the
    /// arm64 files.
    private func layout(layers: Int, variant: String = "a") throws -> (path: String, index: String) {
        let context = work + "/ctx-\(variant)"
        var files = ["Dockerfile": "FROM scratch\nARG TARGETARCH\n" + (1...layers).map { "COPY $TARGETARCH/f\($0) /f\($0)\n" }.joined()]
        for i in 1...layers {
            files["amd64/f\(i)"] = "amd64 layer \(i)\n"
            files["arm64/f\(i)"] = "arm64 layer \(i) \(variant)\n"
        }
        try Run.write(files, under: context)
        let path = work + "/layout-\(variant)"
        let built = try Run.command(Run.slipway, ["build", "--platform", "linux/amd64,linux/arm64", "--progress", "quiet",
                                                  "--output", "type=oci,dest=\(path),tar=false", "-t", "rt:1", context], environment: env)
        XCTAssertEqual(built.status, 0, built.stderr)
        let index = try XCTUnwrap(built.stdout.split(separator: "\n").first { $0.hasPrefix("index ") }).dropFirst(6)
        return (path, String(index))
    }

    private func push(_ layout: String, to reference: String) throws -> [LoggedRequest] {
        let run = try Run.command(Run.slipway, ["push", "--debug", "--progress", "plain", layout + ":1", reference], environment: env)
        XCTAssertEqual(run.status, 0, run.stderr)
        return LoggedRequest.parse(run.stderr)
    }

    func testRePushOfAnUnchangedImageIsFiveRequestsInThreeWavesOnOneConnection() throws {
        let (path, index) = try layout(layers: 12)
        let repository = uniqueName("rt/same")
        let reference = "\(proxy.host)/\(repository):1"
        _ = try push(path, to: reference)
        try proxy.reset()
        let requests = try push(path, to: reference)

        // The ping, one wave of manifest HEADs by digest (index + 2 platforms), the tag.
        XCTAssertEqual(requests.map(\.summary), ["GET /v2/", "HEAD manifest", "HEAD manifest", "HEAD manifest", "PUT manifest"], "\(requests)")
        XCTAssertEqual(requests.map(\.wave), [1, 2, 2, 2, 3], "\(requests)")
        XCTAssertFalse(requests.contains { $0.path.contains("/blobs/") }, "present manifests vouch for their blobs: no blob HEAD")
        let connections = try proxy.connections()
        XCTAssertEqual(connections, 1, "the three HEADs are streams of the ping's HTTP/2 connection")
        XCTAssertTrue(requests.allSatisfy { $0.httpVersion == "2" }, "\(requests)")
        // Round trips: each wave one, plus TCP and TLS 1.3 set-up of each connection.
        let roundTrips = requests.map(\.wave).max()! + 2 * connections
        XCTAssertLessThanOrEqual(roundTrips, 10)
        XCTAssertEqual(try registry.servedDigest("\(registry.basic)/\(repository):1", host: registry.basic), index)
    }

    func testColdPushChecksEveryBlobInOneWaveOverOneMultiplexedConnection() throws {
        let (path, index) = try layout(layers: 12)
        let repository = uniqueName("rt/cold")
        try proxy.reset()
        let requests = try push(path, to: "\(proxy.host)/\(repository):1")
        let blobHeads = requests.filter { $0.method == "HEAD" && $0.path.contains("/blobs/") }
        XCTAssertEqual(blobHeads.count, 2 * 12 + 2, "every layer and config checked once")
        XCTAssertEqual(Set(blobHeads.map(\.wave)), [3], "all blob HEADs in one wave, after the ping and the manifest HEADs: \(requests)")
        XCTAssertTrue(blobHeads.allSatisfy { $0.httpVersion == "2" })
        let uploads = requests.filter { $0.method == "PUT" && $0.path.contains("/blobs/uploads/") }
        XCTAssertEqual(uploads.count, 2 * 12 + 2)
        XCTAssertTrue(uploads.allSatisfy { $0.httpVersion == "1.1" }, "blob bodies go over HTTP/1.1 connections")
        // One HTTP/2 connection for everything small, at most --jobs (8 by default) HTTP/1.1 ones for upload sessions.
        XCTAssertLessThanOrEqual(try proxy.connections(), 1 + 8)
        XCTAssertEqual(try registry.servedDigest("\(registry.basic)/\(repository):1", host: registry.basic), index)
    }

    func testPushAfterOnePlatformChangedChecksOnlyThatPlatformsBlobs() throws {
        let (first, _) = try layout(layers: 6, variant: "a")
        let (second, index) = try layout(layers: 6, variant: "b")
        let repository = uniqueName("rt/partial")
        _ = try push(first, to: "\(proxy.host)/\(repository):1")
        let requests = try push(second, to: "\(proxy.host)/\(repository):1")
        let blobHeads = requests.filter { $0.method == "HEAD" && $0.path.contains("/blobs/") }
        // The arm64 manifest is new: its 6 layers and config are checked; amd64's are not.
        XCTAssertEqual(blobHeads.count, 6 + 1, "\(requests)")
        let uploaded = requests.filter { $0.method == "PUT" && $0.path.contains("/blobs/uploads/") }
        XCTAssertEqual(uploaded.count, 6 + 1, "the changed layers and the arm64 config")
        XCTAssertEqual(try registry.servedDigest("\(registry.basic)/\(repository):1", host: registry.basic), index)
        let arm = try Run.json(Run.tool("skopeo", ["inspect", "--config"] + registry.skopeoAuth(registry.basic)
                                                  + ["--override-arch", "arm64", "docker://\(registry.basic)/\(repository):1"]))
        XCTAssertEqual(arm["architecture"] as? String, "arm64")
    }
}

/// One request of slipway's `--debug` log with its wave: 1 + the highest wave among the
/// answers logged before it was sent (a request sent after an answer may depend on it).
struct LoggedRequest: CustomStringConvertible {
    var method: String
    var path: String
    var wave: Int
    var httpVersion = ""

    var summary: String {
        if path == "/v2/" { return "\(method) /v2/" }
        if path.contains("/manifests/") { return "\(method) manifest" }
        return "\(method) \(path.contains("/blobs/uploads/") ? "upload" : "blob")"
    }

    var description: String { "\(method) \(path) [wave \(wave), HTTP/\(httpVersion)]" }

    static func parse(_ log: String) -> [LoggedRequest] {
        var requests: [LoggedRequest] = []
        var open: [String: [Int]] = [:]
        var answered = 0
        for line in log.split(separator: "\n") {
            let words = line.split(separator: " ")
            guard words.count >= 3, words[0] == "debug:" else { continue }
            if words[1] == "→" {
                let method = String(words[2])
                let path = URL(string: String(words[3]))?.path ?? ""
                requests.append(LoggedRequest(method: method, path: path.hasSuffix("/v2") ? "/v2/" : path, wave: answered + 1))
                open["\(method) \(words[3])", default: []].append(requests.count - 1)
            } else if words[1] == "←", words.count >= 6 {
                let key = "\(words[3]) \(words[4])"
                guard var waiting = open[key], !waiting.isEmpty else { continue }
                let index = waiting.removeFirst()
                open[key] = waiting
                requests[index].httpVersion = String(words[5].dropFirst("HTTP/".count))
                answered = max(answered, requests[index].wave)
            }
        }
        return requests
    }
}
