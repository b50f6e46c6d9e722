import Foundation

/// An existing repository compared with what `create-repository --if-not-exists` (or
/// `--create-repository`) asked for: the settings that would silently not hold otherwise,
/// such as tags that stay mutable in a release repository meant to be immutable.
public struct ECRRepositoryDifference: Sendable, Hashable, CustomStringConvertible {
    public enum Setting: String, Sendable, Hashable { case mutability, scanOnPush, encryption }

    public var setting: Setting
    public var existing: String
    public var requested: String

    /// Whether PutImageTagMutability / PutImageScanningConfiguration can apply it; encryption
    /// is fixed when a repository is created.
    public var isUpdatable: Bool { setting != .encryption }

    public var description: String {
        switch setting {
        case .mutability: return "image tag mutability is \(existing), requested \(requested)"
        case .scanOnPush: return "scan on push is \(existing), requested \(requested)"
        case .encryption: return "encryption is \(existing), requested \(requested) (encryption cannot be changed after a repository is created)"
        }
    }
}

extension ECRRepositorySettings {
    /// The settings asked for explicitly that `repository` does not have. Only what was asked
    /// for counts: no `--scan-on-push` does not ask for scanning to be off.
    public func differences(from repository: ECRRepository) -> [ECRRepositoryDifference] {
        var result: [ECRRepositoryDifference] = []
        let mutabilityNow = (repository.imageTagMutability ?? "MUTABLE").uppercased()
        let exclusionsNow = Set((repository.imageTagMutabilityExclusionFilters ?? []).map(\.filter))
        if let mutability, mutabilityNow != mutability.rawValue || exclusionsNow != Set(mutabilityExclusions) {
            result.append(.init(setting: .mutability, existing: repository.mutabilityDescription, requested: mutabilityDescription ?? mutability.rawValue))
        }
        if scanOnPush, repository.imageScanningConfiguration?.scanOnPush != true {
            result.append(.init(setting: .scanOnPush, existing: "off", requested: "on"))
        }
        let typeNow = (repository.encryptionConfiguration?.encryptionType ?? "AES256").uppercased()
        let keyNow = repository.encryptionConfiguration?.kmsKey
        switch encryption {
        case .none:
            break
        case .aes256:
            if typeNow != "AES256" { result.append(.init(setting: .encryption, existing: Self.describe(typeNow, keyNow), requested: "AES256")) }
        case .kms(let key):
            let keyMatches = key.map { wanted in keyNow.map { $0 == wanted || $0.hasSuffix("/" + wanted) } ?? false } ?? true
            if typeNow != "KMS" || !keyMatches {
                result.append(.init(setting: .encryption, existing: Self.describe(typeNow, keyNow), requested: Self.describe("KMS", key)))
            }
        }
        return result
    }

    private static func describe(_ type: String, _ key: String?) -> String {
        key.map { "\(type) (key \($0))" } ?? type
    }
}

extension ECRClient {
    /// Turns scanning on push on or off (PutImageScanningConfiguration).
    public func putImageScanningConfiguration(_ repository: String, scanOnPush: Bool, registryID: String? = nil,
                                              credentials: AWSCredentials) async throws {
        struct Input: Encodable { var repositoryName: String; var registryId: String?; var imageScanningConfiguration: ECRRepository.ScanConfig }
        struct Output: Decodable {}
        _ = try await rpc.call("PutImageScanningConfiguration",
                               Input(repositoryName: repository, registryId: registryID, imageScanningConfiguration: .init(scanOnPush: scanOnPush)),
                               as: Output.self, credentials: credentials)
    }
}
