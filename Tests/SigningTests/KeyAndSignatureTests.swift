import Foundation
import OCI
import Signing
import TestSupport
import XCTest

/// Keys made by the `openssl` command (not by slipway) are read, refused or unlocked as the
/// README says; signatures are checked by `openssl pkeyutl`; the `.sig` manifest model and the
/// verification rules (altered payload, wrong key, other image, duplicates).
final class KeyAndSignatureTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws { dir = try TemporaryDirectory.create(prefix: "slipway-signing") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    private func openssl(_ arguments: [String]) throws {
        let output = try Run.command("openssl", arguments)
        guard output.status == 0 else { throw TestError("openssl \(arguments.joined(separator: " ")): \(output.stderr)") }
    }

    func testKeyFormatsOpenSSLWrites() throws {
        try openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", dir + "/pkcs8.key"])
        try openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", dir + "/sec1.key"])
        try openssl(["pkcs8", "-topk8", "-in", dir + "/pkcs8.key", "-passout", "pass:pw", "-v2", "aes-256-cbc", "-out", dir + "/enc-pkcs8.key"])
        try openssl(["ec", "-in", dir + "/sec1.key", "-aes256", "-passout", "pass:pw", "-out", dir + "/enc-sec1.key"])
        try openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", dir + "/p384.key"])
        try openssl(["genpkey", "-algorithm", "ED25519", "-out", dir + "/ed25519.key"])
        try openssl(["pkey", "-in", dir + "/pkcs8.key", "-pubout", "-out", dir + "/pkcs8.pub"])

        let rows: [(file: String, password: String?, error: String?)] = [
            ("pkcs8.key", nil, nil),
            ("sec1.key", nil, nil),
            ("enc-pkcs8.key", "pw", nil),
            ("enc-sec1.key", "pw", nil),
            ("enc-pkcs8.key", nil, "is encrypted: give its password"),
            ("enc-pkcs8.key", "Zq9-not-it", "wrong password"),
            ("enc-sec1.key", "Zq9-not-it", "wrong password"),
            ("p384.key", nil, "is on curve secp384r1"),
            ("ed25519.key", nil, "is not an EC key"),
            ("pkcs8.pub", nil, "is a public key; signing needs the private key"),
        ]
        for row in rows {
            let path = dir + "/" + row.file
            switch Result(catching: { try PEMKeyFile.readPrivateKey(path: path, password: row.password) }) {
            case .success(let key):
                XCTAssertNil(row.error, "\(row.file) was accepted")
                XCTAssertTrue(key.isPrivate)
            case .failure(let error):
                let text = "\(error)"
                XCTAssertTrue(row.error.map { text.contains($0) } ?? false, "\(row.file): \(text)")
                XCTAssertFalse(text.contains("Zq9-not-it"), "no password in: \(text)")
            }
        }
    }

    func testSignatureVerifiesWithOpenSSLAndOnlyWithItsKey() throws {
        let key = try ECKey.generateP256()
        try key.publicKeyPEM().write(toFile: dir + "/key.pub", atomically: true, encoding: .utf8)
        let payload = SimpleSigningPayload(dockerReference: "example.com/app", manifestDigest: Digest.sha256(of: Data("m".utf8))).encoded()
        let signature = try ECDSA.sign(payload, with: key)
        try payload.write(to: URL(fileURLWithPath: dir + "/payload"))
        try signature.write(to: URL(fileURLWithPath: dir + "/payload.sig"))
        try openssl(["dgst", "-sha256", "-verify", dir + "/key.pub", "-signature", dir + "/payload.sig", dir + "/payload"])
        XCTAssertTrue(ECDSA.verify(signature, of: payload, with: key))
        XCTAssertFalse(ECDSA.verify(signature, of: payload + Data(" ".utf8), with: key))
        XCTAssertFalse(ECDSA.verify(signature, of: payload, with: try ECKey.generateP256()))
        let reread = try PEMKeyFile.readPublicKey(path: dir + "/key.pub")
        XCTAssertTrue(reread.samePublicKey(as: key))
        if !ECDSA.hasDeterministicNonces {
            XCTAssertNotEqual(try ECDSA.sign(payload, with: key), signature, "OpenSSL 3.0: randomized ECDSA (documented)")
        }
    }

