import Foundation
import TestSupport
import XCTest

/// Provenance and SBOM attestations (issue 14, items 1–5), read back with tools we did not
/// write: skopeo for the index layout, pyspdxtools for SPDX, the `in-toto-attestation`
/// package for Statement/Provenance v1, `jsonschema` for SLSA v0.2 (a schema written from
/// the v0.2 spec: no PyPI package ships it), `go version -m` for Go build info.
final class AttestationTests: XCTestCase {
    var work = ""
    /// slipway's real defaults (the test harness turns default provenance off elsewhere).
    let defaults = ["BUILDX_NO_DEFAULT_ATTESTATIONS": ""]

    override func setUpWithError() throws { work = try Run.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    private func context(_ dockerfile: String, files: [String: String] = ["a.txt": "A\n"]) throws -> String {
        let dir = work + "/ctx-\(UUID().uuidString.prefix(6))"
        var all = files
        all["Dockerfile"] = dockerfile
        try Run.write(all, under: dir)
        return dir
    }

    private func blob(_ layout: String, _ digest: String) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: layout + "/blobs/sha256/" + digest.dropFirst("sha256:".count)))
    }

    /// The attestation entries of a layout's index and, per entry, its manifest.
    private func attestations(_ layout: String) throws -> (index: [String: Any], entries: [[String: Any]]) {
        let index = try Run.json(Run.tool("skopeo", ["inspect", "--raw", "oci:\(layout)"]))
        let entries = (index["manifests"] as? [[String: Any]] ?? []).filter {
            ($0["annotations"] as? [String: String])?["vnd.docker.reference.type"] == "attestation-manifest"
        }
        return (index, entries)
    }

    /// The statement with `predicateType` in the attestation manifest `entry`.
    private func statement(_ layout: String, entry: [String: Any], predicateType: String) throws -> (bytes: Data, json: [String: Any]) {
        let manifest = try JSONSerialization.jsonObject(with: blob(layout, entry["digest"] as? String ?? "")) as? [String: Any] ?? [:]
        let layer = try XCTUnwrap((manifest["layers"] as? [[String: Any]] ?? []).first {
            ($0["annotations"] as? [String: String])?["in-toto.io/predicate-type"] == predicateType
        }, "no \(predicateType) layer in \(manifest)")
        XCTAssertEqual(layer["mediaType"] as? String, "application/vnd.in-toto+json")
        let bytes = try blob(layout, layer["digest"] as? String ?? "")
        return (bytes, try JSONSerialization.jsonObject(with: bytes) as? [String: Any] ?? [:])
    }

    func testDefaultMinProvenanceIsStoredAsBuildKitStoresItAndMatchesTheSLSAv02Schema() throws {
        let dir = try context("FROM scratch AS base\nCOPY a.txt /a.txt\nFROM base AS final\nLABEL team=core\n")
        let layout = work + "/out"
        let output = try Run.command(Run.slipway, ["build", "--progress", "quiet", "--platform", "linux/amd64,linux/arm64", "--target", "final",
                                                   "--build-arg", "TOKEN=s3cret", "--label", "x=y", "-o", "type=oci,dest=\(layout),tar=false", dir],
                                     environment: defaults)
        XCTAssertEqual(output.status, 0, output.stderr)
        let (index, entries) = try attestations(layout)
        let images = (index["manifests"] as? [[String: Any]] ?? []).filter { ($0["annotations"] as? [String: String]) == nil }
        XCTAssertEqual(images.count, 2)
        XCTAssertEqual(entries.count, 2, "one attestation manifest per platform")
        for entry in entries {
            XCTAssertEqual(entry["platform"] as? [String: String], ["architecture": "unknown", "os": "unknown"])
            let subject = (entry["annotations"] as? [String: String])?["vnd.docker.reference.digest"]
            XCTAssertTrue(images.contains { $0["digest"] as? String == subject }, "vnd.docker.reference.digest names an image of the index")
            let (bytes, json) = try statement(layout, entry: entry, predicateType: "https://slsa.dev/provenance/v0.2")
            XCTAssertEqual(json["_type"] as? String, "https://in-toto.io/Statement/v1")
            let subjects = json["subject"] as? [[String: Any]] ?? []
            XCTAssertEqual(subjects.first?["digest"] as? [String: String], ["sha256": String(subject?.dropFirst(7) ?? "")])
            XCTAssertFalse(String(decoding: bytes, as: UTF8.self).contains("s3cret"), "mode=min leaves build arguments out")
            let file = work + "/provenance.json"
            try bytes.write(to: URL(fileURLWithPath: file))
            let check = try Run.command("python3", ["-c", Self.slsaV02Check, file])
            XCTAssertEqual(check.status, 0, check.stdout + check.stderr)
            let predicate = json["predicate"] as? [String: Any] ?? [:]
            let args = ((predicate["invocation"] as? [String: Any])?["parameters"] as? [String: Any])?["args"] as? [String: String]
            XCTAssertEqual(args?["target"], "final")
            XCTAssertEqual(args?["platform"], "linux/amd64,linux/arm64")
            let metadata = predicate["metadata"] as? [String: Any] ?? [:]
            XCTAssertEqual(metadata["reproducible"] as? Bool, true)
            XCTAssertEqual((metadata["completeness"] as? [String: Any])?["parameters"] as? Bool, false, "min mode says its parameters are incomplete")
            XCTAssertNil(metadata["buildStartedOn"], "no wall-clock time without SOURCE_DATE_EPOCH")
        }
    }

    func testDockerAndLocalOutputsGetNoDefaultProvenanceAndTheVariableTurnsTheDefaultOff() throws {
        let dir = try context("FROM scratch\nCOPY a.txt /a.txt\n")
        for (name, output, environment) in [("docker", "type=docker,dest=\(work)/d.tar", defaults),
                                            ("oci+variable", "type=oci,dest=\(work)/o.tar", ["BUILDX_NO_DEFAULT_ATTESTATIONS": "1"])] {
            let result = try Run.command(Run.slipway, ["build", "--progress", "quiet", "--platform", "linux/amd64", "-o", output, dir], environment: environment)
            XCTAssertEqual(result.status, 0, result.stderr)
            let path = output.split(separator: "=").last.map(String.init) ?? ""
            let raw = try Run.json(Run.tool("skopeo", ["inspect", "--raw", "oci-archive:\(path)"]))
            XCTAssertEqual(raw["mediaType"] as? String, "application/vnd.oci.image.manifest.v1+json", "\(name): a plain image, no index of attestations")
        }
        let explicit = try Run.command(Run.slipway, ["build", "--progress", "quiet", "--platform", "linux/amd64", "--provenance=true",
                                                     "-o", "type=docker,dest=\(work)/e.tar", dir], environment: defaults)
        XCTAssertEqual(explicit.status, 0, explicit.stderr)
        let raw = try Run.json(Run.tool("skopeo", ["inspect", "--raw", "oci-archive:\(work)/e.tar"]))
        XCTAssertEqual((raw["manifests"] as? [[String: Any]])?.count, 2, "asked for explicitly, type=docker carries it")
    }

    /// BuildKit turns OCI media types on for attestations; without them Docker types stay.
    func testAttestationsTurnOnOCIMediaTypesAsBuildKitDoes() throws {
        let dir = try context("FROM scratch\nCOPY a.txt /a.txt\n")
        let forced = try Run.command(Run.slipway, ["build", "--progress", "quiet", "--platform", "linux/amd64,linux/arm64",
                                                   "-o", "type=oci,dest=\(work)/forced.tar,oci-mediatypes=false", dir], environment: defaults)
        XCTAssertEqual(forced.status, 0, forced.stderr)
        XCTAssertTrue(forced.stderr.contains("attestations need OCI media types"), forced.stderr)
        let index = try Run.json(Run.tool("skopeo", ["inspect", "--raw", "oci-archive:\(work)/forced.tar"]))
        XCTAssertEqual(index["mediaType"] as? String, "application/vnd.oci.image.index.v1+json")
        let plain = try Run.command(Run.slipway, ["build", "--progress", "quiet", "--platform", "linux/amd64,linux/arm64", "--provenance=false",
                                                  "-o", "type=oci,dest=\(work)/docker.tar,oci-mediatypes=false", dir], environment: defaults)
        XCTAssertEqual(plain.status, 0, plain.stderr)
        let list = try Run.json(Run.tool("skopeo", ["inspect", "--raw", "oci-archive:\(work)/docker.tar"]))
        XCTAssertEqual(list["mediaType"] as? String, "application/vnd.docker.distribution.manifest.list.v2+json")
    }

    /// buildx takes a bare `--sbom` / `--provenance` as `=true`, also right before the context.
    func testBareSBOMAndProvenanceMeanTrue() throws {
        let dir = try context("FROM scratch\nCOPY a.txt /a.txt\n")
        let layout = work + "/bare"
        try Run.slipway(["build", "--progress", "quiet", "--platform", "linux/amd64", "-o", "type=oci,dest=\(layout),tar=false", "--provenance", "--sbom", dir])
        let entry = try XCTUnwrap(attestations(layout).entries.first)
        _ = try statement(layout, entry: entry, predicateType: "https://spdx.dev/Document")
        _ = try statement(layout, entry: entry, predicateType: "https://slsa.dev/provenance/v0.2")
    }

    func testMaxProvenanceV1IsAValidInTotoStatementWithTheDockerfileAndBuildArgs() throws {
        let dockerfile = "FROM scratch\nARG VERSION\nCOPY a.txt /a-$VERSION.txt\n"
        let dir = try context(dockerfile)
        let layout = work + "/v1"
        try Run.slipway(["build", "--progress", "quiet", "--platform", "linux/amd64", "--provenance", "mode=max,version=v1",
                         "--build-arg", "VERSION=1.2", "--source-date-epoch", "1700000000", "-o", "type=oci,dest=\(layout),tar=false", dir])
        let (_, entries) = try attestations(layout)
        let entry = try XCTUnwrap(entries.first)
        let (bytes, json) = try statement(layout, entry: entry, predicateType: "https://slsa.dev/provenance/v1")
        let file = work + "/v1.json"
        try bytes.write(to: URL(fileURLWithPath: file))
        let check = try Run.command("python3", ["-c", Self.inTotoV1Check, file])
        XCTAssertEqual(check.status, 0, check.stdout + check.stderr)
        let definition = (json["predicate"] as? [String: Any])?["buildDefinition"] as? [String: Any] ?? [:]
        let request = (definition["externalParameters"] as? [String: Any])?["request"] as? [String: Any] ?? [:]
        XCTAssertEqual((request["args"] as? [String: String])?["build-arg:VERSION"], "1.2", "mode=max records build arguments")
        let metadata = ((json["predicate"] as? [String: Any])?["runDetails"] as? [String: Any])?["metadata"] as? [String: Any] ?? [:]
        XCTAssertEqual(metadata["startedOn"] as? String, "2023-11-14T22:13:20Z", "with SOURCE_DATE_EPOCH the times are the epoch")
        let infos = ((metadata["buildkit_metadata"] as? [String: Any])?["source"] as? [String: Any])?["infos"] as? [[String: Any]]
        let text = (infos?.first?["data"] as? String).flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) }
        XCTAssertEqual(text, dockerfile, "mode=max carries the Dockerfile's text")
    }

    func testProvenanceRecordsTheContextsGitCommitAndRemoteWithoutCredentials() throws {
        guard Run.isInstalled("git") else { throw XCTSkip("needs git to make a repository (slipway itself never runs git)") }
        let repo = work + "/repo"
        try Run.write(["app/Dockerfile": "FROM scratch\nCOPY a.txt /a.txt\n", "app/a.txt": "A\n"], under: repo)
        _ = try Run.mustShell("cd \(Run.quoted(repo)) && git init -q -b main && git add -A && git -c user.email=t@e -c user.name=t commit -qm init && git remote add origin https://ci:tok3n@git.example.com/team/app.git && git pack-refs --all")
        let head = try Run.mustShell("git -C \(Run.quoted(repo)) rev-parse HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
        let layout = work + "/git"
        try Run.slipway(["build", "--progress", "quiet", "--platform", "linux/amd64", "--provenance=true", "-o", "type=oci,dest=\(layout),tar=false", repo + "/app"])
        let (bytes, json) = try statement(layout, entry: try XCTUnwrap(attestations(layout).entries.first), predicateType: "https://slsa.dev/provenance/v0.2")
        XCTAssertFalse(String(decoding: bytes, as: UTF8.self).contains("tok3n"), "credentials of the remote never reach the attestation")
        let metadata = (json["predicate"] as? [String: Any])?["metadata"] as? [String: Any] ?? [:]
        let vcs = (metadata["https://mobyproject.org/buildkit@v1#metadata"] as? [String: Any])?["vcs"] as? [String: String]
        XCTAssertEqual(vcs?["revision"], head, "read from packed-refs")
        XCTAssertEqual(vcs?["source"], "https://git.example.com/team/app.git")
        XCTAssertEqual(vcs?["localdir:context"], "app")
        let off = try Run.command(Run.slipway, ["build", "--progress", "quiet", "--platform", "linux/amd64", "--provenance=true",
                                                "-o", "type=oci,dest=\(work)/nogit,tar=false", repo + "/app"], environment: ["BUILDX_GIT_INFO": "0"])
        XCTAssertEqual(off.status, 0, off.stderr)
        let (quiet, _) = try statement(work + "/nogit", entry: try XCTUnwrap(attestations(work + "/nogit").entries.first), predicateType: "https://slsa.dev/provenance/v0.2")
        XCTAssertFalse(String(decoding: quiet, as: UTF8.self).contains(head), "BUILDX_GIT_INFO=0 leaves git out")
    }

    /// buildx's `BUILDX_GIT_CHECK_DIRTY=1`: `vcs:revision` is the commit with `-dirty` when
    /// `git status --porcelain --ignored` would list anything; without the variable, the commit.
    func testDirtyWorkTreeIsRecordedAsBuildxDoesWhenAsked() throws {
        guard Run.isInstalled("git") else { throw XCTSkip("needs git to make a repository (slipway itself never runs git)") }
        let repo = work + "/dirty"
        try Run.write(["Dockerfile": "FROM scratch\nCOPY a.txt /a.txt\n", "a.txt": "A\n"], under: repo)
        _ = try Run.mustShell("cd \(Run.quoted(repo)) && git init -q -b main && git add -A && git -c user.email=t@e -c user.name=t commit -qm init && git gc -q")
        let head = try Run.mustShell("git -C \(Run.quoted(repo)) rev-parse HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
        func revision(_ environment: [String: String]) throws -> String? {
            let out = work + "/out-\(UUID().uuidString)"
            let built = try Run.command(Run.slipway, ["build", "--progress", "quiet", "--provenance=true", "-o", "type=local,dest=\(out)", repo], environment: environment)
            XCTAssertEqual(built.status, 0, built.stderr)
            let statement = try Run.json(String(contentsOfFile: out + "/provenance.json", encoding: .utf8))
            let metadata = (statement["predicate"] as? [String: Any])?["metadata"] as? [String: Any] ?? [:]
            return ((metadata["https://mobyproject.org/buildkit@v1#metadata"] as? [String: Any])?["vcs"] as? [String: String])?["revision"]
        }
        XCTAssertEqual(try revision(["BUILDX_GIT_CHECK_DIRTY": "1"]), head, "a clean tree (commit read from the pack)")
        try "B\n".write(toFile: repo + "/a.txt", atomically: false, encoding: .utf8)
        XCTAssertFalse(try Run.mustShell("git -C \(Run.quoted(repo)) status --porcelain --ignored").isEmpty)
        XCTAssertEqual(try revision(["BUILDX_GIT_CHECK_DIRTY": "true"]), head + "-dirty")
        XCTAssertEqual(try revision([:]), head, "not checked unless asked, as buildx")
        _ = try Run.mustShell("cd \(Run.quoted(repo)) && git checkout -q -- a.txt && touch notes.txt")
        XCTAssertEqual(try revision(["BUILDX_GIT_CHECK_DIRTY": "1"]), head + "-dirty", "an untracked file")
    }

    /// A base (an OCI layout) with a Debian status file, an Alpine database, os-release, a
    /// Python dist-info and a Node package; the build COPYs a Go binary onto it.
    func testSBOMIsValidSPDXListingOSPythonNodeGoAndRustPackagesAndOwnFiles() throws {
        let status = """
        Package: libc6
        Status: install ok installed
        Architecture: amd64
        Source: glibc
        Version: 2.36-9+deb12u4
        Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>

        Package: removed-tool
        Status: deinstall ok config-files
        Architecture: amd64
        Version: 1.0

        Package: bash
        Status: install ok installed
        Architecture: amd64
        Version: 5.2.15-2+b2

        """
        let apk = "P:musl\nV:1.2.4-r2\nA:x86_64\nL:MIT\no:musl\n\nP:busybox\nV:1.36.1-r5\nA:x86_64\nL:GPL-2.0-only\n\n"
        let base = try context("FROM scratch\nCOPY . /\n", files: [
            "var/lib/dpkg/status": status, "lib/apk/db/installed": apk,
            "etc/os-release": "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n",
            "usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\nLicense: Apache 2.0\n\nbody\n",
            "app/node_modules/left-pad/package.json": "{\"name\":\"left-pad\",\"version\":\"1.3.0\",\"license\":\"WTFPL\"}",
            "app/node_modules/@scope/util/package.json": "{\"name\":\"@scope/util\",\"version\":\"2.0.0\"}",
        ])
        try rustBinary(at: base + "/opt/rusty-base", root: "base-tool")
        try Run.slipway(["build", "--progress", "quiet", "--platform", "linux/amd64", "-o", "type=oci,dest=\(work)/base,tar=false", base])
        let (binary, goListing) = try goBinary()
        let app = try context("FROM base\nCOPY hello /usr/local/bin/hello\nCOPY rusty /usr/local/bin/rusty\nCOPY notes.txt /srv/notes.txt\n", files: ["notes.txt": "notes\n"])
        _ = try Run.mustShell("cp \(Run.quoted(binary)) \(Run.quoted(app + "/hello"))")
        try rustBinary(at: app + "/rusty", root: "rusty-app")
        let layout = work + "/sbom"
        try Run.slipway(["build", "--progress", "quiet", "--platform", "linux/amd64", "--sbom=true", "--provenance=false",
                         "--build-context", "base=oci-layout://\(work)/base", "-t", "example.com/app:1.0", "-o", "type=oci,dest=\(layout),tar=false", app])
        let entry = try XCTUnwrap(attestations(layout).entries.first)
        let (_, json) = try statement(layout, entry: entry, predicateType: "https://spdx.dev/Document")
        let document = try XCTUnwrap(json["predicate"] as? [String: Any])
        let file = work + "/sbom.spdx.json"
        try JSONSerialization.data(withJSONObject: document).write(to: URL(fileURLWithPath: file))
        let validation = try Run.command("pyspdxtools", ["-i", file])
        XCTAssertEqual(validation.status, 0, "pyspdxtools: " + validation.stdout + validation.stderr)
        XCTAssertEqual(document["spdxVersion"] as? String, "SPDX-2.3")

        let packages = document["packages"] as? [[String: Any]] ?? []
        func purls(_ prefix: String) -> Set<String> {
            Set(packages.flatMap { ($0["externalRefs"] as? [[String: Any]] ?? []).compactMap { $0["referenceLocator"] as? String } }.filter { $0.hasPrefix(prefix) })
        }
        XCTAssertEqual(purls("pkg:deb/"), ["pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12&upstream=glibc",
                                            "pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=amd64&distro=debian-12"], "installed packages only")
        XCTAssertEqual(purls("pkg:apk/"), ["pkg:apk/debian/musl@1.2.4-r2?arch=x86_64&distro=debian-12",
                                            "pkg:apk/debian/busybox@1.36.1-r5?arch=x86_64&distro=debian-12"])
        XCTAssertEqual(purls("pkg:pypi/"), ["pkg:pypi/requests@2.31.0"])
        XCTAssertEqual(purls("pkg:npm/"), ["pkg:npm/left-pad@1.3.0", "pkg:npm/%40scope/util@2.0.0"])
        XCTAssertEqual(purls("pkg:cargo/"), ["pkg:cargo/rusty-app@0.1.0", "pkg:cargo/base-tool@0.1.0", "pkg:cargo/serde@1.0.197"],
                       "cargo auditable's .dep-v0, in slipway's layer and in the base")

        // Go build info, compared with `go version -m` (an independent reader).
        let golang = packages.filter { ($0["sourceInfo"] as? String) == "found in /usr/local/bin/hello" }
        var expected: Set<String> = []
        for line in goListing.split(separator: "\n") {
            let fields = line.split(separator: "\t").map { $0.trimmingCharacters(in: .whitespaces) }
            if fields.first?.hasSuffix(": go1") == true || line.contains(": go1.") {
                expected.insert("stdlib " + (line.split(separator: " ").last.map { String($0.dropFirst(2)) } ?? ""))
            }
            if fields.count >= 3, fields[0] == "dep" { expected.insert("\(fields[1]) \(fields[2])") }
            if fields.count >= 2, fields[0] == "mod" { expected.insert("\(fields[1]) \(fields.count > 2 && fields[2] != "(devel)" ? fields[2] : "")") }
        }
        let found = Set(golang.map { "\($0["name"] as? String ?? "") \(($0["versionInfo"] as? String).map { $0.hasPrefix("go") ? String($0.dropFirst(2)) : $0 } ?? "")".replacingOccurrences(of: " (devel)", with: " ") })
        XCTAssertEqual(found, expected, "go version -m:\n\(goListing)")

        // Every file slipway's own layers add, with the SHA-256 sha256sum gives; no base files.
        let files = document["files"] as? [[String: Any]] ?? []
        XCTAssertEqual(Set(files.compactMap { $0["fileName"] as? String }), ["./usr/local/bin/hello", "./usr/local/bin/rusty", "./srv/notes.txt"])
        let hello = files.first { $0["fileName"] as? String == "./usr/local/bin/hello" }
        let sha = (hello?["checksums"] as? [[String: String]])?.first { $0["algorithm"] == "SHA256" }?["checksumValue"]
        XCTAssertEqual(sha, sha256(try Data(contentsOf: URL(fileURLWithPath: binary))))
    }

    /// An ELF binary with the `.dep-v0` section `cargo auditable` writes (zlib-compressed
    /// JSON), added by binutils' objcopy to a copy of /bin/true.
    private func rustBinary(at path: String, root: String) throws {
        let json = #"{"packages":[{"name":"\#(root)","version":"0.1.0","source":"local","root":true,"dependencies":[1]},{"name":"serde","version":"1.0.197","source":"crates.io"}]}"#
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let compress = "import sys, zlib; open(sys.argv[1], 'wb').write(zlib.compress(sys.argv[2].encode()))"
        _ = try Run.mustShell("python3 -c \(Run.quoted(compress)) \(Run.quoted(path + ".dep")) \(Run.quoted(json)) && "
            + "objcopy --add-section .dep-v0=\(Run.quoted(path + ".dep")) --set-section-flags .dep-v0=noload,readonly /bin/true \(Run.quoted(path)) && "
            + "rm \(Run.quoted(path + ".dep"))")
    }

    /// A Go binary with a dependency (built offline with a local replace when Go is here, else
    /// Debian's docker-registry) and what `go version -m` says about it.
    private func goBinary() throws -> (String, String) {
        if Run.isInstalled("go") {
            let src = work + "/gosrc"
            try Run.write([
                "hello/go.mod": "module example.com/hello\n\ngo 1.19\n\nrequire example.com/greet v1.4.2\n\nreplace example.com/greet => ../greet\n",
                "hello/main.go": "package main\n\nimport \"example.com/greet\"\n\nfunc main() { println(greet.Hello()) }\n",
                "greet/go.mod": "module example.com/greet\n\ngo 1.19\n",
                "greet/greet.go": "package greet\n\nfunc Hello() string { return \"hello\" }\n",
            ], under: src)
            _ = try Run.mustShell("cd \(Run.quoted(src + "/hello")) && GOFLAGS=-mod=mod GOPROXY=off GOCACHE=\(Run.quoted(work + "/gocache")) GOPATH=\(Run.quoted(work + "/gopath")) go build -o \(Run.quoted(work + "/hello-bin")) .")
            return (work + "/hello-bin", try Run.mustShell("go version -m \(Run.quoted(work + "/hello-bin"))"))
        }
        throw XCTSkip("needs Go (Debian golang-go, installed by scripts/setup) for go version -m")
    }

    static let slsaV02Check = #"""
    import json, sys, jsonschema
    # SLSA provenance v0.2 (https://slsa.dev/provenance/v0.2), field by field: no PyPI package
    # ships its schema, so this one is written from the spec's field list.
    digest = {"type": "object", "additionalProperties": {"type": "string"}}
    schema = {
      "type": "object", "required": ["_type", "subject", "predicateType", "predicate"],
      "properties": {
        "subject": {"type": "array", "minItems": 1, "items": {"type": "object", "required": ["name", "digest"], "properties": {"name": {"type": "string"}, "digest": digest}}},
        "predicateType": {"const": "https://slsa.dev/provenance/v0.2"},
        "predicate": {"type": "object", "required": ["builder", "buildType"], "properties": {
          "builder": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string", "format": "uri"}}},
          "buildType": {"type": "string", "format": "uri"},
          "invocation": {"type": "object", "properties": {
            "configSource": {"type": "object", "properties": {"uri": {"type": "string"}, "digest": digest, "entryPoint": {"type": "string"}}},
            "parameters": {"type": "object"}, "environment": {"type": "object"}}},
          "buildConfig": {"type": "object"},
          "metadata": {"type": "object", "properties": {
            "buildInvocationId": {"type": "string"}, "buildStartedOn": {"type": "string", "format": "date-time"},
            "buildFinishedOn": {"type": "string", "format": "date-time"},
            "completeness": {"type": "object", "properties": {"parameters": {"type": "boolean"}, "environment": {"type": "boolean"}, "materials": {"type": "boolean"}}},
            "reproducible": {"type": "boolean"}}},
          "materials": {"type": "array", "items": {"type": "object", "properties": {"uri": {"type": "string"}, "digest": digest}}}}}}}
    doc = json.load(open(sys.argv[1]))
    jsonschema.validate(doc, schema, format_checker=jsonschema.FormatChecker())
    """#

    static let inTotoV1Check = #"""
    import json, sys
    from google.protobuf import json_format
    from in_toto_attestation.v1.statement import Statement
    from in_toto_attestation.predicates.provenance.v1 import provenance_pb2
    from in_toto_attestation.v1 import statement_pb2
    doc = json.load(open(sys.argv[1]))
    pb = json_format.ParseDict(doc, statement_pb2.Statement())
    Statement.copy_from_pb(pb).validate()
    predicate = doc["predicate"]
    # BuildKit's extension fields (buildkit_*) are outside the v1 message; everything else is strict.
    meta = predicate.get("runDetails", {}).get("metadata", {})
    for key in [k for k in meta if k.startswith("buildkit_")]:
        del meta[key]
    json_format.ParseDict(predicate, provenance_pb2.Provenance())
    assert doc["predicateType"] == "https://slsa.dev/provenance/v1"
    """#
}
