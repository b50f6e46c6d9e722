import Foundation
import HTTP
import TestSupport
import XCTest

/// The one multi-handle loop every request of a client runs in: many requests in flight at
/// once become streams of one HTTP/2 connection (counted by `scripts/delay-proxy` in front of
/// the real registry), and a cancelled task ends its transfer.
final class TransferLoopTests: XCTestCase {
    func testSixtyFourConcurrentRequestsShareOneHTTP2Connection() async throws {
        let registries = try TestRegistries.get()
        let scratch = try TemporaryDirectory(prefix: "slipway-loop")
        let proxy = try DelayProxy(target: registries.basic, directory: scratch.path, rtt: 20)
        defer { proxy.stop() }
        let (answers, bulkVersion) = try await Self.exchange(ca: registries.ca, url: URL(string: "https://\(proxy.host)/v2/")!)
        XCTAssertEqual(answers.count, 64)
        XCTAssertTrue(answers.allSatisfy { $0 == (401, "2") }, "\(Set(answers.map { "\($0.0) HTTP/\($0.1)" }))")
        XCTAssertEqual(bulkVersion, "1.1", "a bulk request never joins the h2 connection")
        // The client is gone, so are its connections: the proxy has counted them all.
        XCTAssertEqual(try proxy.connections(), 2, "64 streams on one connection (at most TransferLoop.streamsPerConnection, 100, share one), plus the bulk request's own")
    }

    /// 64 GETs at once (twice the pusher's HEAD wave), then one bulk GET, from a client that is released on return.
    private static func exchange(ca: String, url: URL) async throws -> ([(Int, String)], String) {
        var configuration = HTTPClient.Configuration()
        configuration.caFile = ca
        let client = HTTPClient(configuration: configuration)
        let answers = try await withThrowingTaskGroup(of: (Int, String).self) { group in
            for _ in 0..<64 {
                group.addTask {
                    let response = try await client.send(HTTPRequest(method: "GET", url: url))
                    return (response.status, response.httpVersion)
                }
            }
            var all: [(Int, String)] = []
            for try await answer in group { all.append(answer) }
            return all
        }
        var bulk = HTTPRequest(method: "GET", url: url)
        bulk.bulk = true
        return (answers, try await client.send(bulk).httpVersion)
    }

    func testCancellingATaskEndsItsTransfer() async throws {
        // A server that accepts and never answers.
        let server = try BackgroundServer.python("""
        import socket, time
        s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
        print(s.getsockname()[1], flush=True)
        held = []
        deadline = time.time() + 60
        s.settimeout(1)
        while time.time() < deadline:
            try: held.append(s.accept()[0])
            except socket.timeout: pass
        """)
        defer { server.stop() }
        let client = HTTPClient(configuration: HTTPClient.Configuration())
        let task = Task { try await client.send(HTTPRequest(method: "GET", url: URL(string: "http://127.0.0.1:\(server.port)/stall")!)) }
        try await Task.sleep(nanoseconds: 300_000_000)
        let started = Date()
        task.cancel()
        do {
            _ = try await task.value
            XCTFail("a request to a silent server answered")
        } catch let error as HTTPError {
            XCTAssertEqual(error, .cancelled)
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 5, "the loop notices the cancellation in its next progress callback")
    }
}
