import Foundation
import HTTP

/// Anything that yields AWS credentials (the chain, or fixed ones in tests).
public protocol AWSCredentialsProvider: Sendable {
    func credentials() async throws -> AWSCredentials
}

/// Fixed credentials.
public struct StaticAWSCredentials: AWSCredentialsProvider {
    public let value: AWSCredentials
    public init(_ value: AWSCredentials) { self.value = value }
    public func credentials() async throws -> AWSCredentials { value }
}

/// The default credential chain, in the SDKs' order: environment keys; the profile (static
/// keys, `role_arn` with `source_profile` or `credential_source`, `web_identity_token_file`,
/// `credential_process`); web identity from `AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN`; ECS
/// container credentials; EC2 instance metadata (IMDSv2). With `--profile` the environment keys
/// are skipped, as in the AWS CLI. Temporary credentials are cached and fetched again five
/// minutes before they expire. When nothing is found the error names every source and why.
public final class AWSCredentialChain: AWSCredentialsProvider {
    public let environment: AWSEnvironment
    /// Seconds before expiry at which temporary credentials are renewed.
    public let refreshMargin: TimeInterval
    private let cache = CredentialCache()

    public init(environment: AWSEnvironment, refreshMargin: TimeInterval = 300) {
        self.environment = environment
        self.refreshMargin = refreshMargin
    }

    public func credentials() async throws -> AWSCredentials {
        try await cache.get(margin: refreshMargin) { try await self.resolve() }
    }

    /// One walk of the chain, uncached.
    public func resolve() async throws -> AWSCredentials {
        var tried: [String] = []
        let env = environment
        if env.profileExplicit {
            tried.append("environment variables: skipped because --profile \(env.profileName) was given")
        } else {
            switch EnvironmentCredentialSource.load(env) {
            case .found(let c): return c
            case .skipped(let why): tried.append(why)
            }
        }
        switch try await ProfileCredentialSource(environment: env).load(profile: env.profileName) {
        case .found(let c): return c
        case .skipped(let why): tried.append(why)
        }
        switch try await WebIdentityCredentialSource.fromEnvironment(env) {
        case .found(let c): return c
        case .skipped(let why): tried.append(why)
        }
        switch try await ECSCredentialSource.load(env) {
        case .found(let c): return c
        case .skipped(let why): tried.append(why)
        }
        switch try await IMDSCredentialSource.load(env) {
        case .found(let c): return c
        case .skipped(let why): tried.append(why)
        }
        throw AWSError.noCredentials(tried: tried)
    }
}

/// The result of one source: credentials, or why it does not apply. A source that applies but
/// fails throws instead.
enum SourceOutcome: Sendable {
    case found(AWSCredentials)
    case skipped(String)
}

/// Shares one fetch among concurrent callers and keeps the result until it nears expiry.
actor CredentialCache {
    private var current: AWSCredentials?
    private var inflight: Task<AWSCredentials, Error>?

    func get(margin: TimeInterval, fetch: @escaping @Sendable () async throws -> AWSCredentials) async throws -> AWSCredentials {
        if let current, !current.expires(within: margin) { return current }
        let task: Task<AWSCredentials, Error>
        if let inflight { task = inflight } else {
            task = Task { try await fetch() }
            inflight = task
        }
        do {
            let fresh = try await task.value
            inflight = nil
            current = fresh
            return fresh
        } catch {
            inflight = nil
            // Still usable: keep going with them rather than fail a push in progress.
            if let current, !current.expires(within: 0) { return current }
            throw error
        }
    }
}

enum EnvironmentCredentialSource {
    static func load(_ env: AWSEnvironment) -> SourceOutcome {
        let id = env.value("AWS_ACCESS_KEY_ID")
        let secret = env.value("AWS_SECRET_ACCESS_KEY")
        switch (id, secret) {
        case (let id?, let secret?):
            return .found(AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: env.value("AWS_SESSION_TOKEN"),
                                         expiration: env.value("AWS_CREDENTIAL_EXPIRATION").flatMap(AWSDate.parse), source: "environment"))
        case (nil, nil):
            return .skipped("environment variables: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set")
        case (nil, _):
            return .skipped("environment variables: AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not")
        case (_, nil):
            return .skipped("environment variables: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not")
        }
    }
}

/// Credentials a profile describes, following `source_profile` chains.
struct ProfileCredentialSource {
    let environment: AWSEnvironment

    var files: String { "\(environment.config.credentialsFile), \(environment.config.configFile)" }

    func load(profile name: String) async throws -> SourceOutcome {
        guard let settings = environment.config.profiles[name] else {
            if environment.profileExplicit || environment.value("AWS_PROFILE") != nil {
                throw AWSError.credentials(source: "profile '\(name)'", message: "the profile is not defined in \(files)")
            }
            return .skipped("shared profile '\(name)': not found in \(files)")
        }
        if let credentials = try await resolve(name, settings, visited: []) { return .found(credentials) }
        if settings["sso_session"] != nil || settings["sso_start_url"] != nil {
            return .skipped("shared profile '\(name)': IAM Identity Center (SSO) profiles are not supported; export credentials (e.g. `aws configure export-credentials --format env`)")
        }
        return .skipped("shared profile '\(name)' in \(files): no aws_access_key_id/aws_secret_access_key, role_arn, web_identity_token_file or credential_process")
    }

