import Foundation
import OCI
import Signing
import XCTest

/// Signatures made by cosign itself (and one by skopeo with claims), from containers/image's
/// `signature/fixtures` (Apache-2.0; payloads, signatures and public keys copied as data): slipway
/// writes the same payload bytes cosign does for that image, and accepts and refuses what a
/// cosign verifier would.
final class CosignFixtureTests: XCTestCase {
    static let cosignPub = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEFNLqFhf4fiN6o/glAuYnq2jYUeL0\nvRuLu/z39pmbVwS9ff5AYnlwaP9sxREajdLY9ynM6G1sy6AAmb7Z63TsLg==\n-----END PUBLIC KEY-----\n"
    static let cosign2Pub = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEwOkOF9xpfG8ghueIhnZ66ooujwt1\n+ReV3HupgKnGFYnEh3Hh1YTg5L6kN1Yakkt5WltRoav8/R3hpCtUO3Rldw==\n-----END PUBLIC KEY-----\n"
    static let image = "sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00"
    static let cosignPayload = #"{"critical":{"identity":{"docker-reference":"192.168.64.2:5000/cosign-signed-single-sample"},"image":{"docker-manifest-digest":"sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00"},"type":"cosign container image signature"},"optional":null}"#
    static let skopeoPayload = #"{"critical":{"identity":{"docker-reference":"192.168.64.2:5000/skopeo-signed:tag"},"image":{"docker-manifest-digest":"sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00"},"type":"cosign container image signature"},"optional":{"creator":"containers/image 5.21.2-dev","timestamp":1657296609}}"#

    func testSlipwayWritesCosignsPayloadBytes() throws {
        let payload = SimpleSigningPayload(dockerReference: "192.168.64.2:5000/cosign-signed-single-sample", manifestDigest: try Digest(parsing: Self.image))
        XCTAssertEqual(String(decoding: payload.encoded(), as: UTF8.self), Self.cosignPayload)
    }

    func testSignaturesMadeByCosignAndSkopeo() throws {
        let keys = ["cosign.pub": try PEMKeyFile.publicKey(pem: Data(Self.cosignPub.utf8), named: "cosign.pub"),
                    "cosign2.pub": try PEMKeyFile.publicKey(pem: Data(Self.cosign2Pub.utf8), named: "cosign2.pub")]
        let other = Digest.sha256(of: Data("another image".utf8))
        let rows: [(fixture: String, payload: String, signature: String, key: String, image: String, valid: Bool)] = [
            ("dir-img-cosign-valid/signature-1", Self.cosignPayload,
             "MEYCIQDmtamqYPjMg81nqeBhptrPls44aA/r7PwLmspINJY4MwIhANKRpqe2E9UCBtGFdPoz/8jAbaQm4uP4h+IpwKTE6ClR", "cosign.pub", Self.image, true),
            ("dir-img-cosign-valid/signature-1, other key", Self.cosignPayload,
             "MEYCIQDmtamqYPjMg81nqeBhptrPls44aA/r7PwLmspINJY4MwIhANKRpqe2E9UCBtGFdPoz/8jAbaQm4uP4h+IpwKTE6ClR", "cosign2.pub", Self.image, false),
            ("dir-img-cosign-valid/signature-1, other image", Self.cosignPayload,
             "MEYCIQDmtamqYPjMg81nqeBhptrPls44aA/r7PwLmspINJY4MwIhANKRpqe2E9UCBtGFdPoz/8jAbaQm4uP4h+IpwKTE6ClR", "cosign.pub", other.description, false),
            ("dir-img-cosign-valid-2/signature-2 (a second signature by the same key)", Self.cosignPayload,
             "MEQCID1ChQZ8l7JeDTEFJ2F9BXAQSVlnp5P8q+l4UJrZnTHqAiB2aeJdrdFVSKgfxt5xidTHIx/QCg6H+g8AXwu1G3d5oQ==", "cosign.pub", Self.image, true),
            ("dir-img-cosign-valid-2/signature-2, other key", Self.cosignPayload,
             "MEQCID1ChQZ8l7JeDTEFJ2F9BXAQSVlnp5P8q+l4UJrZnTHqAiB2aeJdrdFVSKgfxt5xidTHIx/QCg6H+g8AXwu1G3d5oQ==", "cosign2.pub", Self.image, false),
            ("dir-img-cosign-valid-with-tag/signature-1 (numeric claim)", Self.skopeoPayload,
             "MEUCIAhoI92AgO+sWjr6N+QjEDQE9Wwg1oaDDcaJIlALUqRlAiEA9+iphb/7b5T13Wy7KnlXMUM17uYTgEkUl97pu3GD/5M=", "cosign.pub", Self.image, true),
        ]
        for row in rows {
            let payload = Data(row.payload.utf8)
            let layer = Descriptor(mediaType: SimpleSigningPayload.mediaType, digest: Digest.sha256(of: payload), size: Int64(payload.count),
                                   annotations: [CosignSignatureImage.signatureAnnotation: row.signature])
            let outcome = SignatureCheck.check(layer: layer, payload: payload, imageDigest: try Digest(parsing: row.image), key: try XCTUnwrap(keys[row.key]))
            XCTAssertEqual(outcome == .valid, row.valid, "\(row.fixture): \(outcome)")
        }
        let claims = try SimpleSigningPayload.decode(Data(Self.skopeoPayload.utf8)).optional
        XCTAssertEqual(claims?["creator"], "containers/image 5.21.2-dev")
    }
}
