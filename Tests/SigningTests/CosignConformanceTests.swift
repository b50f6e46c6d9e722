import Foundation
import OCI
import Signing
import XCTest

/// cosign's format-level test cases, one row per upstream case:
/// sigstore/sigstore `pkg/signature/payload/payload_test.go` (TestMarshalCosign,
/// TestUnmarshalCosign), cosign `pkg/oci/internal/signature/layer_test.go` (TestSignature) and
/// the tag-discovery example of cosign `specs/SIGNATURE_SPEC.md`. Rows that need what slipway
/// does not implement (non-string claims, certificates, chains, Rekor bundles: slipway signs
/// with keys only) are listed with the reason and checked to stay out of the way.
final class CosignConformanceTests: XCTestCase {
    static let validDigest = "sha256:d34db33fd34db33fd34db33fd34db33fd34db33fd34db33fd34db33fd34db33f"

    // TestMarshalCosign
    func testMarshalCosign() throws {
        let digest = try Digest(parsing: Self.validDigest)
        let rows: [(desc: String, reference: String, claims: [String: String]?, expected: String?)] = [
            ("no claims", "example.com/test/image", nil,
             #"{"critical":{"identity":{"docker-reference":"example.com/test/image"},"image":{"docker-manifest-digest":"sha256:d34db33fd34db33fd34db33fd34db33fd34db33fd34db33fd34db33fd34db33f"},"type":"cosign container image signature"},"optional":null}"#),
            // Upstream's claims include the number 1458239713; slipway's claims are strings (cosign sign -a KEY=VALUE).
            ("standard atomic signature (string claims)", "example.com/atomic/test/image", ["creator": "atomic", "timestamp": "1458239713"],
             #"{"critical":{"identity":{"docker-reference":"example.com/atomic/test/image"},"image":{"docker-manifest-digest":"sha256:d34db33fd34db33fd34db33fd34db33fd34db33fd34db33fd34db33fd34db33f"},"type":"cosign container image signature"},"optional":{"creator":"atomic","timestamp":"1458239713"}}"#),
            // Upstream's "arbitrary claims" has nested objects and floats: not applicable (string claims only); its key order is checked.
            ("arbitrary claims (key order)", "example.com/cosign/test/image", ["creator": "anyone", "CamelCase WithSpace": "8.314", "some_struct": "x"],
             #"{"critical":{"identity":{"docker-reference":"example.com/cosign/test/image"},"image":{"docker-manifest-digest":"sha256:d34db33fd34db33fd34db33fd34db33fd34db33fd34db33fd34db33fd34db33f"},"type":"cosign container image signature"},"optional":{"CamelCase WithSpace":"8.314","creator":"anyone","some_struct":"x"}}"#),
        ]
        for row in rows {
            let payload = SimpleSigningPayload(dockerReference: row.reference, manifestDigest: digest, optional: row.claims)
            XCTAssertEqual(String(decoding: payload.encoded(), as: UTF8.self), row.expected, row.desc)
        }
    }

    // TestUnmarshalCosign
    func testUnmarshalCosign() throws {
        let rows: [(desc: String, payload: String, reference: String?, claims: [String: String]?)] = [
            ("no claims",
             #"{"critical":{"identity":{"docker-reference":"example.com/test/image"},"image":{"docker-manifest-digest":"sha256:d34db33fd34db33fd34db33fd34db33fd34db33fd34db33fd34db33fd34db33f"},"type":"cosign container image signature"},"optional":null}"#,
             "example.com/test/image", nil),
            ("arbitrary claims",
             #"{"critical":{"identity":{"docker-reference":"example.com/cosign/test/image"},"image":{"docker-manifest-digest":"sha256:d34db33fd34db33fd34db33fd34db33fd34db33fd34db33fd34db33fd34db33f"},"type":"cosign container image signature"},"optional":{"CamelCase WithSpace":8.314,"creator":"anyone","some_struct":{"false":true,"foo":"bar","nothing":null}}}"#,
             "example.com/cosign/test/image", ["CamelCase WithSpace": "8.314", "creator": "anyone", "some_struct": "(structured)"]),
            ("unknown type",
             #"{"critical":{"identity":{"docker-reference":"example.com/atomic/test/image"},"image":{"docker-manifest-digest":"sha256:d34db33fd34db33fd34db33fd34db33fd34db33fd34db33fd34db33fd34db33f"},"type":"atomic container signature"},"optional":{}}"#,
             nil, nil),
        ]
        for row in rows {
            let decoded = Result { try SimpleSigningPayload.decode(Data(row.payload.utf8)) }
            switch (decoded, row.reference) {
            case (.success(let payload), .some(let reference)):
                XCTAssertEqual(payload.dockerReference, reference, row.desc)
                XCTAssertEqual(payload.manifestDigest.description, Self.validDigest, row.desc)
                XCTAssertEqual(payload.optional, row.claims, row.desc)
            case (.failure(let error), .none):
                XCTAssertTrue("\(error)".contains("unknown type 'atomic container signature'"), "\(row.desc): \(error)")
            case (.success, .none): XCTFail("\(row.desc): decoded, wanted an error")
            case (.failure(let error), .some): XCTFail("\(row.desc): \(error)")
            }
        }
    }

    // TestSignature (layer annotations)
    func testSignatureLayer() throws {
        let digest = Digest.sha256(of: Data("layer".utf8))
        let sig = CosignSignatureImage.signatureAnnotation
        let cert = "dev.sigstore.cosign/certificate", chain = "dev.sigstore.cosign/chain", bundle = "dev.sigstore.cosign/bundle"
        let rows: [(name: String, annotations: [String: String]?, wantSig: String?, wantError: String?)] = [
            ("just payload and signature", [sig: "blah"], "blah", nil),
            ("with empty other keys", [sig: "blah", cert: "", chain: "", bundle: ""], "blah", nil),
            ("missing signature", nil, nil, "signature layer \(digest) is missing \"dev.cosignproject.cosign/signature\" annotation"),
            // Not applicable (slipway verifies with keys, never reads certificates, chains or bundles): the signature is still read.
            ("min plus bad bundle", [sig: "blah", bundle: "}"], "blah", nil),
            ("min plus bad cert", [sig: "blah", cert: "GARBAGE"], "blah", nil),
            ("min plus bad chain", [sig: "blah", chain: "GARBAGE"], "blah", nil),
            ("min plus bundle", [sig: "blah", bundle: #"{"SignedEntryTimestamp":"MEUCIQ==","Payload":{"body":"REMOVED","integratedTime":1631646761,"logIndex":693591,"logID":"c0d2"}}"#], "blah", nil),
            ("min plus good cert", [sig: "blah", cert: "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n"], "blah", nil),
            ("min plus good chain", [sig: "blah", chain: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"], "blah", nil),
        ]
        for row in rows {
            let layer = Descriptor(mediaType: SimpleSigningPayload.mediaType, digest: digest, size: 5, annotations: row.annotations)
            switch Result(catching: { try CosignSignatureImage.base64Signature(of: layer) }) {
            case .success(let value): XCTAssertEqual(value, row.wantSig, row.name)
            case .failure(let error): XCTAssertEqual("\(error)", row.wantError, row.name)
            }
        }
    }

    // specs/SIGNATURE_SPEC.md, "Tag-based Discovery"
    func testTagBasedDiscovery() throws {
        let digest = try Digest(parsing: "sha256:97fc222cee7991b5b061d4d4afdb5f3428fcb0c9054e1690313786befa1e4e36")
        XCTAssertEqual(CosignSignatureImage.tag(for: digest), "sha256-97fc222cee7991b5b061d4d4afdb5f3428fcb0c9054e1690313786befa1e4e36.sig")
    }

    /// go-containerregistry's `Repository.Name()`, which cosign writes as docker-reference.
    func testDockerReferenceIsTheRepositoryAsCosignNamesIt() {
        XCTAssertEqual(SimpleSigningPayload.dockerReference(registry: "docker.io", repository: "library/alpine"), "index.docker.io/library/alpine")
        XCTAssertEqual(SimpleSigningPayload.dockerReference(registry: "123456789012.dkr.ecr.eu-west-1.amazonaws.com", repository: "app"),
                       "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app")
    }
}
