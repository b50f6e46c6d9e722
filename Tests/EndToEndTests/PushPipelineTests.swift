import Foundation
import TestSupport
import XCTest

/// Issue 15 §1: a cold push keeps the link busy. With `--jobs N`, N blob bodies are on the wire
/// at most, and the POSTs that open the next upload sessions go out while they are (over the
/// shared HTTP/2 connection), rather than each stream idling a round trip per blob; bodies stay
/// on at most N HTTP/1.1 connections. Counted from slipway's `--debug` log and the proxy's
/// connection count (`scripts/delay-proxy`, 100 ms RTT, in front of the real registry).
final class PushPipelineTests: XCTestCase {
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

    func testSessionsOpenWhileJobsBodiesAreInFlightAndBodiesStayOnJobsConnections() throws {
        let context = work + "/ctx"
        let layers = 8
        var files = ["Dockerfile": "FROM scratch\nARG TARGETARCH\n" + (1...layers).map { "COPY $TARGETARCH/f\($0) /f\($0)\n" }.joined()]
        for i in 1...layers {
            files["amd64/f\(i)"] = "amd64 layer \(i)\n"
            files["arm64/f\(i)"] = "arm64 layer \(i)\n"
        }
        try Run.write(files, under: context)
        let layout = work + "/layout"
        let built = try Run.command(Run.slipway, ["build", "--platform", "linux/amd64,linux/arm64", "--progress", "quiet",
                                                  "--output", "type=oci,dest=\(layout),tar=false", "-t", "p:1", context], environment: env)
        XCTAssertEqual(built.status, 0, built.stderr)
        let index = try XCTUnwrap(built.stdout.split(separator: "\n").first { $0.hasPrefix("index ") }).dropFirst(6)

        try proxy.reset()
        let repository = uniqueName("pipeline/cold")
        let run = try Run.command(Run.slipway, ["push", "--debug", "--jobs", "2", "--progress", "plain", layout + ":1",
                                                "\(proxy.host)/\(repository):1"], environment: env)
        XCTAssertEqual(run.status, 0, run.stderr)

        // Walk the log: bodies in flight (PUTs to upload sessions), and how many were in flight
        // when each session's POST left.
        var bodies = 0, mostBodies = 0, puts = 0
        var postsBesideBodies: [Int] = []
        for line in run.stderr.split(separator: "\n") {
            let words = line.split(separator: " ")
            guard words.count >= 4, words[0] == "debug:" else { continue }
            if words[1] == "→", words[3].contains("/blobs/uploads/") {
                if words[2] == "PUT" { bodies += 1; puts += 1; mostBodies = max(mostBodies, bodies) }
                if words[2] == "POST" { postsBesideBodies.append(bodies) }
            } else if words[1] == "←", words.count >= 5, words[3] == "PUT", words[4].contains("/blobs/uploads/") {
                bodies -= 1
            }
        }
        XCTAssertEqual(puts, 2 * layers + 2, "every layer and config uploaded once")
        XCTAssertEqual(postsBesideBodies.count, 2 * layers + 2)
        XCTAssertLessThanOrEqual(mostBodies, 2, "--jobs 2: at most two bodies at once")
        XCTAssertTrue(postsBesideBodies.contains(2), "a session opened while two bodies were in flight: \(postsBesideBodies)")
        XCTAssertLessThanOrEqual(try proxy.connections(), 1 + 2, "one HTTP/2 connection, bodies on at most --jobs HTTP/1.1 ones")
        XCTAssertEqual(try registry.servedDigest("\(registry.basic)/\(repository):1", host: registry.basic), String(index))
    }
}
