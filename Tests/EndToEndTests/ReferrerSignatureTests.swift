import Foundation
import TestSupport
import XCTest

/// Signatures stored as OCI 1.1 referrers (`--attest-mode=referrers`, cosign's
/// `--registry-referrers-mode=oci-1-1` layout), read back by tools that are not slipway:
/// `oras` (PyPI oras-py) and skopeo for the layout, `SignatureVerifier` (Python
/// `cryptography`) for every signature. On the real test registry (Debian's docker-registry
/// 2.8, which has no referrers API) through the `sha256-<hex>` fallback tag; against
/// `scripts/test-registry/referrers-registry.py` (a scripted registry with the referrers API,
/// one referrer per page) through the API and its `Link: rel="next"` pages.
final class ReferrerSignatureTests: XCTestCase {
    var work = ""
    var registry: TestRegistries!
    var env: [String: String] = [:]
    let ns = uniqueName("refsig")

    override func setUpWithError() throws {
        (work, registry, env) = try TestRegistries.workspace()
        let login = try registry.login(registry.basic, environment: env)
        XCTAssertEqual(login.status, 0, login.stderr)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    private func slipway(_ arguments: [String]) throws -> Run.Output {
        try Run.command(Run.slipway, arguments, environment: env)
    }

    private func keygen(_ prefix: String) throws -> (key: String, pub: String) {
        let made = try slipway(["keygen", "--output-prefix", work + "/" + prefix])
        XCTAssertEqual(made.status, 0, made.stderr)
        return (work + "/\(prefix).key", work + "/\(prefix).pub")
    }

    private func raw(_ reference: String) throws -> Data {
        try registry.skopeo(["inspect", "--raw"] + registry.skopeoAuth(registry.basic) + ["docker://\(reference)"])
    }

    /// The index digest and its platform manifests' digests, as skopeo reads them.
    private func digests(_ reference: String) throws -> (index: String, children: [String]) {
        let data = try raw(reference)
        let index = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return ("sha256:" + sha256(data), (index["manifests"] as? [[String: Any]] ?? []).compactMap { $0["digest"] as? String })
    }

    private func verifyReferrers(_ repository: String, _ pub: String, _ digests: [String], host: String? = nil) throws -> [String: [String: Any]] {
        try SignatureVerifier.verifyReferrers(registry, host: host ?? registry.basic, repository: repository, publicKey: pub, digests: digests)
    }

    /// oras-py's view of the fallback tags: the repository's tags, and per subject its
    /// `sha256-<hex>` index and each listed manifest.
    private func oras(_ repository: String, _ subjects: [String]) throws -> [String: Any] {
        let script = #"""
        import json, sys
        import oras.provider
        host, repo, user, password, ca = sys.argv[1:6]
        client = oras.provider.Registry(hostname=host, tls_verify=ca, auth_backend="basic")
        client.auth.set_basic_auth(user, password)
        out = {"tags": client.get_tags(f"{host}/{repo}"), "indexes": {}, "manifests": {}}
        accept = ["application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json"]
        for subject in sys.argv[6:]:
            idx = client.get_manifest(f"{host}/{repo}:{subject.replace(':', '-')}", allowed_media_type=accept)
            out["indexes"][subject] = idx
            for entry in idx["manifests"]:
                out["manifests"][entry["digest"]] = client.get_manifest(f"{host}/{repo}@{entry['digest']}", allowed_media_type=accept)
        print(json.dumps(out))
        """#
        let result = try Run.command("python3", ["-c", script, registry.basic, repository, registry.user, registry.password,
                                                 registry.certsDir + "/" + registry.basic + "/ca.crt"] + subjects)
        XCTAssertEqual(result.status, 0, result.stderr)
        return try Run.json(result.stdout)
    }

    func testBuildPushSignStoresCosignOCI11ReferrersReadByOrasAndVerifiedIndependently() throws {
        let (key, pub) = try keygen("cosign")
        let repository = "\(ns)/app"
        let tag = "\(registry.basic)/\(repository):1.0"
        let built = try slipway(["build", "--platform", "linux/amd64,linux/arm64", "-t", tag, "--push", "--sign", key, "--attest-mode=referrers",
                                 "--progress", "quiet", Run.repositoryRoot.path + "/testdata/example"])
        XCTAssertEqual(built.status, 0, built.stderr)
        let (index, children) = try digests(tag)
        let signed = [index] + children
        XCTAssertEqual(signed.count, 3)

        let view = try oras(repository, signed)
        let tags = view["tags"] as? [String] ?? []
        XCTAssertFalse(tags.contains { $0.hasSuffix(".sig") }, "no cosign .sig tag in referrers mode: \(tags)")
        let manifests = view["manifests"] as? [String: [String: Any]] ?? [:]
        for subject in signed {
            XCTAssertTrue(tags.contains(subject.replacingOccurrences(of: ":", with: "-")), "fallback tag of \(subject): \(tags)")
            let listed = ((view["indexes"] as? [String: [String: Any]])?[subject]?["manifests"] as? [[String: Any]]) ?? []
            XCTAssertEqual(listed.count, 1, "\(subject): \(listed)")
            XCTAssertEqual(listed.first?["artifactType"] as? String, "application/vnd.dev.cosign.artifact.sig.v1+json")
            let manifest = manifests[listed.first?["digest"] as? String ?? ""] ?? [:]
            XCTAssertEqual(manifest["mediaType"] as? String, "application/vnd.oci.image.manifest.v1+json")
            XCTAssertEqual(manifest["artifactType"] as? String, "application/vnd.dev.cosign.artifact.sig.v1+json")
            XCTAssertEqual((manifest["config"] as? [String: Any])?["mediaType"] as? String, "application/vnd.dev.cosign.artifact.sig.v1+json")
            let subjectField = manifest["subject"] as? [String: Any] ?? [:]
            XCTAssertEqual(subjectField["digest"] as? String, subject)
            let served = try raw("\(registry.basic)/\(repository)@\(subject)")
            XCTAssertEqual((subjectField["size"] as? NSNumber)?.intValue, served.count, "the subject's size is the served manifest's")
            XCTAssertEqual(subjectField["mediaType"] as? String, subject == index ? "application/vnd.oci.image.index.v1+json" : "application/vnd.oci.image.manifest.v1+json")
            let layers = manifest["layers"] as? [[String: Any]] ?? []
            XCTAssertEqual(layers.map { $0["mediaType"] as? String }, ["application/vnd.dev.cosign.simplesigning.v1+json"])
            XCTAssertNotNil((layers.first?["annotations"] as? [String: String])?["dev.cosignproject.cosign/signature"])
        }
        let report = try verifyReferrers(repository, pub, signed)
        for subject in signed {
            let entry = try XCTUnwrap(report[subject])
            XCTAssertEqual(entry["api"] as? Bool, false, "docker-registry 2.8 has no referrers API: the fallback tag was read")
            XCTAssertEqual(entry["valid"] as? Int, 1, "\(subject): \(entry)")
            XCTAssertEqual(entry["last_valid"] as? Int, 1, "\(subject): what cosign --experimental-oci11 reads verifies")
        }
        let verified = try slipway(["verify", "--key", pub, tag])
        XCTAssertEqual(verified.status, 0, verified.stderr)
        XCTAssertEqual(verified.stdout.split(separator: "\n").filter { $0.contains(": 1 valid signature (signature referrers of") }.count, 3, verified.stdout)
    }

    func testSigningAgainAddsNoReferrerAndASecondKeysReferrerCarriesBothSignatures() throws {
        let first = try keygen("first"), second = try keygen("second")
        let repository = "\(ns)/twice"
        let tag = "\(registry.basic)/\(repository):1"
        XCTAssertEqual(try slipway(["build", "-t", tag, "--push", "--progress", "quiet", Run.repositoryRoot.path + "/testdata/example"]).status, 0)
        let digest = try digests(tag).index
        let unsigned = try slipway(["verify", "--key", first.pub, tag])
        XCTAssertEqual(unsigned.status, 1)
        XCTAssertTrue(unsigned.stderr.contains("no signatures (there is no \(registry.basic)/\(repository):\(digest.replacingOccurrences(of: ":", with: "-")).sig; signature referrers of"), unsigned.stderr)

        XCTAssertEqual(try slipway(["sign", "--key", first.key, "--attest-mode=referrers", tag]).status, 0)
        let fallback = "\(registry.basic)/\(repository):\(digest.replacingOccurrences(of: ":", with: "-"))"
        let once = try raw(fallback)
        let again = try slipway(["sign", "--key", first.key, "--attest-mode=referrers", tag, "--progress", "plain"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("already signed by"), again.stderr)
        XCTAssertEqual(try raw(fallback), once, "re-signing with the same key adds no referrer")

        XCTAssertEqual(try slipway(["sign", "--key", second.key, "--attest-mode=referrers", tag]).status, 0)
        let listed = (try Run.json(String(decoding: try raw(fallback), as: UTF8.self))["manifests"] as? [[String: Any]]) ?? []
        XCTAssertEqual(listed.count, 2, "a second key adds a referrer: \(listed)")
        for keys in [first, second] {
            let entry = try XCTUnwrap(try verifyReferrers(repository, keys.pub, [digest])[digest])
            XCTAssertEqual(entry["valid"] as? Int, 1, "\(entry)")
            XCTAssertEqual(entry["signatures"] as? Int, 2, "two distinct signatures: \(entry)")
            XCTAssertEqual(entry["last_valid"] as? Int, 1, "the newest referrer holds every key's signature, for cosign: \(entry)")
            let verified = try slipway(["verify", "--key", keys.pub, tag])
            XCTAssertEqual(verified.status, 0, verified.stderr)
            XCTAssertTrue(verified.stdout.contains(": 1 valid signature"), verified.stdout)
        }
        // A tag signature too: verify counts both storages, each signature once.
        XCTAssertEqual(try slipway(["sign", "--key", first.key, tag]).status, 0)
        let both = try slipway(["verify", "--key", first.pub, tag])
        XCTAssertEqual(both.status, 0, both.stderr)
        XCTAssertTrue(both.stdout.contains(".sig and signature referrers of"), both.stdout)
    }

    func testWrongKeyTamperedAndMovedReferrerSignaturesFail() throws {
        let (key, pub) = try keygen("cosign")
        let other = try keygen("other")
        let repository = "\(ns)/tamper"
        var digests: [String] = []
        for name in ["a", "b"] {
            let context = work + "/ctx" + name
            try Run.write(["Dockerfile": "FROM scratch\nCOPY \(name) /\(name)\n", name: name], under: context)
            let tag = "\(registry.basic)/\(repository):\(name)"
            let pushed = try slipway(["build", "-t", tag, "--push", "--sign", key, "--attest-mode=referrers", "--progress", "quiet", context])
            XCTAssertEqual(pushed.status, 0, pushed.stderr)
            digests.append(try self.digests(tag).index)
        }
        let a = "\(registry.basic)/\(repository):a", b = "\(registry.basic)/\(repository):b"
        XCTAssertEqual(try slipway(["verify", "--key", pub, a]).status, 0)
        let wrongKey = try slipway(["verify", "--key", other.pub, a])
        XCTAssertEqual(wrongKey.status, 1)
        XCTAssertTrue(wrongKey.stderr.contains("does not verify with the given key"), wrongKey.stderr)

        // b's signature referrer listed among a's referrers: a valid signature, of another image.
        _ = try SignatureVerifier.run(registry, host: registry.basic, repository: repository, "move-referrer", [digests[1], digests[0]])
        let moved = try slipway(["verify", "--key", pub, a])
        XCTAssertEqual(moved.status, 1)
        XCTAssertTrue(moved.stderr.contains("names subject \(digests[1]), not this image (\(digests[0]))"), moved.stderr)

        _ = try SignatureVerifier.run(registry, host: registry.basic, repository: repository, "tamper-referrer", [digests[1]])
        XCTAssertEqual(try verifyReferrers(repository, pub, [digests[1]])[digests[1]]?["valid"] as? Int, 0, "the independent verifier also rejects it")
        let flipped = try slipway(["verify", "--key", pub, b])
        XCTAssertEqual(flipped.status, 1)
        XCTAssertTrue(flipped.stderr.contains("does not verify"), flipped.stderr)
        XCTAssertFalse(flipped.stderr.contains("MEU") || flipped.stderr.contains("MEQ"), "no signature bytes in messages: \(flipped.stderr)")
        XCTAssertEqual(try slipway(["sign", "--key", key, "--attest-mode=referrers", b]).status, 0, "re-signing repairs it")
        XCTAssertEqual(try slipway(["verify", "--key", pub, b]).status, 0)
        XCTAssertEqual(try verifyReferrers(repository, pub, [digests[1]])[digests[1]]?["last_valid"] as? Int, 1)
    }

    /// `verify` also checks attestations pushed as referrers: each in-toto referrer must name
    /// the image as its OCI subject and in its statements.
    func testVerifyChecksAttestationReferrersSubjects() throws {
        let (key, pub) = try keygen("cosign")
        let repository = "\(ns)/attested"
        var digests: [String] = []
        for name in ["a", "b"] {
            let context = work + "/ctx" + name
            try Run.write(["Dockerfile": "FROM scratch\nCOPY \(name) /\(name)\n", name: name], under: context)
            let pushed = try slipway(["build", "-t", "\(registry.basic)/\(repository):\(name)", "--push", "--sign", key, "--attest-mode=referrers",
                                      "--provenance=true", "--sbom=true", "--progress", "quiet", context])
            XCTAssertEqual(pushed.status, 0, pushed.stderr)
            digests.append(try self.digests("\(registry.basic)/\(repository):\(name)").index)
        }
        let a = "\(registry.basic)/\(repository):a"
        let verified = try slipway(["verify", "--key", pub, a])
        XCTAssertEqual(verified.status, 0, verified.stderr)
        for type in ["https://slsa.dev/provenance/v0.2", "https://spdx.dev/Document"] {
            XCTAssertTrue(verified.stdout.contains("verified attestation \(type) for \(digests[0].dropFirst(7).prefix(12)): subject is \(digests[0]) (OCI referrer)"),
                          verified.stdout)
        }
        _ = try SignatureVerifier.run(registry, host: registry.basic, repository: repository, "move-referrer",
                                      [digests[1], digests[0], "application/vnd.in-toto+json"])
        let moved = try slipway(["verify", "--key", pub, a])
        XCTAssertEqual(moved.status, 1)
        XCTAssertTrue(moved.stderr.contains("names subject \(digests[1]), not the image \(digests[0])"), moved.stderr)
    }

    func testPushAndCopyWithSignStoreReferrersInTheDestination() throws {
        let (key, pub) = try keygen("cosign")
        let layout = work + "/image.tar"
        XCTAssertEqual(try slipway(["build", "--platform", "linux/amd64,linux/arm64", "--progress", "quiet", "--output", "type=oci,dest=\(layout)",
                                    Run.repositoryRoot.path + "/testdata/example"]).status, 0)
        let pushed = "\(registry.basic)/\(ns)/pushed:1", copied = "\(registry.basic)/\(ns)/promoted:1"
        let push = try slipway(["push", layout, pushed, "--sign", key, "--attest-mode", "referrers", "--progress", "quiet"])
        XCTAssertEqual(push.status, 0, push.stderr)
        let copy = try slipway(["copy", pushed, copied, "--sign", key, "--attest-mode=referrers", "--progress", "quiet"])
        XCTAssertEqual(copy.status, 0, copy.stderr)
        let (index, children) = try digests(copied)
        for (repository, reference) in [("\(ns)/pushed", pushed), ("\(ns)/promoted", copied)] {
            let report = try verifyReferrers(repository, pub, [index] + children)
            XCTAssertEqual(report.values.map { $0["valid"] as? Int }, [1, 1, 1], "\(repository): \(report)")
            XCTAssertEqual(try slipway(["verify", "--key", pub, reference]).status, 0)
        }
        let bad = try slipway(["push", layout, pushed, "--sign", key, "--attest-mode=sideways"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("--attest-mode=sideways: use index"), bad.stderr)
    }

    /// A registry with the referrers API that pages its list one referrer at a time: the
    /// second key's signature is on the third page (after the first signature and the
    /// provenance attestation), so verify only passes by following `Link: rel="next"`; no
    /// fallback tag is written since the registry answers `OCI-Subject`.
    func testReferrersAPIPagesAreFollowedAndNoFallbackTagIsWritten() throws {
        let first = try keygen("first"), second = try keygen("second")
        let server = try BackgroundServer(["python3", Run.repositoryRoot.path + "/scripts/test-registry/referrers-registry.py",
                                           registry.stateDirectory + "/server.crt", registry.stateDirectory + "/server.key", "1"])
        defer { server.stop() }
        let host = "127.0.0.1:\(server.port)"
        let context = work + "/ctx"
        try Run.write(["Dockerfile": "FROM scratch\nCOPY a /a\n", "a": "a\n"], under: context)
        let tag = "\(host)/app:1"
        let built = try slipway(["build", "-t", tag, "--push", "--sign", first.key, "--attest-mode=referrers", "--provenance=true", "--progress", "quiet", context])
        XCTAssertEqual(built.status, 0, built.stderr)
        let signed = try slipway(["sign", "--key", second.key, "--attest-mode=referrers", tag])
        XCTAssertEqual(signed.status, 0, signed.stderr)
        XCTAssertTrue(signed.stdout.contains("(OCI referrer)\n"), "indexed by the registry: \(signed.stdout)")
        let digest = try XCTUnwrap(built.stdout.split(separator: "\n").last.flatMap { $0.split(separator: "@").last }.map(String.init))

        let verified = try slipway(["verify", "--key", second.pub, tag])
        XCTAssertEqual(verified.status, 0, verified.stderr)
        let report = try XCTUnwrap(try verifyReferrers("app", second.pub, [digest], host: host)[digest])
        XCTAssertEqual(report["api"] as? Bool, true)
        XCTAssertEqual(report["referrers"] as? Int, 2, "two signature referrers beside the attestation: \(report)")
        XCTAssertEqual(report["valid"] as? Int, 1)

        let log = try Run.tool("python3", ["-c", "import ssl, sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], context=ssl.create_default_context(cafile=sys.argv[2])).read().decode())",
                                           "https://\(host)/log", registry.ca])
        let lines = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(log.utf8)) as? [String])
        XCTAssertTrue(lines.contains { $0.contains("/referrers/\(digest)?n=1&last=") }, "the next pages were fetched")
        XCTAssertFalse(lines.contains { $0.hasPrefix("PUT") && $0.contains("/manifests/sha256-") }, "no fallback tag: \(lines.filter { $0.hasPrefix("PUT") })")

        // Links that leave the registry, or loop, are refused rather than followed.
        for (repository, message) in [("offsite/app", "leaves the registry"), ("loop/app", "link back")] {
            let other = "\(host)/\(repository):1"
            XCTAssertEqual(try slipway(["build", "-t", other, "--push", "--sign", first.key, "--attest-mode=referrers", "--progress", "quiet", context]).status, 1,
                           "signing reads the referrers first, and fails the same way")
            let refused = try slipway(["verify", "--key", first.pub, other])
            XCTAssertEqual(refused.status, 1)
            XCTAssertTrue(refused.stderr.contains(message), refused.stderr)
        }
    }
}
