import Foundation
import TestSupport
import XCTest

/// `keygen`, `sign`, `verify` and `--sign` on `build --push`, `push` and `copy` against the
/// real test registry; every signature read back by `SignatureVerifier` (Python
/// `cryptography`, the registry API over urllib), not by slipway.
final class SignatureTests: XCTestCase {
    var work = ""
    var registry: TestRegistries!
    var env: [String: String] = [:]
    /// A repository namespace of this test run, so reruns against the same registry start clean.
    let ns = uniqueName("sig")

    override func setUpWithError() throws {
        (work, registry, env) = try TestRegistries.workspace()
        let login = try registry.login(registry.basic, environment: env)
        XCTAssertEqual(login.status, 0, login.stderr)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    private func slipway(_ arguments: [String], stdin: Data? = nil, environment: [String: String] = [:]) throws -> Run.Output {
        try Run.command(Run.slipway, arguments, environment: env.merging(environment) { _, new in new }, stdin: stdin)
    }

    private func keygen(_ prefix: String) throws -> (key: String, pub: String) {
        let made = try slipway(["keygen", "--output-prefix", work + "/" + prefix])
        XCTAssertEqual(made.status, 0, made.stderr)
        return (work + "/\(prefix).key", work + "/\(prefix).pub")
    }

    /// The index digest, its platform manifests' digests and its attestation manifests' (the
    /// default provenance), as the registry serves them (skopeo).
    private func digests(_ reference: String) throws -> (index: String, children: [String], attestations: [String]) {
        let raw = try registry.skopeo(["inspect", "--raw"] + registry.skopeoAuth(registry.basic) + ["docker://\(reference)"])
        let index = try XCTUnwrap(try JSONSerialization.jsonObject(with: raw) as? [String: Any])
        let entries = index["manifests"] as? [[String: Any]] ?? []
        let isAttestation = { (entry: [String: Any]) in (entry["annotations"] as? [String: String])?["vnd.docker.reference.type"] == "attestation-manifest" }
        return ("sha256:" + sha256(raw), entries.filter { !isAttestation($0) }.compactMap { $0["digest"] as? String },
                entries.filter(isAttestation).compactMap { $0["digest"] as? String })
    }

    private func verifier(_ repository: String, _ pub: String, _ digests: [String]) throws -> [String: (signatures: Int, valid: Int, errors: [String])] {
        try SignatureVerifier.verify(registry, host: registry.basic, repository: repository, publicKey: pub, digests: digests)
    }

    func testBuildPushSignSignsTheIndexAndEachPlatformVerifiedIndependently() throws {
        let (key, pub) = try keygen("cosign")
        let mode = (try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? Int) ?? 0
        XCTAssertEqual(mode & 0o777, 0o600, "the private key is private")
        XCTAssertTrue(try SignatureVerifier.keysMatch(privateKey: key, publicKey: pub), "keygen's .pub is the .key's public half")
        let keyBefore = try String(contentsOfFile: key, encoding: .utf8)
        let overwrite = try slipway(["keygen", "--output-prefix", work + "/cosign"])
        XCTAssertNotEqual(overwrite.status, 0)
        XCTAssertTrue(overwrite.stderr.contains("already exists"), overwrite.stderr)
        XCTAssertEqual(try String(contentsOfFile: key, encoding: .utf8), keyBefore, "an existing key is never overwritten")
        XCTAssertFalse((overwrite.stdout + overwrite.stderr).contains("PRIVATE KEY"))

        let tag = "\(registry.basic)/\(ns)/app:1.0"
        let built = try slipway(["build", "--platform", "linux/amd64,linux/arm64", "--provenance=true", "-t", tag, "--push", "--sign", key, "--progress", "plain",
                                 Run.repositoryRoot.path + "/testdata/example"])
        XCTAssertEqual(built.status, 0, built.stderr)
        let (index, children, attestations) = try digests(tag)
        XCTAssertEqual(children.count, 2)
        XCTAssertEqual(attestations.count, 2, "one provenance attestation manifest per platform")
        XCTAssertTrue(built.stdout.contains("\(tag)@\(index)\n"), "stdout keeps its pushed-reference lines: \(built.stdout)")

        let report = try verifier("\(ns)/app", pub, [index] + children)
        for digest in [index] + children {
            let entry = try XCTUnwrap(report[digest])
            XCTAssertEqual(entry.signatures, 1, "\(digest): \(entry.errors)")
            XCTAssertEqual(entry.valid, 1, "\(digest): \(entry.errors)")
        }

        let verified = try slipway(["verify", "--key", pub, tag])
        XCTAssertEqual(verified.status, 0, verified.stderr)
        XCTAssertEqual(verified.stdout.split(separator: "\n").filter { $0.contains(": 1 valid signature") }.count, 3, verified.stdout)
        // The default provenance's attestation manifests are not signed, but their subjects are checked.
        XCTAssertEqual(try verifier("\(ns)/app", pub, attestations).values.map(\.signatures), attestations.map { _ in 0 })
        XCTAssertEqual(verified.stdout.split(separator: "\n").filter { $0.hasPrefix("verified attestation https://slsa.dev/provenance/") }.count,
                       attestations.count, verified.stdout)
        XCTAssertTrue(verified.stdout.contains("@\(index): 1 valid signature"), verified.stdout)
    }

    func testSigningAgainAddsNothingAndASecondKeyAppends() throws {
        let first = try keygen("first"), second = try keygen("second")
        let tag = "\(registry.basic)/\(ns)/twice:1"
        XCTAssertEqual(try slipway(["build", "-t", tag, "--push", "--progress", "quiet", Run.repositoryRoot.path + "/testdata/example"]).status, 0)
        let digest = "sha256:" + sha256(try registry.skopeo(["inspect", "--raw"] + registry.skopeoAuth(registry.basic) + ["docker://\(tag)"]))
        let unsigned = try slipway(["verify", "--key", first.pub, tag])
        XCTAssertEqual(unsigned.status, 1)
        XCTAssertTrue(unsigned.stderr.contains("no signatures"), unsigned.stderr)

        let signed = try slipway(["sign", "--key", first.key, tag])
        XCTAssertEqual(signed.status, 0, signed.stderr)
        XCTAssertTrue(signed.stdout.hasPrefix("\(registry.basic)/\(ns)/twice@\(digest) \(registry.basic)/\(ns)/twice:\(digest.replacingOccurrences(of: ":", with: "-")).sig@sha256:"), signed.stdout)
        let sigManifest = { () throws -> [String: Any] in
            try Run.json(try SignatureVerifier.run(self.registry, host: self.registry.basic, repository: "\(self.ns)/twice", "sig-manifest", [digest]))
        }
        let once = try sigManifest()
        let again = try slipway(["sign", "--key", first.key, "\(registry.basic)/\(ns)/twice@\(digest)", "--progress", "plain"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("already signed by"), again.stderr)
        XCTAssertEqual(try sigManifest()["digest"] as? String, once["digest"] as? String, "an identical signature is not added twice")

        XCTAssertEqual(try slipway(["sign", "--key", second.key, tag]).status, 0)
        let twice = try sigManifest()
        XCTAssertEqual(((twice["document"] as? [String: Any])?["layers"] as? [Any])?.count, 2, "a second key's signature is appended")
        XCTAssertEqual(try verifier("\(ns)/twice", first.pub, [digest])[digest]?.valid, 1)
        XCTAssertEqual(try verifier("\(ns)/twice", second.pub, [digest])[digest]?.valid, 1)
        for pub in [first.pub, second.pub] {
            let verified = try slipway(["verify", "--key", pub, tag])
            XCTAssertEqual(verified.status, 0, verified.stderr)
        }
    }

    func testMissingWrongKeyTamperedAndMovedSignaturesFail() throws {
        let (key, pub) = try keygen("cosign")
        let other = try keygen("other")
        let context = work + "/ctx"
        var digests: [String] = []
        for name in ["a", "b"] {
            try Run.write(["Dockerfile": "FROM scratch\nCOPY \(name) /\(name)\n", name: name], under: context + name)
            let tag = "\(registry.basic)/\(ns)/tamper:\(name)"
            XCTAssertEqual(try slipway(["build", "-t", tag, "--push", "--sign", key, "--progress", "quiet", context + name]).status, 0)
            digests.append("sha256:" + sha256(try registry.skopeo(["inspect", "--raw"] + registry.skopeoAuth(registry.basic) + ["docker://\(tag)"])))
        }
        let a = "\(registry.basic)/\(ns)/tamper:a", b = "\(registry.basic)/\(ns)/tamper:b"
        XCTAssertEqual(try slipway(["verify", "--key", pub, a]).status, 0)

        let wrongKey = try slipway(["verify", "--key", other.pub, a])
        XCTAssertEqual(wrongKey.status, 1)
        XCTAssertTrue(wrongKey.stderr.contains("does not verify with the given key"), wrongKey.stderr)

        let privateAsPublic = try slipway(["verify", "--key", key, a])
        XCTAssertNotEqual(privateAsPublic.status, 0)
        XCTAssertTrue(privateAsPublic.stderr.contains("is a private key"), privateAsPublic.stderr)

        // b's signature stored under a's tag: valid signature, but of another image.
        _ = try SignatureVerifier.run(registry, host: registry.basic, repository: "\(ns)/tamper", "move-signature", [digests[1], digests[0]])
        let moved = try slipway(["verify", "--key", pub, a])
        XCTAssertEqual(moved.status, 1)
        XCTAssertTrue(moved.stderr.contains("names \(digests[1]), not this image (\(digests[0]))"), moved.stderr)

        _ = try SignatureVerifier.run(registry, host: registry.basic, repository: "\(ns)/tamper", "tamper-signature", [digests[1]])
        XCTAssertEqual(try verifier("\(ns)/tamper", pub, [digests[1]])[digests[1]]?.valid, 0, "the independent verifier also rejects it")
        let flipped = try slipway(["verify", "--key", pub, b])
        XCTAssertEqual(flipped.status, 1)
        XCTAssertTrue(flipped.stderr.contains("does not verify"), flipped.stderr)

        XCTAssertEqual(try slipway(["sign", "--key", key, b]).status, 0, "re-signing repairs it")
        XCTAssertEqual(try slipway(["verify", "--key", pub, b]).status, 0)
        _ = try SignatureVerifier.run(registry, host: registry.basic, repository: "\(ns)/tamper", "move-signature", [digests[0], digests[1]])
        _ = try SignatureVerifier.run(registry, host: registry.basic, repository: "\(ns)/tamper", "tamper-payload", [digests[1]])
        let altered = try slipway(["verify", "--key", pub, b])
        XCTAssertEqual(altered.status, 1)
        XCTAssertTrue(altered.stderr.contains("does not verify"), altered.stderr)
        XCTAssertFalse(altered.stderr.contains("MEU") || altered.stderr.contains("MEQ"), "no signature bytes in messages: \(altered.stderr)")
    }

    func testAnnotationsAreSignedAndCanBeRequired() throws {
        let (key, pub) = try keygen("cosign")
        let tag = "\(registry.basic)/\(ns)/claims:1"
        XCTAssertEqual(try slipway(["build", "-t", tag, "--push", "--progress", "quiet", Run.repositoryRoot.path + "/testdata/example"]).status, 0)
        let signed = try slipway(["sign", "--key", key, "-a", "git_sha=0123abc", "-a", "pipeline=release", tag])
        XCTAssertEqual(signed.status, 0, signed.stderr)
        let digest = "sha256:" + sha256(try registry.skopeo(["inspect", "--raw"] + registry.skopeoAuth(registry.basic) + ["docker://\(tag)"]))
        XCTAssertEqual(try verifier("\(ns)/claims", pub, [digest])[digest]?.valid, 1)
        let document = try Run.json(try SignatureVerifier.run(registry, host: registry.basic, repository: "\(ns)/claims", "payloads", [digest]))
        XCTAssertEqual((document["payloads"] as? [[String: Any]])?.first?["optional"] as? [String: String], ["git_sha": "0123abc", "pipeline": "release"])
        XCTAssertEqual(try slipway(["verify", "--key", pub, "-a", "git_sha=0123abc", tag]).status, 0)
        let other = try slipway(["verify", "--key", pub, "-a", "git_sha=fffffff", tag])
        XCTAssertEqual(other.status, 1)
        XCTAssertTrue(other.stderr.contains("does not carry the annotation git_sha=fffffff"), other.stderr)
        let malformed = try slipway(["sign", "--key", key, "-a", "novalue", tag])
        XCTAssertNotEqual(malformed.status, 0)
        XCTAssertTrue(malformed.stderr.contains("use KEY=VALUE"), malformed.stderr)
    }

    func testHostileSignatureManifestsAreBounded() throws {
        let (key, pub) = try keygen("cosign")
        let tag = "\(registry.basic)/\(ns)/hostile:1"
        XCTAssertEqual(try slipway(["build", "-t", tag, "--push", "--sign", key, "--progress", "quiet", Run.repositoryRoot.path + "/testdata/example"]).status, 0)
        let digest = "sha256:" + sha256(try registry.skopeo(["inspect", "--raw"] + registry.skopeoAuth(registry.basic) + ["docker://\(tag)"]))
        _ = try SignatureVerifier.run(registry, host: registry.basic, repository: "\(ns)/hostile", "oversize-payload", [digest, "100000"])
        let oversize = try slipway(["verify", "--key", pub, tag])
        XCTAssertEqual(oversize.status, 1)
        XCTAssertTrue(oversize.stderr.contains("larger than a signature payload can be"), oversize.stderr)
        _ = try SignatureVerifier.run(registry, host: registry.basic, repository: "\(ns)/hostile", "many-layers", [digest, "1001"])
        let many = try slipway(["verify", "--key", pub, tag])
        XCTAssertEqual(many.status, 1)
        XCTAssertTrue(many.stderr.contains("has 1001 signature layers, more than the 1000 slipway reads"), many.stderr)
    }

    func testEncryptedKeysTakeAPasswordThatIsNeverPrinted() throws {
        let password = "sekret-Passw0rd-for-the-key"
        let key = work + "/enc.key", pub = work + "/enc.pub"
        // Made by openssl, not by slipway: encrypted PKCS#8 (AES-256-CBC) and a SEC1 key.
        _ = try Run.tool("openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-aes-256-cbc", "-pass", "pass:\(password)", "-out", key])
        _ = try Run.tool("openssl", ["pkey", "-in", key, "-passin", "pass:\(password)", "-pubout", "-out", pub])
        let sec1 = work + "/sec1.key"
        _ = try Run.tool("openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", sec1])
        let keyText = try String(contentsOfFile: key, encoding: .utf8)
        let keyBody = keyText.split(separator: "\n").filter { !$0.hasPrefix("-----") }
        let tag = "\(registry.basic)/\(ns)/encrypted:1"
        XCTAssertEqual(try slipway(["build", "-t", tag, "--push", "--progress", "quiet", Run.repositoryRoot.path + "/testdata/example"]).status, 0)

        let noPassword = try slipway(["sign", "--key", key, tag])
        XCTAssertNotEqual(noPassword.status, 0)
        XCTAssertTrue(noPassword.stderr.contains("is encrypted: give its password with --key-password-stdin"), noPassword.stderr)

        let wrong = try slipway(["sign", "--key", key, "--key-password-stdin", tag, "--debug"], stdin: Data("not-the-password\n".utf8))
        XCTAssertNotEqual(wrong.status, 0)
        XCTAssertTrue(wrong.stderr.contains("wrong password"), wrong.stderr)
        XCTAssertFalse((wrong.stdout + wrong.stderr).contains("not-the-password"))

        let signed = try slipway(["sign", "--key", key, "--key-password-stdin", tag, "--debug", "--progress", "plain"], stdin: Data((password + "\n").utf8))
        XCTAssertEqual(signed.status, 0, signed.stderr)
        let everything = signed.stdout + signed.stderr
        XCTAssertFalse(everything.contains(password), "the password is never printed")
        for line in keyBody { XCTAssertFalse(everything.contains(line), "no line of the private key is printed") }
        XCTAssertEqual(try slipway(["verify", "--key", pub, tag]).status, 0)

        let fromEnvironment = try slipway(["sign", "--key", sec1, tag], environment: ["COSIGN_PASSWORD": ""])
        XCTAssertEqual(fromEnvironment.status, 0, "an unencrypted SEC1 key needs no password: \(fromEnvironment.stderr)")
        let digest = "sha256:" + sha256(try registry.skopeo(["inspect", "--raw"] + registry.skopeoAuth(registry.basic) + ["docker://\(tag)"]))
        XCTAssertEqual(try verifier("\(ns)/encrypted", pub, [digest])[digest]?.valid, 1)
        XCTAssertEqual(try verifier("\(ns)/encrypted", pub, [digest])[digest]?.signatures, 2)

        let cosignKey = work + "/cosign-format.key"
        try "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\neyJrZGYiOnt9fQ==\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n".write(toFile: cosignKey, atomically: true, encoding: .utf8)
        let refused = try slipway(["sign", "--key", cosignKey, tag])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("cosign-encrypted key") && refused.stderr.contains("no XSalsa20"), refused.stderr)

