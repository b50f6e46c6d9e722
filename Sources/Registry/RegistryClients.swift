import Foundation
import HTTP
import OCI

/// One `RegistryClient` per registry host, shared by every repository a pull or push touches
/// there, so each registry has one token cache and one set of connections.
final class RegistryClients: Sendable {
    typealias RetryHandler = @Sendable (_ what: String, _ attempt: Int, _ delay: TimeInterval, _ error: RegistryError) -> Void

    private let transport: any HTTPTransport
    private let credentials: any CredentialProvider
    private let retry: RetryPolicy
    private let onRetry: RetryHandler?
    private let clients = Locked<[String: RegistryClient]>([:])

    init(transport: any HTTPTransport, credentials: any CredentialProvider, retry: RetryPolicy, onRetry: RetryHandler?) {
        self.transport = transport
        self.credentials = credentials
        self.retry = retry
        self.onRetry = onRetry
    }

    func client(for registry: String) -> RegistryClient {
        clients.withLock { clients in
            if let existing = clients[registry] { return existing }
            let created = RegistryClient(registry: registry, transport: transport, credentials: credentials, retry: retry, onRetry: onRetry)
            clients[registry] = created
            return created
        }
    }
}