    private func resolve(_ name: String, _ s: [String: String], visited: [String]) async throws -> AWSCredentials? {
        if visited.contains(name) {
            throw AWSError.credentials(source: "profile '\(name)'", message: "source_profile loop: \((visited + [name]).joined(separator: " → "))")
        }
        func nonEmpty(_ k: String) -> String? { s[k].flatMap { $0.isEmpty ? nil : $0 } }
        if let role = nonEmpty("role_arn") {
            let source: AWSCredentials
            if let sourceName = nonEmpty("source_profile") {
                guard let sourceSettings = environment.config.profiles[sourceName] else {
                    throw AWSError.credentials(source: "profile '\(name)'", message: "source_profile '\(sourceName)' is not defined in \(files)")
                }
                // A profile naming itself as source uses its own keys; any other source is
                // resolved fully (it may assume a role in turn: role chaining).
                if sourceName == name {
                    guard let c = staticKeys(sourceName, sourceSettings) else {
                        throw AWSError.credentials(source: "profile '\(name)'", message: "source_profile '\(sourceName)' has no static keys")
                    }
                    source = c
                } else {
                    guard let c = try await resolve(sourceName, sourceSettings, visited: visited + [name]) else {
                        throw AWSError.credentials(source: "profile '\(name)'", message: "source_profile '\(sourceName)' has no credentials")
                    }
                    source = c
                }
            } else if let credentialSource = nonEmpty("credential_source") {
                source = try await self.credentialSource(credentialSource, profile: name)
            } else if let tokenFile = nonEmpty("web_identity_token_file") {
                return try await WebIdentityCredentialSource.assume(environment: environment, roleARN: role, tokenFile: tokenFile,
                                                                    sessionName: nonEmpty("role_session_name"), source: "profile '\(name)' (web identity)")
            } else {
                throw AWSError.credentials(source: "profile '\(name)'", message: "role_arn needs source_profile, credential_source or web_identity_token_file")
            }
            let session = nonEmpty("role_session_name") ?? "slipway-\(Int(Date().timeIntervalSince1970))"
            let sts = STSClient(environment: environment, region: nonEmpty("region") ?? environment.configuredRegion)
            do {
                return try await sts.assumeRole(roleARN: role, sessionName: session, externalID: nonEmpty("external_id"),
                                                durationSeconds: nonEmpty("duration_seconds").flatMap { Int($0) }, credentials: source,
                                                source: "profile '\(name)' (assume role \(role))")
            } catch let error as AWSError {
                throw AWSError.credentials(source: "profile '\(name)' (assume role \(role))", message: error.description)
            }
        }
        if let command = nonEmpty("credential_process") {
            return try await ProcessCredentialSource.run(command, profile: name)
        }
        return staticKeys(name, s)
    }

    private func staticKeys(_ name: String, _ s: [String: String]) -> AWSCredentials? {
        guard let id = s["aws_access_key_id"], !id.isEmpty, let secret = s["aws_secret_access_key"], !secret.isEmpty else { return nil }
        return AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: s["aws_session_token"], source: "profile '\(name)'")
    }

    private func credentialSource(_ kind: String, profile: String) async throws -> AWSCredentials {
        let outcome: SourceOutcome
        switch kind {
        case "Environment": outcome = EnvironmentCredentialSource.load(environment)
        case "Ec2InstanceMetadata": outcome = try await IMDSCredentialSource.load(environment)
        case "EcsContainer": outcome = try await ECSCredentialSource.load(environment)
        default:
            throw AWSError.credentials(source: "profile '\(profile)'", message: "credential_source '\(kind)' is not one of Environment, Ec2InstanceMetadata, EcsContainer")
        }
        switch outcome {
        case .found(let c): return c
        case .skipped(let why): throw AWSError.credentials(source: "profile '\(profile)' (credential_source \(kind))", message: why)
        }
    }
}

/// STS AssumeRoleWithWebIdentity with an OIDC token read from a file (GitHub Actions OIDC,
/// EKS IRSA), read again at every refresh because the file is rotated.
enum WebIdentityCredentialSource {
    static func fromEnvironment(_ env: AWSEnvironment) async throws -> SourceOutcome {
        let file = env.value("AWS_WEB_IDENTITY_TOKEN_FILE"), role = env.value("AWS_ROLE_ARN")
        guard let file, let role else {
            if file == nil && role == nil { return .skipped("web identity: AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN are not set") }
            return .skipped("web identity: \(file == nil ? "AWS_WEB_IDENTITY_TOKEN_FILE" : "AWS_ROLE_ARN") is not set")
        }
        return .found(try await assume(environment: env, roleARN: role, tokenFile: file, sessionName: env.value("AWS_ROLE_SESSION_NAME"),
                                       source: "web identity (\(role))"))
    }

    static func assume(environment: AWSEnvironment, roleARN: String, tokenFile: String, sessionName: String?, source: String) async throws -> AWSCredentials {
        guard let data = FileManager.default.contents(atPath: tokenFile) else {
            throw AWSError.credentials(source: source, message: "cannot read the web identity token file \(tokenFile)")
        }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else { throw AWSError.credentials(source: source, message: "the web identity token file \(tokenFile) is empty") }
        Redactor.register(token)
        let sts = STSClient(environment: environment)
        do {
            return try await sts.assumeRoleWithWebIdentity(roleARN: roleARN, sessionName: sessionName ?? "slipway-\(Int(Date().timeIntervalSince1970))",
                                                           token: token, source: source)
        } catch let error as AWSError {
            throw AWSError.credentials(source: source, message: error.description)
        }
    }
}
