import AWS
import Foundation
import XCTest

/// `--if-not-exists` compares only what was asked for, and says which differences `--update`
/// can apply.
final class ECRRepositoryDifferenceTests: XCTestCase {
    /// A repository as DescribeRepositories returns it; nil leaves the field out.
    private func repository(_ mutability: String?, scan: Bool?, encryption: String? = "AES256", key: String? = nil) throws -> ECRRepository {
        var fields: [String: Any] = ["repositoryName": "app"]
        if let mutability { fields["imageTagMutability"] = mutability }
        if let scan { fields["imageScanningConfiguration"] = ["scanOnPush": scan] }
        if let encryption { fields["encryptionConfiguration"] = key.map { ["encryptionType": encryption, "kmsKey": $0] } ?? ["encryptionType": encryption] }
        return try JSONDecoder().decode(ECRRepository.self, from: JSONSerialization.data(withJSONObject: fields))
    }

    func testOnlyRequestedSettingsAreCompared() throws {
        let existing = try repository("MUTABLE", scan: false)
        XCTAssertEqual(ECRRepositorySettings().differences(from: existing), [])
        XCTAssertEqual(ECRRepositorySettings(mutability: .mutable).differences(from: existing), [])
        XCTAssertEqual(ECRRepositorySettings(mutability: .immutable, scanOnPush: true).differences(from: existing).map(\.setting), [.mutability, .scanOnPush])
        XCTAssertEqual(ECRRepositorySettings().differences(from: try repository("IMMUTABLE", scan: true)), [], "no --scan-on-push does not ask for scanning off")
        // Absent fields are ECR's defaults: MUTABLE, AES256.
        XCTAssertEqual(ECRRepositorySettings(mutability: .mutable, encryption: .aes256).differences(from: try repository(nil, scan: nil, encryption: nil)), [])
    }

    func testEncryptionDifferencesCannotBeUpdated() throws {
        let kms = try repository("MUTABLE", scan: false, encryption: "KMS", key: "arn:aws:kms:us-east-1:123456789012:key/k1")
        XCTAssertEqual(ECRRepositorySettings(encryption: .kms(key: nil)).differences(from: kms), [])
        XCTAssertEqual(ECRRepositorySettings(encryption: .kms(key: "k1")).differences(from: kms), [], "a key id matches its ARN")
        let other = ECRRepositorySettings(encryption: .kms(key: "k2")).differences(from: kms)
        XCTAssertEqual(other.map(\.isUpdatable), [false])
        let aes = ECRRepositorySettings(encryption: .kms(key: nil)).differences(from: try repository("MUTABLE", scan: false))
        XCTAssertEqual(aes.map(\.description), ["encryption is AES256, requested KMS (encryption cannot be changed after a repository is created)"])
    }
}
