import Foundation

/// One page of DescribeImageScanFindings: basic (`findings`) and enhanced (Amazon Inspector,
/// `enhancedFindings`) results in one shape.
public struct ECRScanFindings: Sendable, Hashable, Codable {
    public struct Status: Sendable, Hashable, Codable {
        /// IN_PROGRESS, COMPLETE, FAILED, UNSUPPORTED_IMAGE, ACTIVE, PENDING, SCAN_ELIGIBILITY_EXPIRED, FINDINGS_UNAVAILABLE, …
        public var status: String?
        public var description: String?
    }

    public struct Finding: Sendable, Hashable, Codable {
        public struct Attribute: Sendable, Hashable, Codable { public var key: String; public var value: String? }
        public var name: String?
        public var uri: String?
        public var severity: String?
        public var attributes: [Attribute]?
    }

    public struct EnhancedFinding: Sendable, Hashable, Codable {
        public struct Package: Sendable, Hashable, Codable { public var name: String?; public var version: String? }
        public struct Details: Sendable, Hashable, Codable {
            public var vulnerabilityId: String?
            public var vulnerablePackages: [Package]?
            public var sourceUrl: String?
        }
        public var severity: String?
        public var title: String?
        public var status: String?
        public var packageVulnerabilityDetails: Details?
    }

    public struct Findings: Sendable, Hashable, Codable {
        public var findingSeverityCounts: [String: Int]?
        public var findings: [Finding]?
        public var enhancedFindings: [EnhancedFinding]?
        public var imageScanCompletedAt: Double?
        public var vulnerabilitySourceUpdatedAt: Double?
    }

    public var repositoryName: String?
    public var imageScanStatus: Status?
    public var imageScanFindings: Findings?
    public var nextToken: String?
}

/// A registry's scanning configuration (Get/PutRegistryScanningConfiguration).
public struct ECRRegistryScanningConfiguration: Sendable, Hashable, Codable {
    public struct Filter: Sendable, Hashable, Codable {
        public var filter: String
        public var filterType: String
        public init(_ filter: String) { self.filter = filter; filterType = "WILDCARD" }
    }

    public struct Rule: Sendable, Hashable, Codable {
        /// SCAN_ON_PUSH, CONTINUOUS_SCAN or MANUAL.
        public var scanFrequency: String
        public var repositoryFilters: [Filter]
        public init(scanFrequency: String, repositoryFilters: [Filter]) {
            self.scanFrequency = scanFrequency
            self.repositoryFilters = repositoryFilters
        }
    }

    /// BASIC or ENHANCED.
    public var scanType: String
    public var rules: [Rule]

    public init(scanType: String, rules: [Rule]) {
        self.scanType = scanType
        self.rules = rules
    }

    /// The frequency the first rule matching `repository` gives it (CONTINUOUS_SCAN wins over
    /// SCAN_ON_PUSH, as in ECR), or nil.
    public func frequency(for repository: String) -> String? {
        let matching = rules.filter { $0.repositoryFilters.contains { Wildcard.matches($0.filter, repository) } }.map(\.scanFrequency)
        return matching.contains("CONTINUOUS_SCAN") ? "CONTINUOUS_SCAN" : matching.first
    }
}

extension ECRClient {
    struct ImageID: Encodable { var imageDigest: String?; var imageTag: String? }

    /// One page of DescribeImageScanFindings for the image with `digest`.
    public func describeImageScanFindings(_ repository: String, digest: String, nextToken: String? = nil, registryID: String? = nil,
                                          credentials: AWSCredentials) async throws -> ECRScanFindings {
        struct Input: Encodable { var repositoryName: String; var registryId: String?; var imageId: ImageID; var nextToken: String?; var maxResults: Int }
        return try await rpc.call("DescribeImageScanFindings",
                                  Input(repositoryName: repository, registryId: registryID, imageId: ImageID(imageDigest: digest), nextToken: nextToken, maxResults: 1000),
                                  as: ECRScanFindings.self, credentials: credentials)
    }

    /// StartImageScan (a basic, manual scan) of the image with `digest`; its status.
    public func startImageScan(_ repository: String, digest: String, registryID: String? = nil, credentials: AWSCredentials) async throws -> String? {
        struct Input: Encodable { var repositoryName: String; var registryId: String?; var imageId: ImageID }
        struct Output: Decodable { var imageScanStatus: ECRScanFindings.Status? }
        return try await rpc.call("StartImageScan", Input(repositoryName: repository, registryId: registryID, imageId: ImageID(imageDigest: digest)),
                                  as: Output.self, credentials: credentials).imageScanStatus?.status
    }

    public func getRegistryScanningConfiguration(credentials: AWSCredentials) async throws -> ECRRegistryScanningConfiguration {
        struct Input: Encodable {}
        struct Output: Decodable { var scanningConfiguration: ECRRegistryScanningConfiguration }
        return try await rpc.call("GetRegistryScanningConfiguration", Input(), as: Output.self, credentials: credentials).scanningConfiguration
    }

    public func putRegistryScanningConfiguration(_ configuration: ECRRegistryScanningConfiguration, credentials: AWSCredentials) async throws {
        struct Output: Decodable {}
        _ = try await rpc.call("PutRegistryScanningConfiguration", configuration, as: Output.self, credentials: credentials)
    }
}
