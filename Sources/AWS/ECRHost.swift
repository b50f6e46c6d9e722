import Foundation

/// A private ECR registry host name (`ACCOUNT.dkr.ecr.REGION.amazonaws.com` and its FIPS,
/// dual-stack, China, GovCloud and ISO forms), or ECR Public (`public.ecr.aws`).
public struct ECRHost: Sendable, Hashable, CustomStringConvertible {
    public var account: String
    public var region: String
    public var fips: Bool
    /// `ACCOUNT.dkr-ecr.REGION.on.aws`: the registry's IPv6-capable name.
    public var dualStack: Bool
    public var host: String

    public static let publicRegistry = "public.ecr.aws"

    // The pattern of DESIGN.md ("ECR facts").
    private static let pattern = #"^(\d{12})\.dkr([.-])ecr(-fips)?\.([a-zA-Z0-9][a-zA-Z0-9-_]*)\.(amazonaws\.com(\.cn)?|amazonaws\.eu|on\.aws|on\.amazonwebservices\.com\.cn|sc2s\.sgov\.gov|c2s\.ic\.gov|cloud\.adc-e\.uk|csp\.hci\.ic\.gov)$"#

    /// Parses a registry name (`host` or `host:port`; the port is ignored); nil when it is not ECR.
    public init?(_ registry: String) {
        var host = registry.lowercased()
        if let colon = host.lastIndex(of: ":"), !host.contains("]") { host = String(host[..<colon]) }
        guard let regex = try? NSRegularExpression(pattern: Self.pattern),
              let match = regex.firstMatch(in: host, range: NSRange(host.startIndex..., in: host)) else { return nil }
        func group(_ i: Int) -> String? {
            guard let r = Range(match.range(at: i), in: host) else { return nil }
            return String(host[r])
        }
        guard let account = group(1), let separator = group(2), let region = group(4) else { return nil }
        self.account = account
        self.region = region
        self.fips = group(3) != nil
        self.dualStack = separator == "-"
        self.host = host
    }

    public init(account: String, region: String, fips: Bool = false, dualStack: Bool = false) {
        self.account = account
        self.region = region
        self.fips = fips
        self.dualStack = dualStack
        let p = AWSPartition.of(region: region)
        if dualStack {
            let suffix = p.name == "aws-cn" ? "on.amazonwebservices.com.cn" : "on.aws"
            host = "\(account).dkr-ecr\(fips ? "-fips" : "").\(region).\(suffix)"
        } else {
            host = "\(account).dkr.ecr\(fips ? "-fips" : "").\(region).\(p.dnsSuffix)"
        }
    }

    public var description: String { host }

    /// Whether a registry name is ECR Public.
    public static func isPublic(_ registry: String) -> Bool { registry.lowercased() == publicRegistry }
}