    func testEncryptedKeygenOutputIsReadByOpenSSL() throws {
        let key = try ECKey.generateP256()
        try key.privateKeyPEM(password: "pw").write(toFile: dir + "/enc.key", atomically: true, encoding: .utf8)
        try key.publicKeyPEM().write(toFile: dir + "/enc.pub", atomically: true, encoding: .utf8)
        let text = try String(contentsOfFile: dir + "/enc.key", encoding: .utf8)
        XCTAssertTrue(text.hasPrefix("-----BEGIN ENCRYPTED PRIVATE KEY-----"), text)
        try openssl(["pkey", "-in", dir + "/enc.key", "-passin", "pass:pw", "-pubout", "-out", dir + "/openssl.pub"])
        XCTAssertEqual(try String(contentsOfFile: dir + "/openssl.pub", encoding: .utf8), try key.publicKeyPEM())
        XCTAssertTrue(try PEMKeyFile.readPrivateKey(path: dir + "/enc.key", password: "pw").samePublicKey(as: key))
    }

    func testSignatureCheckRules() throws {
        let key = try ECKey.generateP256(), other = try ECKey.generateP256()
        let image = Digest.sha256(of: Data("image".utf8)), elsewhere = Digest.sha256(of: Data("other".utf8))
        func signed(_ digest: Digest, by signer: ECKey) throws -> (Descriptor, Data) {
            let payload = SimpleSigningPayload(dockerReference: "r/app", manifestDigest: digest).encoded()
            let layer = CosignSignatureImage.Signature(payload: payload, signature: try ECDSA.sign(payload, with: signer)).layer
            return (layer, payload)
        }
        let (layer, payload) = try signed(image, by: key)
        XCTAssertEqual(SignatureCheck.check(layer: layer, payload: payload, imageDigest: image, key: key), .valid)
        guard case .invalid(let wrongKey) = SignatureCheck.check(layer: layer, payload: payload, imageDigest: image, key: other) else { return XCTFail() }
        XCTAssertTrue(wrongKey.contains("does not verify with the given key"), wrongKey)
        guard case .invalid(let altered) = SignatureCheck.check(layer: layer, payload: payload + Data(" ".utf8), imageDigest: image, key: key) else { return XCTFail() }
        XCTAssertTrue(altered.contains("the payload was altered"), altered)
        let (otherLayer, otherPayload) = try signed(elsewhere, by: key)
        guard case .invalid(let moved) = SignatureCheck.check(layer: otherLayer, payload: otherPayload, imageDigest: image, key: key) else { return XCTFail() }
        XCTAssertTrue(moved.contains("names \(elsewhere), not this image"), moved)
        XCTAssertTrue(SignatureCheck.alreadySigned(payload, in: [(layer, payload)], key: key))
        XCTAssertFalse(SignatureCheck.alreadySigned(payload, in: [(layer, payload)], key: other))
        XCTAssertFalse(SignatureCheck.alreadySigned(otherPayload, in: [(layer, payload)], key: key))
    }

    func testSignatureManifestIsWhatCosignWrites() throws {
        let key = try ECKey.generateP256()
        let payloads = ["a", "b"].map { SimpleSigningPayload(dockerReference: "r/app", manifestDigest: Digest.sha256(of: Data($0.utf8))).encoded() }
        let layers = try payloads.map { CosignSignatureImage.Signature(payload: $0, signature: try ECDSA.sign($0, with: key)).layer }
        let built = try CosignSignatureImage.build(layers: layers)
        let manifest = try JSONSerialization.jsonObject(with: built.manifest) as? [String: Any]
        XCTAssertEqual(manifest?["mediaType"] as? String, "application/vnd.oci.image.manifest.v1+json")
        XCTAssertEqual((manifest?["config"] as? [String: Any])?["mediaType"] as? String, "application/vnd.oci.image.config.v1+json")
        let written = manifest?["layers"] as? [[String: Any]] ?? []
        XCTAssertEqual(written.map { $0["mediaType"] as? String }, [SimpleSigningPayload.mediaType, SimpleSigningPayload.mediaType])
        XCTAssertEqual(written.map { $0["digest"] as? String }, payloads.map { Digest.sha256(of: $0).description })
        let config = try JSONSerialization.jsonObject(with: built.config) as? [String: Any]
        XCTAssertEqual((config?["rootfs"] as? [String: Any])?["diff_ids"] as? [String], payloads.map { Digest.sha256(of: $0).description })
        XCTAssertEqual((config?["history"] as? [Any])?.count, 2)
        XCTAssertEqual(try CosignSignatureImage.build(layers: layers).manifest, built.manifest, "the same signatures give the same bytes")
    }
}
