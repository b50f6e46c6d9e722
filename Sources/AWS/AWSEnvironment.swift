import Foundation
import HTTP

/// The AWS services slipway calls.
public enum AWSService: String, Sendable, CaseIterable {
    case ecr
    case ecrPublic = "ecr-public"
    case sts
    case kms

    /// The suffix of `AWS_ENDPOINT_URL_<ID>` (`ECR`, `ECR_PUBLIC`, `STS`, `KMS`).
    var environmentID: String { rawValue.uppercased().replacingOccurrences(of: "-", with: "_") }
    /// The key of a profile's `services` section entry.
    var configID: String { rawValue.replacingOccurrences(of: "-", with: "_") }
}

/// An AWS partition: the DNS suffixes of its endpoints.
public struct AWSPartition: Sendable, Hashable {
    public var name: String
    public var dnsSuffix: String
    public var dualStackDNSSuffix: String

    /// The partition a region belongs to (`cn-north-1` → aws-cn, `us-gov-west-1` → aws-us-gov, …).
    public static func of(region: String) -> AWSPartition {
        if region.hasPrefix("cn-") { return AWSPartition(name: "aws-cn", dnsSuffix: "amazonaws.com.cn", dualStackDNSSuffix: "api.amazonwebservices.com.cn") }
        if region.hasPrefix("us-gov-") { return AWSPartition(name: "aws-us-gov", dnsSuffix: "amazonaws.com", dualStackDNSSuffix: "api.aws") }
        if region.hasPrefix("us-isob-") { return AWSPartition(name: "aws-iso-b", dnsSuffix: "sc2s.sgov.gov", dualStackDNSSuffix: "sc2s.sgov.gov") }
        if region.hasPrefix("us-isof-") { return AWSPartition(name: "aws-iso-f", dnsSuffix: "csp.hci.ic.gov", dualStackDNSSuffix: "csp.hci.ic.gov") }
        if region.hasPrefix("us-iso-") { return AWSPartition(name: "aws-iso", dnsSuffix: "c2s.ic.gov", dualStackDNSSuffix: "c2s.ic.gov") }
        if region.hasPrefix("eu-isoe-") { return AWSPartition(name: "aws-iso-e", dnsSuffix: "cloud.adc-e.uk", dualStackDNSSuffix: "cloud.adc-e.uk") }
        if region.hasPrefix("eusc-") { return AWSPartition(name: "aws-eusc", dnsSuffix: "amazonaws.eu", dualStackDNSSuffix: "amazonaws.eu") }
        return AWSPartition(name: "aws", dnsSuffix: "amazonaws.com", dualStackDNSSuffix: "api.aws")
    }
}

/// What every AWS call needs: the environment, the selected profile, the region, endpoint
/// overrides and the HTTP transports. Built once per command.
public struct AWSEnvironment: Sendable {
    public var environment: [String: String]
    /// `--profile`, else `AWS_PROFILE`, else `default`.
    public var profileName: String
    /// Whether the profile was named on the command line (then environment keys are skipped,
    /// as the AWS CLI does).
    public var profileExplicit: Bool
    public var config: AWSSharedConfig
    /// `--region`.
    public var regionOverride: String?
    /// Transport for AWS APIs: the given one (or one from the environment) wrapped in
    /// `RetryingTransport` with `retry`, so every STS and ECR call retries transient failures.
    public var transport: any HTTPTransport
    /// Transport for the link-local metadata services (short timeouts, plain HTTP allowed). Not
    /// retrying: probing a service that is not there must fail fast so the chain moves on.
    public var metadataTransport: any HTTPTransport
    /// The retry policy of AWS calls (the registry's `--retries`), also used for metadata
    /// requests once the service has shown it is there.
    public var retry: RetryPolicy

