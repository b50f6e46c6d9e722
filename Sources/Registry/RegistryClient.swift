import Foundation
import HTTP
import OCI

/// The distribution-spec API of one registry (all its repositories): blob existence, mounts,
/// uploads, manifests, one file per API area (`RegistryClient+Auth`, `+Blobs`, `+Uploads`,
/// `+Manifests`). It owns the registry's auth state (one token per scope set, shared by
/// all parallel requests) and retries transient failures itself, so callers see one call per
/// protocol step. Stateless otherwise; safe to use from many tasks at once.
public final class RegistryClient: Sendable {
    /// The registry as in image references (`docker.io`, `localhost:5000`).
    public let registry: String
    public let transport: any HTTPTransport
    public let retry: RetryPolicy
    /// Called before each retry, for progress output.
    public let onRetry: (@Sendable (_ what: String, _ attempt: Int, _ delay: TimeInterval, _ error: RegistryError) -> Void)?
    let auth: Authenticator
    /// The API root (`https://host/` or `http://host/`) once the first ping has chosen it.
    let base = Locked<URL?>(nil)

    public init(registry: String, transport: any HTTPTransport = HTTPClient.shared,
                credentials: any CredentialProvider = DockerConfigCredentials(), retry: RetryPolicy = RetryPolicy(),
                onRetry: (@Sendable (_ what: String, _ attempt: Int, _ delay: TimeInterval, _ error: RegistryError) -> Void)? = nil) {
        self.registry = registry
        self.transport = transport
        self.retry = retry
        self.onRetry = onRetry
        auth = Authenticator(registry: registry, transport: transport, credentials: credentials)
    }

    /// The API host: Docker Hub's differs from its name.
    var apiHost: String { registry == ImageReference.dockerHub ? "registry-1.docker.io" : registry }

    func statusError(_ operation: String, _ response: HTTPResponse) -> RegistryError {
        .status(registry: registry, operation: operation, status: response.status, errors: RegistryErrorDetail.decode(response.body) ?? [])
    }

    func retryReporter(_ what: String) -> (@Sendable (Int, TimeInterval, RegistryError) -> Void)? {
        guard let onRetry else { return nil }
        return { attempt, delay, error in onRetry(what, attempt, delay, error) }
    }

    func url(_ path: String) async throws -> URL {
        let base = try await baseURL()
        return URL(string: path, relativeTo: base)!.absoluteURL
    }

    static func pushScope(_ repository: String) -> String { "repository:\(repository):pull,push" }
    static func pullScope(_ repository: String) -> String { "repository:\(repository):pull" }
}
