import Foundation
import HTTP
import OCI
import Registry

/// Collects push events and wraps the transport to count requests by method.
public final class Recorder: HTTPTransport {
    public let inner: any HTTPTransport
    public let events = Locked<[PushEvent]>([])
    public let requests = Locked<[String]>([])

    public init(_ inner: any HTTPTransport) { self.inner = inner }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        requests.withLock { $0.append("\(request.method) \(request.url.path)") }
        return try await inner.send(request)
    }

    public func allowsPlainHTTP(host: String) -> Bool { inner.allowsPlainHTTP(host: host) }

    public var onEvent: @Sendable (PushEvent) -> Void { { [events] event in events.withLock { $0.append(event) } } }

    public func count(_ predicate: (PushEvent) -> Bool) -> Int { events.withLock { $0.filter(predicate).count } }
    public func requestCount(_ method: String) -> Int { requests.withLock { $0.filter { $0.hasPrefix(method + " ") }.count } }
}
