import Foundation
import TestSupport
import XCTest

/// Issue 15 §3: `slipway bake`, the built binary against the real TLS registry, results read
/// back with skopeo: HCL, JSON and compose files with inherits, groups, variables from the
/// environment, `--set`, `target:` contexts, two platforms, two targets pushed at once, one
/// base resolution shared by the targets, `--print` as buildx prints it, `--metadata-file`.
final class BakeTests: XCTestCase {
    var work = ""
    var registry: TestRegistries!
    var env: [String: String] = [:]

    override func setUpWithError() throws {
        (work, registry, env) = try TestRegistries.workspace()
        let login = try registry.login(registry.basic, environment: env)
        XCTAssertEqual(login.status, 0, login.stderr)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    /// `slipway ARGS` run in `directory` (bake reads its default files and contexts from there).
    private func slipway(in directory: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Run.Output {
        let line = "cd \(Run.quoted(directory)) && exec \(Run.quoted(Run.slipway)) " + arguments.map(Run.quoted).joined(separator: " ")
        return try Run.command("/bin/sh", ["-c", line], environment: env.merging(environment) { $1 })
    }

    private func skopeoJSON(_ arguments: [String]) throws -> [String: Any] {
        try Run.json(String(decoding: try registry.skopeo(arguments), as: UTF8.self))
    }

    /// The platforms of the index `reference` serves.
    private func platforms(_ reference: String) throws -> [String] {
        let index = try skopeoJSON(["inspect", "--raw"] + registry.skopeoAuth(registry.basic) + ["docker://\(reference)"])
        return ((index["manifests"] as? [[String: Any]]) ?? []).compactMap { entry in
            guard let platform = entry["platform"] as? [String: Any] else { return nil }
            return "\(platform["os"] as? String ?? "")/\(platform["architecture"] as? String ?? "")"
        }.sorted()
    }

    private func config(_ reference: String, arch: String) throws -> [String: Any] {
        let config = try skopeoJSON(["inspect", "--config", "--override-arch", arch] + registry.skopeoAuth(registry.basic) + ["docker://\(reference)"])
        return config["config"] as? [String: Any] ?? [:]
    }

    /// The file paths of the image's layers, read by skopeo copy into a layout and bsdtar.
    private func files(_ reference: String, arch: String) throws -> [String] {
        let layout = work + "/copy-\(UUID().uuidString)"
        _ = try registry.skopeo(["copy", "--override-arch", arch] + registry.skopeoAuth(registry.basic, prefix: "src-") + ["docker://\(reference)", "oci:\(layout):x"])
        let index = try Run.json(String(contentsOfFile: layout + "/index.json", encoding: .utf8))
        let manifestDigest = try XCTUnwrap(((index["manifests"] as? [[String: Any]])?.first?["digest"] as? String)?.dropFirst(7))
        let manifest = try Run.json(String(contentsOfFile: layout + "/blobs/sha256/\(manifestDigest)", encoding: .utf8))
        var paths: [String] = []
        for layer in (manifest["layers"] as? [[String: Any]]) ?? [] {
            let digest = String((layer["digest"] as? String ?? "").dropFirst(7))
            paths += try Run.tool("bsdtar", ["-tf", layout + "/blobs/sha256/\(digest)"]).split(separator: "\n").map(String.init)
        }
        return paths.filter { !$0.hasSuffix("/") }.sorted()
    }

    func testHCLWithInheritsGroupsVariablesAndSetPushesTwoTargetsAtOnce() throws {
        let repository = uniqueName("bake/hcl")
        let project = work + "/hcl"
        try Run.write([
            "docker-bake.hcl": """
            // The release file: a common parent, two images, a group.
            variable "REGISTRY" { default = "registry.invalid" }
            variable "TAG" { default = "dev" }
            group "release" {
              targets = ["api", "worker"]
            }
            target "_common" {
              platforms = ["linux/amd64", "linux/arm64"]
              labels = { "org.opencontainers.image.version" = TAG }
              args = { VERSION = TAG }
            }
            target "api" {
              inherits = ["_common"]
              context = "api"
              tags = ["${REGISTRY}/\(repository)-api:${TAG}", notequal(TAG, "dev") ? "${REGISTRY}/\(repository)-api:latest" : ""]
            }
            target "worker" {
              inherits = ["_common"]
              context = "worker"
              tags = ["${REGISTRY}/\(repository)-worker:${upper(TAG)}"]
            }
            """,
            "api/Dockerfile": "FROM scratch\nARG VERSION\nLABEL built.version=$VERSION\nCOPY api.txt /api.txt\n",
            "api/api.txt": "api\n",
            "worker/Dockerfile": "FROM scratch\nCOPY worker.txt /worker.txt\n",
            "worker/worker.txt": "worker\n",
        ], under: project)
        let environment = ["REGISTRY": registry.basic, "TAG": "v1.2"]
        let run = try slipway(in: project, ["bake", "--progress", "plain", "--push", "--jobs", "2", "--set", "worker.labels.team=core",
                                            "--metadata-file", "meta.json", "release"], environment: environment)
        XCTAssertEqual(run.status, 0, run.stderr)
        let api = "\(registry.basic)/\(repository)-api", worker = "\(registry.basic)/\(repository)-worker"
        for reference in ["\(api):v1.2", "\(api):latest", "\(worker):V1.2"] {
            XCTAssertEqual(try platforms(reference), ["linux/amd64", "linux/arm64"], reference)
        }
        XCTAssertEqual(try registry.servedDigest("\(api):v1.2", host: registry.basic), try registry.servedDigest("\(api):latest", host: registry.basic))
        let apiLabels = try config("\(api):v1.2", arch: "arm64")["Labels"] as? [String: String]
        XCTAssertEqual(apiLabels, ["org.opencontainers.image.version": "v1.2", "built.version": "v1.2"], "labels inherited, args from the variable")
        let workerLabels = try config("\(worker):V1.2", arch: "amd64")["Labels"] as? [String: String]
        XCTAssertEqual(workerLabels, ["org.opencontainers.image.version": "v1.2", "team": "core"], "--set added a label to one target")
        XCTAssertEqual(try files("\(worker):V1.2", arch: "arm64"), ["worker.txt"])
        // stdout: each result line names its target; the pushed references carry the digests skopeo sees.
        let served = try registry.servedDigest("\(worker):V1.2", host: registry.basic)
        XCTAssertTrue(run.stdout.split(separator: "\n").contains { $0 == "worker \(worker):V1.2@\(served)" }, run.stdout)
        // Both targets were under way before either was pushed (--jobs 2: built at once).
        let lines = run.stderr.split(separator: "\n").map(String.init)
        let started = lines.indices.filter { lines[$0].contains("] building linux/amd64, linux/arm64") }
        let firstPush = try XCTUnwrap(lines.firstIndex { $0.contains("pushed in") })
        XCTAssertEqual(started.count, 2, run.stderr)
        XCTAssertTrue(started.allSatisfy { $0 < firstPush }, "both builds start before the first push:\n\(run.stderr)")
        // buildx's metadata file: one entry per target, with its digest.
        let metadata = try Run.json(String(contentsOfFile: project + "/meta.json", encoding: .utf8))
        XCTAssertEqual(metadata.keys.sorted(), ["api", "worker"])
        XCTAssertEqual((metadata["worker"] as? [String: Any])?["containerimage.digest"] as? String, served)

        // --jobs 1: one target after the other (the second starts after the first is pushed).
        let serial = try slipway(in: project, ["bake", "--progress", "plain", "--push", "--jobs", "1", "release"], environment: environment)
        XCTAssertEqual(serial.status, 0, serial.stderr)
        let serialLines = serial.stderr.split(separator: "\n").map(String.init)
        let secondStart = try XCTUnwrap(serialLines.lastIndex { $0.contains("] building linux/amd64") })
        let firstDone = try XCTUnwrap(serialLines.firstIndex { $0.contains("pushed in") || $0.contains("already") })
        XCTAssertLessThan(firstDone, secondStart, serial.stderr)
    }

    func testJSONFileWithATargetContextBuildsTheOtherTargetFirst() throws {
        let repository = uniqueName("bake/json")
        let project = work + "/json"
        try Run.write([
            "docker-bake.json": """
            {
              "variable": {"REPO": {"default": "\(registry.basic)/\(repository)"}},
              "group": {"default": {"targets": ["app"]}},
              "target": {
                "base": {"context": "base", "platforms": ["linux/amd64", "linux/arm64"]},
                "app": {
                  "context": "app",
                  "contexts": {"toolchain": "target:base"},
                  "platforms": ["linux/amd64", "linux/arm64"],
                  "tags": ["${REPO}:1"],
                  "output": ["type=registry"]
                }
              }
            }
            """,
            "base/Dockerfile": "FROM scratch\nARG TARGETARCH\nCOPY tool-$TARGETARCH /usr/bin/tool\n",
            "base/tool-amd64": "amd64 tool\n", "base/tool-arm64": "arm64 tool\n",
            "app/Dockerfile": "FROM toolchain\nCOPY app.txt /app.txt\n",
            "app/app.txt": "app\n",
        ], under: project)
        let run = try slipway(in: project, ["bake", "--progress", "plain"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stderr.contains("(and base as contexts)"), run.stderr)
        XCTAssertEqual(try platforms("\(registry.basic)/\(repository):1"), ["linux/amd64", "linux/arm64"])
        for arch in ["amd64", "arm64"] {
            XCTAssertEqual(try files("\(registry.basic)/\(repository):1", arch: arch), ["app.txt", "usr/bin/tool"], arch)
        }
        XCTAssertFalse(run.stdout.contains("base "), "a target used only as a context is not reported as a result: \(run.stdout)")
    }

    func testComposeBuildSectionsAndOneSharedBaseResolution() throws {
        let repository = uniqueName("bake/compose")
        let base = "\(registry.basic)/\(repository)-base:1"
        let baseDir = work + "/base"
        try Run.write(["Dockerfile": "FROM scratch\nCOPY base.txt /base.txt\n", "base.txt": "base\n"], under: baseDir)
        XCTAssertEqual(try Run.command(Run.slipway, ["build", "-t", base, "--push", baseDir], environment: env).status, 0)
        let project = work + "/compose"
        try Run.write([
            "compose.yaml": """
            services:
              web:
                image: \(registry.basic)/\(repository)-web:${WEB_TAG:-dev}
                build:
                  context: ./web
                  args:
                    - BASE=\(base)
                  labels:
                    org.example.team: web
              jobs:
                image: \(registry.basic)/\(repository)-jobs:1
                build:
                  context: jobs
                  dockerfile: Jobs.Dockerfile
                  args:
                    BASE: \(base)
              db:
                image: postgres:16
            """,
            "web/Dockerfile": "ARG BASE\nFROM $BASE\nCOPY web.txt /web.txt\n", "web/web.txt": "web\n",
            "jobs/Jobs.Dockerfile": "ARG BASE\nFROM $BASE\nCOPY jobs.txt /jobs.txt\n", "jobs/jobs.txt": "jobs\n",
        ], under: project)
        let run = try slipway(in: project, ["bake", "--progress", "plain", "--push", "--debug"], environment: ["WEB_TAG": "2.0"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(try files("\(registry.basic)/\(repository)-web:2.0", arch: "amd64"), ["base.txt", "web.txt"])
        XCTAssertEqual(try files("\(registry.basic)/\(repository)-jobs:1", arch: "amd64"), ["base.txt", "jobs.txt"])
        XCTAssertEqual(try config("\(registry.basic)/\(repository)-web:2.0", arch: "amd64")["Labels"] as? [String: String], ["org.example.team": "web"])
        // Both targets are FROM the same tag: it was resolved once between them.
        let tagRequests = run.stderr.split(separator: "\n").filter { $0.contains("→") && $0.contains("/\(repository)-base/manifests/1 ") }
        XCTAssertEqual(tagRequests.count, 1, run.stderr)
    }

    /// buildx's integration tests `testBakePrint`, `testBakePrintSensitive`,
    /// `testBakePrintOverrideEmpty` and `testBakePrintKeepEscaped` (docker/buildx tests/bake.go):
    /// the same files, and the JSON those tests expect buildx to print.
    func testPrintIsWhatBuildxPrints() throws {
        let cases: [(String, String, [String], String)] = [
            ("docker-bake.hcl", "target \"build\" {\n  args = {\n    HELLO = \"foo\"\n  }\n}\n", ["build"],
             "{\n  \"group\": {\n    \"default\": {\n      \"targets\": [\n        \"build\"\n      ]\n    }\n  },\n  \"target\": {\n    \"build\": {\n      \"context\": \".\",\n      \"dockerfile\": \"Dockerfile\",\n      \"args\": {\n        \"HELLO\": \"foo\"\n      }\n    }\n  }\n}\n"),
            ("compose.yml", "services:\n  build:\n    build:\n      context: .\n      args:\n        HELLO: foo\n", ["build"],
             "{\n  \"group\": {\n    \"default\": {\n      \"targets\": [\n        \"build\"\n      ]\n    }\n  },\n  \"target\": {\n    \"build\": {\n      \"context\": \".\",\n      \"dockerfile\": \"Dockerfile\",\n      \"args\": {\n        \"HELLO\": \"foo\"\n      }\n    }\n  }\n}\n"),
            ("docker-bake.hcl", "target \"build\" {\n  args = {\n    HELLO = \"foo\"\n  }\n  cache-from = [\n    \"type=gha,token=abc\",\n    \"type=s3,region=us-west-2,bucket=my_bucket,name=my_image\",\n  ]\n}\n", ["build"],
             #"{"group": {"default": {"targets": ["build"]}}, "target": {"build": {"context": ".", "dockerfile": "Dockerfile", "args": {"HELLO": "foo"}, "cache-from": [{"type": "gha", "token": "abc"}, {"type": "s3", "region": "us-west-2", "bucket": "my_bucket", "name": "my_image"}]}}}"#),
            ("compose.yml", "services:\n  build:\n    build:\n      context: .\n      args:\n        HELLO: foo\n      cache_from:\n        - type=gha,token=abc\n        - type=s3,region=us-west-2,bucket=my_bucket,name=my_image\n", ["build"],
             #"{"group": {"default": {"targets": ["build"]}}, "target": {"build": {"context": ".", "dockerfile": "Dockerfile", "args": {"HELLO": "foo"}, "cache-from": [{"type": "gha", "token": "abc"}, {"type": "s3", "region": "us-west-2", "bucket": "my_bucket", "name": "my_image"}]}}}"#),
            ("docker-bake.hcl", "target \"default\" {\n  dockerfile-inline = <<EOT\nARG VERSION=latest\nFROM alpine:$${VERSION}\nEOT\n  args = {\n    VERSION = \"3.21\"\n  }\n  annotations = [\n    \"org.opencontainers.image.authors=$${user}\"\n  ]\n  labels = {\n    foo = \"hello %%{bar}\"\n  }\n}\n", [],
             #"{"group": {"default": {"targets": ["default"]}}, "target": {"default": {"annotations": ["org.opencontainers.image.authors=$${user}"], "context": ".", "dockerfile": "Dockerfile", "dockerfile-inline": "ARG VERSION=latest\nFROM alpine:$${VERSION}\n", "args": {"VERSION": "3.21"}, "labels": {"foo": "hello %%{bar}"}}}}"#),
        ]
        for (index, (name, text, targets, expected)) in cases.enumerated() {
            let project = work + "/print\(index)"
            try Run.write([name: text], under: project)
            let run = try slipway(in: project, ["bake", "--print"] + targets)
            XCTAssertEqual(run.status, 0, run.stderr)
            if expected.hasPrefix("{\n") {
                XCTAssertEqual(run.stdout, expected, "byte for byte as Go's MarshalIndent writes it (\(name))")
            } else {
                XCTAssertEqual(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? NSDictionary,
                               try JSONSerialization.jsonObject(with: Data(expected.utf8)) as? NSDictionary, "\(name): \(run.stdout)")
            }
        }
        // testBakePrintOverrideEmpty: --set *.cache-to= removes the cache export.
        let project = work + "/print-override"
        try Run.write(["docker-bake.hcl": "target \"default\" {\n\tcache-to = [\"type=gha,mode=min,scope=integration-tests\"]\n}\n"], under: project)
        let run = try slipway(in: project, ["bake", "--print", "--set", "*.cache-to="])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stdout, "{\n  \"group\": {\n    \"default\": {\n      \"targets\": [\n        \"default\"\n      ]\n    }\n  },\n  \"target\": {\n    \"default\": {\n      \"context\": \".\",\n      \"dockerfile\": \"Dockerfile\"\n    }\n  }\n}\n")
        // testBakePrintKeepEscaped, second half: the printed definition reads back as the same one.
        let printed = try slipway(in: work + "/print4", ["bake", "--print"]).stdout
        try Run.write(["docker-bake.json": printed], under: work + "/reprint")
        let reprinted = try slipway(in: work + "/reprint", ["bake", "--print"])
        XCTAssertEqual(reprinted.status, 0, reprinted.stderr)
        XCTAssertEqual(reprinted.stdout, printed, "the printed definition reads back as itself")
    }

    func testMistakesNameFileLineAndColumnAndDefaultFilesAreFound() throws {
        let project = work + "/errors"
        try Run.write(["docker-bake.hcl": "target \"app\" {\n  contxt = \".\"\n}\n"], under: project)
        let unknown = try slipway(in: project, ["bake", "--print"])
        XCTAssertEqual(unknown.status, 64, unknown.stderr)
        XCTAssertTrue(unknown.stderr.hasPrefix("error: docker-bake.hcl:2:3: unknown key 'contxt' in target 'app'"), unknown.stderr)
        try Run.write(["docker-bake.hcl": "target \"a\" {\n  inherits = [\"b\"]\n}\ntarget \"b\" {\n  inherits = [\"a\"]\n}\n"], under: project)
        let cycle = try slipway(in: project, ["bake", "--print", "a"])
        XCTAssertTrue(cycle.stderr.contains("docker-bake.hcl:1:1: target 'a' inherits from itself (a → b → a)"), cycle.stderr)
        let empty = work + "/empty"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let none = try slipway(in: empty, ["bake"])
        XCTAssertNotEqual(none.status, 0)
        XCTAssertTrue(none.stderr.contains("no bake file found: looked for compose.yaml, compose.yml, docker-compose.yml, docker-compose.yaml, docker-bake.json, docker-bake.hcl, docker-bake.override.json, docker-bake.override.hcl"), none.stderr)
        // Default files merge in buildx's order: the override file wins.
        let merged = work + "/merged"
        try Run.write(["docker-bake.hcl": "target \"default\" {\n  tags = [\"a:1\"]\n  target = \"prod\"\n}\n",
                       "docker-bake.override.hcl": "target \"default\" {\n  tags = [\"a:override\"]\n}\n"], under: merged)
        let print = try slipway(in: merged, ["bake", "--print"])
        XCTAssertEqual(print.status, 0, print.stderr)
        let target = try XCTUnwrap((try Run.json(print.stdout)["target"] as? [String: Any])?["default"] as? [String: Any])
        XCTAssertEqual(target["tags"] as? [String], ["a:override"])
        XCTAssertEqual(target["target"] as? String, "prod")
    }

    /// A Dockerfile mistake in a `dockerfile-inline` target names the target and the line, not
    /// the scratch file the inline text is kept in.
    func testInlineDockerfileMistakeNamesTheTarget() throws {
        let project = work + "/inline"
        try Run.write(["docker-bake.hcl": "target \"app\" {\n  dockerfile-inline = \"FROM scratch\\nCOPPY a /a\\n\"\n}\n"], under: project)
        let result = try slipway(in: project, ["bake", "app"])
        XCTAssertNotEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("target 'app' (dockerfile-inline):2: "), result.stderr)
        XCTAssertFalse(result.stderr.contains("slipway-bake-"), "no scratch path: \(result.stderr)")
        // Its provenance names the Dockerfile `Dockerfile`, as buildx's does for inline text.
        try Run.write(["docker-bake.hcl": "target \"app\" {\n  dockerfile-inline = \"FROM scratch\\nCOPY a.txt /a.txt\\n\"\n  output = [\"type=oci,dest=out,tar=false\"]\n}\n",
                       "a.txt": "a\n"], under: project)
        let built = try slipway(in: project, ["bake", "--provenance", "mode=min", "app"])
        XCTAssertEqual(built.status, 0, built.stderr)
        let blobs = project + "/out/blobs/sha256"
        var entryPoints: [String] = []
        for blob in try FileManager.default.contentsOfDirectory(atPath: blobs) {
            guard let data = FileManager.default.contents(atPath: blobs + "/" + blob), data.count < 1 << 20,
                  let statement = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let predicate = statement["predicate"] as? [String: Any] else { continue }
            let v02 = (predicate["invocation"] as? [String: Any])?["configSource"] as? [String: Any]
            let v1 = ((predicate["buildDefinition"] as? [String: Any])?["externalParameters"] as? [String: Any])?["configSource"] as? [String: Any]
            if let name = v02?["entryPoint"] as? String ?? v1?["path"] as? String { entryPoints.append(name) }
        }
        XCTAssertEqual(entryPoints, ["Dockerfile"])
    }
}