        let rsa = work + "/rsa.key"
        _ = try Run.tool("openssl", ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", rsa])
        let rsaRefused = try slipway(["sign", "--key", rsa, tag])
        XCTAssertNotEqual(rsaRefused.status, 0)
        XCTAssertTrue(rsaRefused.stderr.contains("is not an EC key"), rsaRefused.stderr)
    }

    func testPushAndCopyWithSignSignInTheDestinationRepository() throws {
        let (key, pub) = try keygen("cosign")
        let layout = work + "/image.tar"
        let notPushed = try slipway(["build", "--sign", key, "--output", "type=oci,dest=\(layout)", Run.repositoryRoot.path + "/testdata/example"])
        XCTAssertNotEqual(notPushed.status, 0)
        XCTAssertTrue(notPushed.stderr.contains("--sign signs what is pushed: add --push"), notPushed.stderr)
        XCTAssertEqual(try slipway(["build", "--platform", "linux/amd64,linux/arm64", "--progress", "quiet", "--output", "type=oci,dest=\(layout)",
                                    Run.repositoryRoot.path + "/testdata/example"]).status, 0)
        let pushed = "\(registry.basic)/\(ns)/pushed:1", copied = "\(registry.basic)/\(ns)/promoted:1"
        let push = try slipway(["push", layout, pushed, "--sign", key, "--progress", "plain"])
        XCTAssertEqual(push.status, 0, push.stderr)
        let copy = try slipway(["copy", pushed, copied, "--sign", key, "--progress", "plain"])
        XCTAssertEqual(copy.status, 0, copy.stderr)
        let (index, children, _) = try digests(copied)
        for (repository, reference) in [("\(ns)/pushed", pushed), ("\(ns)/promoted", copied)] {
            let report = try verifier(repository, pub, [index] + children)
            XCTAssertEqual(report.values.map(\.valid), [1, 1, 1], "\(repository): \(report)")
            XCTAssertEqual(try slipway(["verify", "--key", pub, reference]).status, 0)
        }
    }
}
