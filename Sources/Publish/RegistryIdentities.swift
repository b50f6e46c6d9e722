import AWS
import Foundation
import HTTP
import Registry

/// Which AWS identity logs in to which ECR registry: `copy --src-profile/--dest-profile` and
/// `--registry-profile` first (by host, then account id), then slipway's config file (by host,
/// then account id); a
/// registry no rule names uses `--profile` / the default chain. So one copy can read from a dev
/// account with the dev role and write to a prod account with the prod role.
public struct RegistryIdentities: Sendable, Hashable {
    /// From the command line (`--src-profile`, `--dest-profile`, `--registry-profile`): by host.
    public var commandLine: [String: AWSIdentity] = [:]
    /// From the config file: by host or by account id.
    public var configured: [String: AWSIdentity] = [:]

    public init(commandLine: [String: AWSIdentity] = [:], configured: [String: AWSIdentity] = [:]) {
        self.commandLine = commandLine
        self.configured = configured
    }

    public var isEmpty: Bool { commandLine.isEmpty && configured.isEmpty }

    /// The identity for `registry`, nil for the default.
    public func identity(for registry: String) -> AWSIdentity? {
        let host = registry.lowercased()
        let account = ECRHost(host)?.account
        return commandLine[host] ?? account.flatMap { commandLine[$0] } ?? configured[host] ?? account.flatMap { configured[$0] }
    }

    /// A rule's key as written (an ECR registry host or a 12-digit account id), lowercased;
    /// anything else is refused: AWS identities log in to ECR only (other registries take the
    /// docker config's credentials).
    public static func normalizedKey(_ key: String) throws -> String {
        let trimmed = key.trimmingCharacters(in: .whitespaces).lowercased()
        let isAccount = trimmed.count == 12 && trimmed.allSatisfy(\.isNumber)
        guard isAccount || ECRHost(trimmed) != nil || ECRHost.isPublic(trimmed) else {
            throw PublishError.invalidArgument("'\(key)' is neither an ECR registry host (ACCOUNT.dkr.ecr.REGION.amazonaws.com, public.ecr.aws) nor a 12-digit AWS account id")
        }
        return trimmed
    }

    /// `--registry-profile REGISTRY=PROFILE|ROLE_ARN`.
    public static func parseFlag(_ text: String) throws -> (String, AWSIdentity) {
        guard let eq = text.firstIndex(of: "="), eq != text.startIndex else {
            throw PublishError.invalidArgument("--registry-profile '\(text)': use REGISTRY=PROFILE or REGISTRY=ROLE_ARN")
        }
        let key = try normalizedKey(String(text[..<eq]))
        return (key, try AWSIdentity(flag: String(text[text.index(after: eq)...]), name: "--registry-profile \(key)"))
    }
}

/// The ECR logins of one command, one per identity: the default one and those
/// `RegistryIdentities` names, each with its own AWS environment (profile), credentials and
/// token cache entries, made when first needed.
public final class ECRLogins: Sendable {
    public let defaultLogin: ECRAuthorizationProvider
    let identities: RegistryIdentities
    let defaultProfile: String?
    let transport: any HTTPTransport
    let retry: RetryPolicy
    let cacheDirectory: URL?
    private let made = Locked<[AWSIdentity: ECRAuthorizationProvider]>([:])

    init(defaultLogin: ECRAuthorizationProvider, identities: RegistryIdentities, defaultProfile: String?,
         transport: any HTTPTransport, retry: RetryPolicy, cacheDirectory: URL?) {
        self.defaultLogin = defaultLogin
        self.identities = identities
        self.defaultProfile = defaultProfile
        self.transport = transport
        self.retry = retry
        self.cacheDirectory = cacheDirectory
    }

    /// The login for `registry`.
    public func login(for registry: String) throws -> ECRAuthorizationProvider {
        guard let identity = identities.identity(for: registry) else { return defaultLogin }
        if let existing = made.withLock({ $0[identity] }) { return existing }
        // A role without a profile is assumed from what the command would use otherwise.
        let environment = try AWSEnvironment(profile: identity.profile ?? defaultProfile, transport: transport, retry: retry)
        var credentials: any AWSCredentialsProvider = AWSCredentialChain(environment: environment)
        if let role = identity.roleARN {
            credentials = AssumedRoleCredentials(environment: environment, base: credentials, roleARN: role,
                                                 externalID: identity.externalID, sessionName: identity.sessionName)
        }
        let login = ECRAuthorizationProvider(environment: environment, awsCredentials: credentials, cacheDirectory: cacheDirectory)
        return made.withLock { made in
            if let raced = made[identity] { return raced }
            made[identity] = login
            return login
        }
    }
}

extension RegistryIdentities {
    /// `copy --src-profile/--dest-profile`: the source's registry reads as `source`, every
    /// destination's registry writes as `destination`. Identities are chosen per registry host,
    /// so one host cannot be both with different identities.
    public mutating func addCopyIdentities(source: String, destinations: [String], sourceIdentity: AWSIdentity?,
                                           destinationIdentity: AWSIdentity?) throws {
        func host(_ text: String) throws -> String {
            let registry: String
            do { registry = try ImageReference(parsing: text).registry.lowercased() } catch { throw PublishError.invalidArgument("\(error)") }
            guard ECRHost(registry) != nil || ECRHost.isPublic(registry) else {
                throw PublishError.invalidArgument("--src-profile/--dest-profile choose AWS identities for ECR registries; \(registry) is not one (its credentials come from the docker config)")
            }
            return registry
        }
        if let sourceIdentity {
            guard !source.hasPrefix("oci:") else { throw PublishError.invalidArgument("--src-profile needs a registry source, not an OCI layout") }
            commandLine[try host(source)] = sourceIdentity
        }
        guard let destinationIdentity else { return }
        for destination in destinations {
            let registry = try host(destination)
            if let existing = commandLine[registry], existing != destinationIdentity, sourceIdentity != nil {
                throw PublishError.invalidArgument("--src-profile and --dest-profile name different identities for the same registry \(registry); "
                                                   + "slipway chooses credentials per registry, so copy between two registries (accounts or regions)")
            }
            commandLine[registry] = destinationIdentity
        }
    }
}
