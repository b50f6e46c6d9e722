import Foundation
import TestSupport
import XCTest

/// Attestations pushed to the real test registry (Debian's docker-registry 2.8, which has no
/// referrers API): in the index (read back with skopeo and `slipway inspect`) and as OCI 1.1
/// referrers through the `sha256-<hex>` fallback tag (read back with the `oras` package).
final class AttestationRegistryTests: XCTestCase {
    var work = ""
    var registry: TestRegistries!
    var env: [String: String] = [:]

    override func setUpWithError() throws {
        (work, registry, env) = try TestRegistries.workspace()
        env["BUILDX_NO_DEFAULT_ATTESTATIONS"] = ""
        let login = try registry.login(registry.basic, environment: env)
        XCTAssertEqual(login.status, 0, login.stderr)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    @discardableResult
    private func slipway(_ arguments: [String]) throws -> Run.Output {
        let output = try Run.command(Run.slipway, arguments, environment: env)
        XCTAssertEqual(output.status, 0, "slipway \(arguments.joined(separator: " ")): \(output.stderr)")
        return output
    }

    private func context() throws -> String {
        let dir = work + "/ctx"
        try Run.write(["Dockerfile": "FROM scratch\nCOPY a.txt /srv/a.txt\n", "a.txt": "A\n"], under: dir)
        return dir
    }

    private func raw(_ reference: String) throws -> [String: Any] {
        try Run.json(String(decoding: try registry.skopeo(["inspect", "--raw"] + registry.skopeoAuth(registry.basic) + ["docker://\(reference)"]), as: UTF8.self))
    }

    func testPushKeepsAttestationsInTheIndexAndInspectShowsThemAsSuch() throws {
        let tag = "\(registry.basic)/\(uniqueName("attest/index")):1.0"
        try slipway(["build", "--progress", "quiet", "--platform", "linux/amd64,linux/arm64", "--sbom=true", "-t", tag, "--push", try context()])
        let index = try raw(tag)
        let entries = index["manifests"] as? [[String: Any]] ?? []
        XCTAssertEqual(entries.count, 4, "two images and their attestation manifests: \(index)")
        let attestations = entries.filter { ($0["platform"] as? [String: String]) == ["architecture": "unknown", "os": "unknown"] }
        XCTAssertEqual(attestations.count, 2)

        let text = try slipway(["inspect", tag]).stdout
        XCTAssertEqual(text.components(separatedBy: "Attestation: ").count - 1, 2, text)
        XCTAssertFalse(text.contains("unknown/unknown"), "attestation entries are not shown as platforms: \(text)")
        XCTAssertTrue(text.contains("https://slsa.dev/provenance/v0.2, https://spdx.dev/Document"), text)

        let provenance = try Run.json(try slipway(["inspect", "--provenance", "--format", "json", tag]).stdout)
        XCTAssertEqual(Set(provenance.keys), ["linux/amd64", "linux/arm64"])
        let amd = (provenance["linux/amd64"] as? [String: Any])?["SLSA"] as? [String: Any]
        XCTAssertEqual(amd?["buildType"] as? String, "https://mobyproject.org/buildkit@v1")
        let sbom = try Run.json(try slipway(["inspect", "--sbom", "--format", "json", tag]).stdout)
        let spdx = (sbom["linux/arm64"] as? [String: Any])?["SPDX"] as? [String: Any]
        XCTAssertEqual((spdx?["files"] as? [[String: Any]])?.compactMap { $0["fileName"] as? String }, ["./srv/a.txt"])
    }

    func testReferrersModeKeepsTheIndexCleanAndUsesTheFallbackTagReadByOras() throws {
        let repository = uniqueName("attest/referrers")
        let tag = "\(registry.basic)/\(repository):1.0"
        let pushed = try slipway(["build", "--progress", "quiet", "--platform", "linux/amd64,linux/arm64", "--attest-mode=referrers",
                                  "--provenance=mode=max", "--sbom=true", "-t", tag, "--push", try context()])
        let index = try raw(tag)
        let entries = index["manifests"] as? [[String: Any]] ?? []
        XCTAssertEqual(entries.compactMap { ($0["platform"] as? [String: String])?["os"] }, ["linux", "linux"], "no unknown/unknown entries")
        XCTAssertTrue(pushed.stdout.contains(tag + "@sha256:"), pushed.stdout)
        let images = entries.compactMap { $0["digest"] as? String }

        let script = #"""
        import json, sys
        import oras.provider
        host, repo, user, password, ca = sys.argv[1:6]
        client = oras.provider.Registry(hostname=host, tls_verify=ca, auth_backend="basic")
        client.auth.set_basic_auth(user, password)
        out = {"tags": client.get_tags(f"{host}/{repo}"), "indexes": {}, "referrers": {}}
        accept = ["application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json"]
        for subject in sys.argv[6:]:
            tag = subject.replace(":", "-")
            idx = client.get_manifest(f"{host}/{repo}:{tag}", allowed_media_type=accept)
            out["indexes"][subject] = idx
            for entry in idx["manifests"]:
                out["referrers"][entry["digest"]] = client.get_manifest(f"{host}/{repo}@{entry['digest']}", allowed_media_type=accept)
        print(json.dumps(out))
        """#
        let result = try Run.command("python3", ["-c", script, registry.basic, repository, registry.user, registry.password,
                                                 registry.certsDir + "/" + registry.basic + "/ca.crt"] + images)
        XCTAssertEqual(result.status, 0, result.stderr)
        let oras = try Run.json(result.stdout)
        let tags = Set(oras["tags"] as? [String] ?? [])
        for image in images { XCTAssertTrue(tags.contains(image.replacingOccurrences(of: ":", with: "-")), "fallback tag for \(image): \(tags)") }
        let referrers = oras["referrers"] as? [String: [String: Any]] ?? [:]
        XCTAssertEqual(referrers.count, 2, "one referrer per platform")
        for (subject, fallback) in oras["indexes"] as? [String: [String: Any]] ?? [:] {
            let listed = fallback["manifests"] as? [[String: Any]] ?? []
            XCTAssertEqual(listed.count, 1)
            XCTAssertEqual(listed.first?["artifactType"] as? String, "application/vnd.in-toto+json")
            let manifest = referrers[listed.first?["digest"] as? String ?? ""] ?? [:]
            XCTAssertEqual((manifest["subject"] as? [String: Any])?["digest"] as? String, subject, "the referrer names its image")
            XCTAssertEqual(manifest["artifactType"] as? String, "application/vnd.in-toto+json")
            let types = (manifest["layers"] as? [[String: Any]] ?? []).compactMap { ($0["annotations"] as? [String: String])?["in-toto.io/predicate-type"] }
            XCTAssertEqual(types, ["https://slsa.dev/provenance/v0.2", "https://spdx.dev/Document"])
        }

        // Pushing again adds nothing to the fallback indexes; inspect finds them as referrers.
        try slipway(["build", "--progress", "quiet", "--platform", "linux/amd64,linux/arm64", "--attest-mode=referrers",
                     "--provenance=mode=max", "--sbom=true", "-t", tag, "--push", try context()])
        for image in images {
            let fallback = try raw("\(registry.basic)/\(repository):\(image.replacingOccurrences(of: ":", with: "-"))")
            XCTAssertEqual((fallback["manifests"] as? [[String: Any]])?.count, 1, "the same referrer is listed once")
        }
        let text = try slipway(["inspect", "--provenance", tag]).stdout
        XCTAssertTrue(text.contains("(OCI referrer)") && text.contains("linux/arm64: https://slsa.dev/provenance/v0.2"), text)
    }

    /// Materials: the FROM image and a `COPY --from` image by the manifest digest the registry
    /// serves for each platform, and an `ADD` URL with the SHA-256 of what was downloaded.
    func testProvenanceMaterialsNameEveryImageByDigestAndADDURLsByChecksum() throws {
        let base = "\(registry.basic)/\(uniqueName("attest/base")):1"
        let tool = "\(registry.basic)/\(uniqueName("attest/tool")):2"
        for (tag, file) in [(base, "base.txt"), (tool, "tool.txt")] {
            let dir = work + "/" + file
            try Run.write(["Dockerfile": "FROM scratch\nCOPY \(file) /\(file)\n", file: file], under: dir)
            try slipway(["build", "--progress", "quiet", "--platform", "linux/amd64,linux/arm64", "--provenance=false", "-t", tag, "--push", dir])
        }
        let server = try TestHTTPServer.start("""
            def do_GET(self):
                self.send(200, b"payload") if self.path == "/p.bin" else self.send(404, b"")
            """)
        defer { server.stop() }
        let url = "http://127.0.0.1:\(server.port)/p.bin"
        let dir = work + "/app"
        try Run.write(["Dockerfile": "FROM \(base)\nCOPY --from=\(tool) /tool.txt /tool.txt\nADD \(url) /p.bin\n"], under: dir)
        let layout = work + "/materials"
        try slipway(["build", "--progress", "quiet", "--platform", "linux/amd64,linux/arm64", "-o", "type=oci,dest=\(layout),tar=false", dir])
        let index = try Run.json(Run.tool("skopeo", ["inspect", "--raw", "oci:\(layout)"]))
        let entries = (index["manifests"] as? [[String: Any]] ?? []).filter { ($0["annotations"] as? [String: String])?["vnd.docker.reference.type"] == "attestation-manifest" }
        XCTAssertEqual(entries.count, 2)
        for entry in entries {
            let manifest = try Run.json(String(contentsOfFile: layout + "/blobs/sha256/" + (entry["digest"] as? String ?? "").dropFirst(7), encoding: .utf8))
            let layer = (manifest["layers"] as? [[String: Any]])?.first?["digest"] as? String ?? ""
            let statement = try Run.json(String(contentsOfFile: layout + "/blobs/sha256/" + layer.dropFirst(7), encoding: .utf8))
            let subject = ((statement["subject"] as? [[String: Any]])?.first?["digest"] as? [String: String])?["sha256"] ?? ""
            let arch = (index["manifests"] as? [[String: Any]] ?? []).first { ($0["digest"] as? String) == "sha256:" + subject }
                .flatMap { ($0["platform"] as? [String: String])?["architecture"] } ?? "?"
            let materials = (statement["predicate"] as? [String: Any])?["materials"] as? [[String: Any]] ?? []
            var found: [String: String] = [:]
            for material in materials { found[material["uri"] as? String ?? ""] = (material["digest"] as? [String: String])?["sha256"] }
            func served(_ tag: String) throws -> String {
                let raw = try registry.skopeo(["inspect", "--raw", "--override-arch", arch] + registry.skopeoAuth(registry.basic) + ["docker://\(tag)"])
                let children = try Run.json(String(decoding: raw, as: UTF8.self))["manifests"] as? [[String: Any]] ?? []
                let child = children.first { ($0["platform"] as? [String: String])?["architecture"] == arch }?["digest"] as? String ?? ""
                return String(child.dropFirst(7))
            }
            for tag in [base, tool] {
                let path = tag.split(separator: "/", maxSplits: 1).last.map(String.init) ?? ""
                let (name, version) = (path.split(separator: ":").first.map(String.init) ?? "", path.split(separator: ":").last.map(String.init) ?? "")
                let host = PackageURLText.encode(registry.basic)
                let uri = "pkg:docker/\(host)/\(name)@\(version)?platform=linux%2F\(arch)"
                XCTAssertEqual(found[uri], try served(tag), "\(uri) in \(found)")
            }
            XCTAssertEqual(found[url], sha256(Data("payload".utf8)))
        }
    }
}

/// purl percent-encoding of a host:port (`127.0.0.1%3A5000`), as the purl spec writes it.
enum PackageURLText {
    static func encode(_ text: String) -> String {
        text.replacingOccurrences(of: ":", with: "%3A")
    }
}
