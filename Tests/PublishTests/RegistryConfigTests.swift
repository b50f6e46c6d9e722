import Foundation
import Publish
import Registry
import XCTest

/// slipway's config file, per-registry identities and mirror rules, read as a user writes them.
final class RegistryConfigTests: XCTestCase {
    private func parse(_ json: String) throws -> SlipwayConfig {
        try SlipwayConfig.parse(Data(json.utf8), file: "/home/u/.config/slipway/config.json")
    }

    private func message(_ json: String) -> String {
        do { _ = try parse(json); return "parsed" } catch { return "\(error)" }
    }

    func testIdentitiesByHostBeatAccountAndTheCommandLineBeatsTheFile() throws {
        let config = try parse(#"""
        {"registries": {"111122223333": {"profile": "dev"},
                        "111122223333.dkr.ecr.eu-west-1.amazonaws.com": {"roleArn": "arn:aws:iam::111122223333:role/eu", "profile": "base", "externalId": "x"}}}
        """#)
        var identities = RegistryIdentities(configured: config.registries)
        XCTAssertEqual(identities.identity(for: "111122223333.dkr.ecr.us-east-1.amazonaws.com"), AWSIdentity(profile: "dev"))
        XCTAssertEqual(identities.identity(for: "111122223333.dkr.ecr.eu-west-1.amazonaws.com"),
                       AWSIdentity(profile: "base", roleARN: "arn:aws:iam::111122223333:role/eu", externalID: "x"))
        XCTAssertNil(identities.identity(for: "444455556666.dkr.ecr.us-east-1.amazonaws.com"))
        XCTAssertNil(identities.identity(for: "ghcr.io"))
        let (key, flag) = try RegistryIdentities.parseFlag("111122223333=arn:aws:iam::111122223333:role/ci")
        identities.commandLine[key] = flag
        XCTAssertEqual(identities.identity(for: "111122223333.dkr.ecr.eu-west-1.amazonaws.com"), AWSIdentity(roleARN: "arn:aws:iam::111122223333:role/ci"))
    }

    func testMistakesInTheFileAreNamed() {
        XCTAssertEqual(message("{}"), "parsed")
        XCTAssertEqual(message(""), "parsed")
        XCTAssertTrue(message("{").contains("config.json: not valid JSON"))
        XCTAssertTrue(message(#"{"registry": {}}"#).contains("unknown key 'registry' (known: mirrorFallback, registries, registryMirrors)"))
        XCTAssertTrue(message(#"{"registries": {"111122223333": {"profil": "dev"}}}"#).contains("registries.111122223333: unknown key 'profil'"))
        XCTAssertTrue(message(#"{"registries": {"111122223333": {}}}"#).contains("name a 'profile', a 'roleArn' or both"))
        XCTAssertTrue(message(#"{"registries": {"111122223333": {"roleArn": "arn:aws:iam::1:role/x"}}}"#).contains("is not an IAM role ARN"))
        XCTAssertTrue(message(#"{"registries": {"https://x/": {"profile": "a"}}}"#).contains("neither an ECR registry host"))
        XCTAssertTrue(message(#"{"registries": {"ghcr.io": {"profile": "a"}}}"#).contains("'ghcr.io' is neither an ECR registry host"))
        var identities = RegistryIdentities()
        XCTAssertThrowsError(try identities.addCopyIdentities(source: "ghcr.io/o/a:1", destinations: ["111122223333.dkr.ecr.us-east-1.amazonaws.com/a:1"],
                                                              sourceIdentity: AWSIdentity(profile: "dev"), destinationIdentity: nil))
        XCTAssertTrue(message(#"{"mirrorFallback": "yes"}"#).contains("'mirrorFallback' must be true or false"))
        XCTAssertTrue(message(#"{"registryMirrors": {"docker.io": [1]}}"#).contains("registryMirrors.docker.io must be a list"))
        XCTAssertThrowsError(try AWSIdentity(flag: "arn:aws:iam::111122223333:user/bob", name: "--dest-profile"))
        XCTAssertEqual(try AWSIdentity(flag: "prod", name: "--dest-profile"), AWSIdentity(profile: "prod"))
    }

    func testMirrorsRewriteTheNameKeepTagAndDigestAndAreTriedInOrder() throws {
        var mirrors = RegistryMirrors()
        try mirrors.add(flag: "index.docker.io=https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/docker-hub/")
        try mirrors.add(flag: "docker.io=mirror.gcr.io")
        try mirrors.add(flag: "ghcr.io=registry.example.com:5000/ghcr")
        let alpine = try ImageReference(parsing: "alpine:3.20")
        XCTAssertEqual(mirrors.candidates(for: alpine).map(\.description),
                       ["123456789012.dkr.ecr.eu-west-1.amazonaws.com/docker-hub/library/alpine:3.20", "mirror.gcr.io/library/alpine:3.20"])
        let pinned = try ImageReference(parsing: "bitnami/redis@sha256:" + String(repeating: "a", count: 64))
        XCTAssertEqual(mirrors.candidates(for: pinned).first?.description,
                       "123456789012.dkr.ecr.eu-west-1.amazonaws.com/docker-hub/bitnami/redis@sha256:" + String(repeating: "a", count: 64))
        XCTAssertEqual(mirrors.candidates(for: try ImageReference(parsing: "ghcr.io/o/app:1")).map(\.description), ["registry.example.com:5000/ghcr/o/app:1"])
        XCTAssertEqual(mirrors.candidates(for: try ImageReference(parsing: "quay.io/o/app:1")), [])
        for bad in ["docker.io", "docker.io=", "docker.io=mirror", "docker.io=docker.io/x", "=mirror.example.com", "a b=mirror.example.com", "docker.io=http://mirror.example.com"] {
            XCTAssertThrowsError(try mirrors.add(flag: bad), bad)
        }
        let config = try SlipwayConfig.parse(Data(#"{"registryMirrors": {"docker.io": "mirror.gcr.io"}, "mirrorFallback": true}"#.utf8), file: "c.json")
        XCTAssertEqual(config.registryMirrors, ["docker.io": ["mirror.gcr.io"]])
        XCTAssertTrue(config.mirrorFallback)
    }

    func testRepositoryPolicyKeepsForeignStatementsAndReplacesItsOwn() throws {
        let existing = #"{"Version":"2008-10-17","Statement":[{"Sid":"Other","Effect":"Allow","Principal":"*","Action":"ecr:ListImages"},{"Sid":"SlipwayPull","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::999988887777:root"]},"Action":["ecr:BatchGetImage"]}]}"#
        let (policy, kept) = try ECRRepositoryPolicy.merged(existing: existing, pull: [try ECRRepositoryPolicy.principal("444455556666")], push: [])
        XCTAssertEqual(kept, ["Other"])
        let statements = try XCTUnwrap(policy["Statement"] as? [[String: Any]])
        XCTAssertEqual(statements.map { $0["Sid"] as? String }, ["Other", "SlipwayPull"])
        XCTAssertEqual((statements[1]["Principal"] as? [String: [String]])?["AWS"], ["arn:aws:iam::444455556666:root"])
        XCTAssertTrue(ECRRepositoryPolicy.same(try ECRRepositoryPolicy.text(policy), try ECRRepositoryPolicy.text(policy, pretty: true)))
        XCTAssertThrowsError(try ECRRepositoryPolicy.principal("arn:aws:iam::4444:root"))
        XCTAssertEqual(try ECRRepositoryPolicy.principal("arn:aws:iam::444455556666:role/deploy"), "arn:aws:iam::444455556666:role/deploy")
    }
}
