import Foundation
import HTTP
import OCI
import Registry

/// A transport double: every request is logged and answered by `handler`, for protocol
/// details real servers do not show on demand (ECR's quirks, token expiry, broken uploads).
public final class FakeTransport: HTTPTransport {
    public typealias Handler = @Sendable (HTTPRequest) -> HTTPResponse
    public let handler: Handler
    public let log = Locked<[HTTPRequest]>([])
    private let plainHTTP: Bool

    public init(allowingPlainHTTP: Bool = false, _ handler: @escaping Handler) {
        plainHTTP = allowingPlainHTTP
        self.handler = handler
    }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        log.withLock { $0.append(request) }
        return handler(request)
    }

    public func allowsPlainHTTP(host: String) -> Bool { plainHTTP }

    public var requests: [HTTPRequest] { log.withLock { $0 } }
    public func lines() -> [String] { requests.map { "\($0.method) \($0.path)" } }
}

public extension HTTPRequest {
    /// The path with its trailing slash (`URL.path` drops it, and `/v2/` is not `/v2`).
    var path: String { URLComponents(url: url, resolvingAgainstBaseURL: true)?.path ?? "" }
}

public func reply(_ request: HTTPRequest, _ status: Int, _ headers: HTTPHeaders = HTTPHeaders(), body: String = "") -> HTTPResponse {
    HTTPResponse(status: status, headers: headers, body: Data(body.utf8), url: request.url)
}

public extension HTTPRequest {
    /// A POST of `body` to `url` (a test literal, so always a valid URL).
    static func post(_ url: String, body: String) -> HTTPRequest {
        HTTPRequest(method: "POST", url: URL(string: url) ?? URL(fileURLWithPath: "/"), body: .data(Data(body.utf8)))
    }
}
