import Foundation
import TestSupport
import XCTest

/// `verify` reads BuildKit-style attestation manifests (`vnd.docker.reference.type:
/// attestation-manifest`) in an index and checks that each in-toto statement's subject is the
/// platform manifest it is attached to. The index is written here by Python as an OCI layout
/// (as BuildKit lays it out), pushed with `slipway push`.
final class AttestationSubjectTests: XCTestCase {
    var work = ""
    var registry: TestRegistries!
    var env: [String: String] = [:]
    let ns = uniqueName("att")

    override func setUpWithError() throws {
        (work, registry, env) = try TestRegistries.workspace()
        XCTAssertEqual(try registry.login(registry.basic, environment: env).status, 0)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    /// An OCI layout with one linux/amd64 image and its attestation manifest, whose statement
    /// names `subject` (nil: the image manifest's digest); prints the image manifest digest.
    private func layout(_ path: String, subject: String?) throws -> String {
        let script = #"""
        import hashlib, json, os, sys
        root, subject = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else None)
        os.makedirs(root + "/blobs/sha256", exist_ok=True)
        def put(data, media):
            digest = hashlib.sha256(data).hexdigest()
            open(f"{root}/blobs/sha256/{digest}", "wb").write(data)
            return {"mediaType": media, "digest": "sha256:" + digest, "size": len(data)}
        def js(value): return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()
        config = put(js({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}, "config": {}}), "application/vnd.oci.image.config.v1+json")
        image = put(js({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": config, "layers": []}), "application/vnd.oci.image.manifest.v1+json")
        statement = put(js({"_type": "https://in-toto.io/Statement/v0.1", "predicateType": "https://slsa.dev/provenance/v0.2",
                            "subject": [{"name": "pkg:docker/x", "digest": {"sha256": (subject or image["digest"]).split(":")[1]}}], "predicate": {}}),
                        "application/vnd.in-toto+json")
        statement["annotations"] = {"in-toto.io/predicate-type": "https://slsa.dev/provenance/v0.2"}
        empty = put(b"{}", "application/vnd.oci.image.config.v1+json")
        attestation = put(js({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": empty, "layers": [statement]}),
                          "application/vnd.oci.image.manifest.v1+json")
        image["platform"] = {"architecture": "amd64", "os": "linux"}
        attestation["platform"] = {"architecture": "unknown", "os": "unknown"}
        attestation["annotations"] = {"vnd.docker.reference.digest": image["digest"], "vnd.docker.reference.type": "attestation-manifest"}
        index = put(js({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [image, attestation]}), "application/vnd.oci.image.index.v1+json")
        open(root + "/index.json", "wb").write(js({"schemaVersion": 2, "manifests": [index]}))
        open(root + "/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
        print(image["digest"])
        """#
        let output = try Run.command("python3", ["-c", script, path] + (subject.map { [$0] } ?? []))
        guard output.status == 0 else { throw TestError("layout: \(output.stderr)") }
        return output.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func slipway(_ arguments: [String]) throws -> Run.Output { try Run.command(Run.slipway, arguments, environment: env) }

    func testAttestationSubjectsMustNameTheirImage() throws {
        XCTAssertEqual(try slipway(["keygen", "--output-prefix", work + "/cosign"]).status, 0)
        let good = "\(registry.basic)/\(ns)/app:good", bad = "\(registry.basic)/\(ns)/app:bad"
        let image = try layout(work + "/good", subject: nil)
        let other = "sha256:" + String(repeating: "ab", count: 32)
        _ = try layout(work + "/bad", subject: other)
        for (path, tag) in [(work + "/good", good), (work + "/bad", bad)] {
            let pushed = try slipway(["push", path, tag, "--sign", work + "/cosign.key", "--progress", "plain"])
            XCTAssertEqual(pushed.status, 0, pushed.stderr)
        }
        let verified = try slipway(["verify", "--key", work + "/cosign.pub", good])
        XCTAssertEqual(verified.status, 0, verified.stderr)
        XCTAssertTrue(verified.stdout.contains("attestation https://slsa.dev/provenance/v0.2 for linux/amd64: subject is \(image)"), verified.stdout)
        XCTAssertEqual(verified.stdout.split(separator: "\n").count, 3, "index, the platform manifest and one attestation; the attestation manifest itself is not signed: \(verified.stdout)")

        let json = try slipway(["verify", "--key", work + "/cosign.pub", "--format", "json", good])
        XCTAssertEqual(json.status, 0, json.stderr)
        let checks = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(checks.map { $0["kind"] as? String }, ["verified", "verified", "attestation"])
        XCTAssertEqual(checks[1]["platform"] as? String, "linux/amd64")
        XCTAssertEqual(checks[1]["digest"] as? String, image)
        XCTAssertEqual(checks[1]["validSignatures"] as? Int, 1)
        XCTAssertEqual(checks[2]["digest"] as? String, image)
        XCTAssertEqual(checks[2]["predicateType"] as? String, "https://slsa.dev/provenance/v0.2")

        let refused = try slipway(["verify", "--key", work + "/cosign.pub", bad])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("names subject \(other), not the image \(image)"), refused.stderr)
    }
}