    public init(environment: [String: String] = ProcessInfo.processInfo.environment, profile: String? = nil, region: String? = nil,
                transport: (any HTTPTransport)? = nil, metadataTransport: (any HTTPTransport)? = nil, retry: RetryPolicy = RetryPolicy()) throws {
        self.environment = environment
        let fromEnv = environment["AWS_PROFILE"].flatMap { $0.isEmpty ? nil : $0 }
        self.profileName = profile ?? fromEnv ?? "default"
        self.profileExplicit = profile != nil
        self.config = try AWSSharedConfig.load(environment: environment)
        self.regionOverride = region.flatMap { $0.isEmpty ? nil : $0 }
        let base = HTTPClient.Configuration.fromEnvironment(environment)
        self.retry = retry
        self.transport = RetryingTransport(transport ?? HTTPClient(configuration: base), policy: retry)
        if let metadataTransport {
            self.metadataTransport = metadataTransport
        } else {
            var m = base
            m.connectTimeout = 2
            m.lowSpeedTime = 5
            m.insecureHosts.formUnion(["169.254.169.254", "169.254.170.2", "169.254.170.23", "[fd00:ec2::254]", "[fd00:ec2::23]", "fd00:ec2::254", "fd00:ec2::23"])
            if let endpoint = environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"].flatMap(URL.init(string:)), let host = endpoint.host {
                m.insecureHosts.insert(host)
                if let port = endpoint.port { m.insecureHosts.insert("\(host):\(port)") }
            }
            if let full = environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"].flatMap(URL.init(string:)), let host = full.host, ECSCredentialSource.isAllowedHost(host) {
                m.insecureHosts.insert(host)
            }
            self.metadataTransport = HTTPClient(configuration: m)
        }
    }

    /// The selected profile's settings (empty when it does not exist).
    public var profile: [String: String] { config.profiles[profileName] ?? [:] }

    func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }

    /// `--region`, `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`, else `fallback`
    /// (the region of a registry host).
    public func region(fallback: String? = nil) throws -> String {
        if let r = regionOverride ?? value("AWS_REGION") ?? value("AWS_DEFAULT_REGION") ?? profile["region"].flatMap({ $0.isEmpty ? nil : $0 }) ?? fallback {
            return r
        }
        throw AWSError.noRegion("pass --region, set AWS_REGION or AWS_DEFAULT_REGION, or set `region` in profile '\(profileName)' of \(config.configFile)")
    }

    /// The region if one is configured, without failing.
    public var configuredRegion: String? { try? region() }

    private func flag(_ env: String, _ key: String) -> Bool {
        if let v = value(env) { return v.lowercased() == "true" }
        return profile[key]?.lowercased() == "true"
    }

    /// `AWS_USE_FIPS_ENDPOINT` / profile `use_fips_endpoint`.
    public var useFIPS: Bool { flag("AWS_USE_FIPS_ENDPOINT", "use_fips_endpoint") }
    /// `AWS_USE_DUALSTACK_ENDPOINT` / profile `use_dualstack_endpoint`.
    public var useDualStack: Bool { flag("AWS_USE_DUALSTACK_ENDPOINT", "use_dualstack_endpoint") }

    /// The endpoint of `service` in `region`: `AWS_ENDPOINT_URL_<SERVICE>`, the profile's
    /// `endpoint_url`, `AWS_ENDPOINT_URL` (unless `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`), else the
    /// partition's host, in its FIPS and/or dual-stack form when asked for.
    public func endpoint(_ service: AWSService, region: String, fips: Bool? = nil, dualStack: Bool? = nil) throws -> URL {
        let ignore = (value("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") ?? profile["ignore_configured_endpoint_urls"] ?? "").lowercased() == "true"
        if !ignore, let text = value("AWS_ENDPOINT_URL_\(service.environmentID)") ?? profile["endpoint_url"].flatMap({ $0.isEmpty ? nil : $0 }) ?? value("AWS_ENDPOINT_URL") {
            guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https", url.host != nil else {
                throw AWSError.invalidRequest("endpoint URL '\(text)' for \(service.rawValue) is not an http(s) URL")
            }
            return url
        }
        return try Self.defaultEndpoint(service, region: region, fips: fips ?? useFIPS, dualStack: dualStack ?? useDualStack)
    }

    /// The SDKs' endpoint rules for the four services.
    public static func defaultEndpoint(_ service: AWSService, region: String, fips: Bool, dualStack: Bool) throws -> URL {
        guard !region.isEmpty, region.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else {
            throw AWSError.invalidRequest("'\(region)' is not an AWS region")
        }
        let p = AWSPartition.of(region: region)
        let host: String
        switch (service, fips, dualStack) {
        case (.ecr, true, true): host = "api.ecr-fips.\(region).\(p.dualStackDNSSuffix)"
        case (.ecr, true, false): host = "ecr-fips.\(region).\(p.dnsSuffix)"
        case (.ecr, false, true): host = "api.ecr.\(region).\(p.dualStackDNSSuffix)"
        case (.ecr, false, false): host = "api.ecr.\(region).\(p.dnsSuffix)"
        case (.ecrPublic, _, true): host = "ecr-public.\(region).\(p.dualStackDNSSuffix)"
        case (.ecrPublic, _, false): host = "api.ecr-public.\(region).\(p.dnsSuffix)"
        case (.sts, true, true): host = "sts-fips.\(region).\(p.dualStackDNSSuffix)"
        case (.sts, true, false): host = "sts-fips.\(region).\(p.dnsSuffix)"
        case (.sts, false, true): host = "sts.\(region).\(p.dualStackDNSSuffix)"
        case (.sts, false, false): host = "sts.\(region).\(p.dnsSuffix)"
        case (.kms, true, true): host = "kms-fips.\(region).\(p.dualStackDNSSuffix)"
        case (.kms, true, false): host = "kms-fips.\(region).\(p.dnsSuffix)"
        case (.kms, false, true): host = "kms.\(region).\(p.dualStackDNSSuffix)"
        case (.kms, false, false): host = "kms.\(region).\(p.dnsSuffix)"
        }
        guard let url = URL(string: "https://\(host)/") else { throw AWSError.invalidRequest("bad endpoint host \(host)") }
        return url
    }
}
