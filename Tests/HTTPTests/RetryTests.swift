import Foundation
import HTTP
import XCTest

final class RetryPolicyTests: XCTestCase {
    func testBackoffGrowsWithJitterAndHonoursRetryAfter() {
        let p = RetryPolicy(maxRetries: 5, initialDelay: 1, maxDelay: 8)
        for _ in 0..<50 {
            XCTAssert((0.5...1).contains(p.delay(attempt: 1, retryAfter: nil)))
            XCTAssert((2...4).contains(p.delay(attempt: 3, retryAfter: nil)))
            XCTAssert((4...8).contains(p.delay(attempt: 10, retryAfter: nil)))
        }
        XCTAssertEqual(p.delay(attempt: 1, retryAfter: 7), 7)
        XCTAssertEqual(p.delay(attempt: 1, retryAfter: 1000), 32, "Retry-After is bounded")
        XCTAssertEqual(RetryPolicy.parseRetryAfter("12"), 12)
        XCTAssertNil(RetryPolicy.parseRetryAfter("soon"))
    }
}

/// A transport answering from a script, one entry per request; counts what it was sent.
final class ScriptedTransport: HTTPTransport {
    enum Step: Sendable { case status(Int, retryAfter: String?), failure(HTTPError) }
    private let steps: Locked<[Step]>
    let sent = Locked(0)

    init(_ steps: [Step]) { self.steps = Locked(steps) }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        sent.withLock { $0 += 1 }
        let step = steps.withLock { $0.isEmpty ? Step.status(200, retryAfter: nil) : $0.removeFirst() }
        switch step {
        case .status(let status, let retryAfter):
            var headers = HTTPHeaders()
            if let retryAfter { headers.set("Retry-After", retryAfter) }
            return HTTPResponse(status: status, headers: headers, body: Data(), url: request.url)
        case .failure(let error):
            throw error
        }
    }

    func allowsPlainHTTP(host: String) -> Bool { false }
}

final class RetryingTransportTests: XCTestCase {
    let fast = RetryPolicy(maxRetries: 2, initialDelay: 0.001, maxDelay: 0.002)
    let request = HTTPRequest(method: "GET", url: URL(fileURLWithPath: "/"))

    func testTransientAnswersAndResetsAreSentAgain() async throws {
        let base = ScriptedTransport([.status(503, retryAfter: "0"), .failure(.transport(host: "h", message: "reset", retryable: true))])
        let reasons = Locked<[String]>([])
        let transport = RetryingTransport(base, policy: fast) { _, _, _, reason in reasons.withLock { $0.append(reason) } }
        let response = try await transport.send(request)
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(base.sent.withLock { $0 }, 3)
        XCTAssertEqual(reasons.withLock { $0 }.count, 2)
    }

    func testOutOfRetriesTheLastAnswerIsReturned() async throws {
        let base = ScriptedTransport([.status(500, retryAfter: nil), .status(502, retryAfter: nil), .status(503, retryAfter: nil), .status(200, retryAfter: nil)])
        let response = try await RetryingTransport(base, policy: fast).send(request)
        XCTAssertEqual(response.status, 503, "the caller judges the final answer")
        XCTAssertEqual(base.sent.withLock { $0 }, 3, "first attempt + 2 retries")
    }

    func testPermanentFailuresAreNotRetried() async throws {
        let refused = ScriptedTransport([.failure(.insecureNotAllowed(host: "h"))])
        do {
            _ = try await RetryingTransport(refused, policy: fast).send(request)
            XCTFail("expected a failure")
        } catch let error as HTTPError {
            XCTAssertEqual(error, .insecureNotAllowed(host: "h"))
        }
        XCTAssertEqual(refused.sent.withLock { $0 }, 1)

        let notFound = ScriptedTransport([.status(404, retryAfter: nil)])
        let response = try await RetryingTransport(notFound, policy: fast).send(request)
        XCTAssertEqual(response.status, 404)
        XCTAssertEqual(notFound.sent.withLock { $0 }, 1)
    }
}
