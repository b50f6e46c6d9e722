import Foundation
import TestSupport
import XCTest

/// `-o type=local` / `type=tar` with explicit `--provenance` / `--sbom`: the statements are
/// written as files beside the output's files, as BuildKit's local and tar exporters do
/// (exporter/local/fs.go; its tests `testProvenanceExportLocal*`): `provenance.json` and
/// `sbom.spdx.json`, mode 0600, per platform directory with several platforms, each an in-toto
/// Statement whose subjects are that output's regular files by SHA-256. Read back with
/// Python's hashlib/json, bsdtar, `jsonschema` (SLSA v0.2) and pyspdxtools.
final class LocalAttestationTests: XCTestCase {
    var work = ""
    let defaults = ["BUILDX_NO_DEFAULT_ATTESTATIONS": ""]

    override func setUpWithError() throws { work = try Run.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    private func context() throws -> String {
        let dir = work + "/ctx"
        try Run.write(["Dockerfile": "FROM scratch\nCOPY a.txt /srv/a.txt\nCOPY b.bin /b.bin\n", "a.txt": "A\n", "b.bin": String(repeating: "b", count: 100_000)], under: dir)
        return dir
    }

    @discardableResult
    private func build(_ arguments: [String]) throws -> Run.Output {
        let result = try Run.command(Run.slipway, ["build", "--progress", "quiet"] + arguments, environment: defaults)
        XCTAssertEqual(result.status, 0, result.stderr)
        return result
    }

    /// Every regular file under `root` but the attestation files, with its SHA-256 (hashlib),
    /// next to the subjects the statement `file` names.
    private func subjects(_ file: String, root: String) throws -> (expected: [String: String], named: [String: String], statement: [String: Any]) {
        let script = #"""
        import hashlib, json, os, sys
        path, root = sys.argv[1:3]
        expected = {}
        for folder, _, files in os.walk(root):
            for name in files:
                full = os.path.join(folder, name)
                relative = os.path.relpath(full, root)
                if name in ("provenance.json", "sbom.spdx.json"): continue
                expected[relative] = hashlib.sha256(open(full, "rb").read()).hexdigest()
        statement = json.load(open(path))
        named = {s["name"]: s["digest"]["sha256"] for s in statement["subject"]}
        print(json.dumps({"expected": expected, "named": named, "statement": statement}))
        """#
        let out = try Run.json(try Run.tool("python3", ["-c", script, file, root]))
        return (out["expected"] as? [String: String] ?? [:], out["named"] as? [String: String] ?? [:], out["statement"] as? [String: Any] ?? [:])
    }

    func testLocalOutputGetsProvenanceAndSBOMFilesAboutItsFiles() throws {
        let dest = work + "/out"
        try build(["--provenance=mode=max", "--sbom=true", "-o", "type=local,dest=\(dest)", try context()])
        for name in ["provenance.json", "sbom.spdx.json"] {
            let mode = (try FileManager.default.attributesOfItem(atPath: dest + "/" + name)[.posixPermissions] as? Int) ?? 0
            XCTAssertEqual(mode & 0o777, 0o600, "\(name) is written 0600, as BuildKit does")
            let (expected, named, statement) = try subjects(dest + "/" + name, root: dest)
            XCTAssertEqual(named, expected, "\(name): its subjects are the output's files")
            XCTAssertEqual(Set(named.keys), ["srv/a.txt", "b.bin"])
            XCTAssertEqual(statement["_type"] as? String, "https://in-toto.io/Statement/v1")
        }
        let schema = try Run.command("python3", ["-c", AttestationTests.slsaV02Check, dest + "/provenance.json"])
        XCTAssertEqual(schema.status, 0, "SLSA v0.2 schema: " + schema.stderr)
        let sbom = try Run.json(String(contentsOfFile: dest + "/sbom.spdx.json", encoding: .utf8))
        XCTAssertEqual(sbom["predicateType"] as? String, "https://spdx.dev/Document")
        let document = work + "/sbom.json"
        try JSONSerialization.data(withJSONObject: sbom["predicate"] ?? [:]).write(to: URL(fileURLWithPath: document))
        let validation = try Run.command("pyspdxtools", ["-i", document])
        XCTAssertEqual(validation.status, 0, "pyspdxtools: " + validation.stdout + validation.stderr)

        let plain = work + "/plain"
        try build(["-o", "type=local,dest=\(plain)", try context()])
        XCTAssertFalse(FileManager.default.fileExists(atPath: plain + "/provenance.json"), "no default provenance for type=local, as buildx")
    }

    func testSeveralPlatformsGetOneStatementPerPlatformDirectory() throws {
        let dest = work + "/out", dir = work + "/arch"
        try Run.write(["Dockerfile": "FROM scratch\nARG TARGETARCH\nCOPY ${TARGETARCH}.txt /arch.txt\n", "amd64.txt": "x86-64\n", "arm64.txt": "aarch64\n"], under: dir)
        try build(["--platform", "linux/amd64,linux/arm64", "--provenance=true", "-o", "type=local,dest=\(dest)", dir])
        var digests: [String] = []
        for platform in ["linux_amd64", "linux_arm64"] {
            let (expected, named, _) = try subjects(dest + "/\(platform)/provenance.json", root: dest + "/" + platform)
            XCTAssertEqual(named, expected, "\(platform): subjects relative to the platform's directory")
            XCTAssertEqual(Array(named.keys), ["arch.txt"])
            digests += named.values
        }
        XCTAssertEqual(Set(digests).count, 2, "each platform's statement names its own file")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dest + "/provenance.json"))
    }

    func testTarOutputCarriesTheSameFilesAndIsReproducible() throws {
        let dir = try context()
        let first = work + "/one.tar", second = work + "/two.tar"
        try build(["--platform", "linux/amd64,linux/arm64", "--sbom=true", "--provenance=true", "-o", "type=tar,dest=\(first)", dir])
        try build(["--platform", "linux/amd64,linux/arm64", "--sbom=true", "--provenance=true", "-o", "type=tar,dest=\(second)", dir])
        XCTAssertEqual(sha256(try Data(contentsOf: URL(fileURLWithPath: first))), sha256(try Data(contentsOf: URL(fileURLWithPath: second))),
                       "the same build gives the same tar")
        let listing = try Run.tool("bsdtar", ["-tf", first]).split(separator: "\n").map(String.init)
        XCTAssertEqual(Set(listing), ["linux_amd64/", "linux_amd64/b.bin", "linux_amd64/provenance.json", "linux_amd64/sbom.spdx.json",
                                      "linux_amd64/srv/", "linux_amd64/srv/a.txt", "linux_arm64/", "linux_arm64/b.bin", "linux_arm64/provenance.json",
                                      "linux_arm64/sbom.spdx.json", "linux_arm64/srv/", "linux_arm64/srv/a.txt"])
        let extracted = work + "/x"
        try FileManager.default.createDirectory(atPath: extracted, withIntermediateDirectories: true)
        _ = try Run.tool("bsdtar", ["-xf", first, "-C", extracted])
        let (expected, named, _) = try subjects(extracted + "/linux_arm64/sbom.spdx.json", root: extracted + "/linux_arm64")
        XCTAssertEqual(named, expected)

        let toStdout = try Run.shell("\(Run.quoted(Run.slipway)) build --progress quiet -o type=tar,dest=- \(Run.quoted(dir)) > \(Run.quoted(work + "/std.tar"))")
        XCTAssertEqual(toStdout.status, 0, toStdout.stderr)
        XCTAssertEqual(Set(try Run.tool("bsdtar", ["-tf", work + "/std.tar"]).split(separator: "\n").map(String.init)), ["b.bin", "srv/", "srv/a.txt"])
        let missing = try Run.command(Run.slipway, ["build", "-o", "type=tar", dir])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("type=tar needs dest=FILE.tar"), missing.stderr)
    }
}
