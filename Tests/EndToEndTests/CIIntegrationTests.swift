import Foundation
import TestSupport
import XCTest

/// CI integration (issue 12, section 2): the GitHub Action's install and build steps, run as
/// the scripts they are against a `file://` release (a minimal tarball of the built binary,
/// not `scripts/release`'s: that takes minutes) and the TLS test registry; the GitLab
/// template's YAML and its `script:` lines, run against moto's ECR; and the CI environment
/// variables buildx reads (or deliberately does not).
final class CIIntegrationTests: XCTestCase {
    var work = ""

    override func setUpWithError() throws { work = try Run.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    private var version: String {
        get throws {
            let line = try Run.slipway(["--version"]).stdout
            return try XCTUnwrap(line.split(separator: " ").dropFirst().first.map(String.init), line)
        }
    }

    private var arch: String {
        get throws { try Run.mustShell("uname -m").contains("aarch64") ? "arm64" : "amd64" }
    }

    /// dist/ with slipway-VERSION-linux-ARCH.tar.gz (the built binary in the release's
    /// layout) and SHA256SUMS, as `scripts/release` names them.
    private func release() throws -> String {
        let name = "slipway-\(try version)-linux-\(try arch)"
        let dist = work + "/dist"
        try FileManager.default.createDirectory(atPath: "\(work)/stage/\(name)", withIntermediateDirectories: true)
        try Run.mustShell("cp \(Run.quoted(Run.slipway)) \(Run.quoted("\(work)/stage/\(name)/slipway")) && mkdir -p \(Run.quoted(dist)) && "
                          + "tar -C \(Run.quoted(work + "/stage")) -czf \(Run.quoted("\(dist)/\(name).tar.gz")) \(name) && "
                          + "cd \(Run.quoted(dist)) && sha256sum \(name).tar.gz > SHA256SUMS")
        return dist
    }

    private var install: String { Run.repositoryRoot.path + "/ci/install.sh" }

    func testInstallVerifiesTheChecksumAndKeepsACachedInstall() throws {
        let dist = try release()
        let first = try Run.command("bash", [install, try version, "file://" + dist, work + "/tool"])
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertEqual(first.stdout, work + "/tool/bin\n")
        XCTAssertTrue(try Run.command(work + "/tool/bin/slipway", ["--version"]).stdout.contains(try version))

        try FileManager.default.removeItem(atPath: dist)   // a restored cache needs no download
        let cached = try Run.command("bash", [install, "v" + (try version), "file://" + dist, work + "/tool"])
        XCTAssertEqual(cached.status, 0, cached.stderr)
        XCTAssertTrue(cached.stderr.contains("(cached)"), cached.stderr)

        let tampered = try release()
        try Run.mustShell("printf x >> \(Run.quoted("\(tampered)/slipway-\(try version)-linux-\(try arch).tar.gz"))")
        let refused = try Run.command("bash", [install, try version, "file://" + tampered, work + "/tool2"])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("does not match its SHA256SUMS line; nothing installed"), refused.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: work + "/tool2/bin/slipway"))

        try Run.mustShell("cd \(Run.quoted(tampered)) && : > SHA256SUMS")
        let unlisted = try Run.command("bash", [install, try version, "file://" + tampered, work + "/tool3"])
        XCTAssertEqual(unlisted.status, 1)
        XCTAssertTrue(unlisted.stderr.contains("SHA256SUMS has no line for"), unlisted.stderr)
    }

    /// Runs the `run:` scripts of action.yml's steps as the runner would: `${{ … }}` replaced
    /// by the inputs (their defaults too) and the runner's values, each step's `env:` set.
    private func runAction(inputs: [String: String], environment: [String: String]) throws -> (status: Int32, stderr: String, outputs: String) {
        let driver = #"""
            import json, os, re, subprocess, sys, yaml
            action = yaml.safe_load(open(sys.argv[1]))
            inputs = {k: str(v.get("default", "")) for k, v in action["inputs"].items()}
            inputs.update(json.loads(sys.argv[2]))
            for name, spec in action["inputs"].items():
                if spec.get("required") and not inputs.get(name):
                    sys.exit(f"input {name} is required")
            tool_cache = os.environ["RUNNER_TOOL_CACHE"]
            values = {"github.action_repository": "example/slipway", "runner.tool_cache": tool_cache}
            def expand(text):
                def one(m):
                    key = m.group(1).strip()
                    return inputs[key[len("inputs."):]] if key.startswith("inputs.") else values[key]
                return re.sub(r"\$\{\{(.*?)\}\}", one, str(text))
            for step in action["runs"]["steps"]:
                if "uses" in step:
                    assert step["uses"].startswith("actions/cache@"), step["uses"]
                    continue
                env = dict(os.environ)
                env.update({k: expand(v) for k, v in step.get("env", {}).items()})
                with open(env["GITHUB_PATH"]) as f:
                    env["PATH"] = ":".join([l.strip() for l in f if l.strip()] + [env["PATH"]])
                result = subprocess.run(["bash", "-e", "-c", expand(step["run"])], env=env)
                if result.returncode != 0:
                    sys.exit(f"step '{step.get('name')}' failed")
            """#
        let runner = ["GITHUB_ACTION_PATH": Run.repositoryRoot.path, "RUNNER_TOOL_CACHE": work + "/toolcache", "RUNNER_TEMP": work + "/tmp",
                      "GITHUB_PATH": work + "/github-path", "GITHUB_OUTPUT": work + "/github-output", "PATH": "/usr/local/bin:/usr/bin:/bin"]
        try FileManager.default.createDirectory(atPath: work + "/tmp", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: work + "/github-path", contents: Data())
        _ = FileManager.default.createFile(atPath: work + "/github-output", contents: Data())
        let inputsJSON = String(decoding: try JSONSerialization.data(withJSONObject: inputs), as: UTF8.self)
        let python = try XCTUnwrap(Run.isInstalled("python3") ? "python3" : nil)
        let output = try Run.command(python, ["-c", driver, Run.repositoryRoot.path + "/action.yml", inputsJSON],
                                     environment: environment.merging(runner) { _, new in new })
        return (output.status, output.stderr, (try? String(contentsOfFile: work + "/github-output", encoding: .utf8)) ?? "")
    }

    func testActionInstallsAndBuildsAndReportsDigestAndMetadataLikeBuildPushAction() throws {
        let registry = try TestRegistries.get()
        try registry.writeDockerConfig(work + "/docker", host: registry.basic)
        let dist = try release()
        let tag = "\(registry.basic)/action/hello:1.0"
        let context = Run.repositoryRoot.path + "/testdata/example"
        let result = try runAction(
            inputs: ["version": try version, "release-url": "file://" + dist, "context": context, "platforms": "linux/amd64,linux/arm64",
                     "tags": "\(tag)\n\(registry.basic)/action/hello:latest", "push": "true",
                     "build-args": "VERSION=2.0.0", "labels": "org.example.team=core\norg.example.tier=web"],
            environment: ["DOCKER_CONFIG": work + "/docker", "SSL_CERT_FILE": registry.ca, "XDG_CACHE_HOME": work + "/cache", "HOME": work])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("slipway build --progress plain --platform linux/amd64 --platform linux/arm64"), result.stderr)
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: "\(work)/toolcache/slipway/\(try version)/bin/slipway"), "installed in the tool cache the cache step saves")

        let digest = try XCTUnwrap(result.outputs.split(separator: "\n").first { $0.hasPrefix("digest=") }?.dropFirst("digest=".count))
        XCTAssertEqual(try registry.servedDigest(tag, host: registry.basic), String(digest), "the digest output is what the registry serves")
        XCTAssertEqual(try registry.servedDigest("\(registry.basic)/action/hello:latest", host: registry.basic), String(digest))
        let metadataText = try XCTUnwrap(result.outputs.components(separatedBy: "metadata<<").dropFirst().first)
        let delimiter = String(metadataText.prefix { $0 != "\n" })
        let json = metadataText.dropFirst(delimiter.count + 1).components(separatedBy: "\n" + delimiter)[0]
        let metadata = try Run.json(json)
        XCTAssertEqual(metadata["containerimage.digest"] as? String, String(digest))
        let config = try Run.json(Run.tool("skopeo", ["inspect", "--config", "--override-arch", "arm64"] + registry.skopeoAuth(registry.basic) + ["docker://\(tag)"]))
        let labels = (config["config"] as? [String: Any])?["Labels"] as? [String: String] ?? [:]
        XCTAssertEqual(labels["org.example.team"], "core")
        XCTAssertEqual(labels["org.example.tier"], "web")
        XCTAssertEqual(labels["org.opencontainers.image.version"], "2.0.0", "build-args reach the build")
    }

    func testActionRefusesABadPushInputBeforeBuilding() throws {
        let dist = try release()
        let result = try runAction(inputs: ["version": try version, "release-url": "file://" + dist, "context": Run.repositoryRoot.path + "/testdata/example", "push": "yes"],
                                   environment: ["XDG_CACHE_HOME": work + "/cache", "HOME": work])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("error: push must be true or false, not 'yes'"), result.stderr)
    }

    func testGitLabTemplateIsValidAndItsScriptRunsAgainstECR() throws {
        let moto = try TestMoto.require()
        let parse = try Run.command("python3", ["-c", """
            import json, sys, yaml
            job = yaml.safe_load(open(sys.argv[1]))[".slipway-ecr"]
            assert job["id_tokens"]["AWS_ID_TOKEN"]["aud"] == "sts.amazonaws.com", job["id_tokens"]
            assert "AWS_WEB_IDENTITY_TOKEN_FILE" in "".join(job["before_script"])
            print(json.dumps({"script": job["script"], "variables": job["variables"]}))
            """, Run.repositoryRoot.path + "/ci/gitlab/slipway.yml"])
        XCTAssertEqual(parse.status, 0, "ci/gitlab/slipway.yml: \(parse.stderr)")
        let job = try Run.json(parse.stdout)
        let script = try XCTUnwrap(job["script"] as? [String])
        XCTAssertTrue(script.contains { $0.contains("slipway build") && $0.contains("--push") }, "\(script)")
        // The job's own script lines, run as GitLab runs them (one shell, in order), with
        // moto's ECR standing in for AWS and the repository's example as the project.
        var env = moto.slipwayEnvironment(home: work)
        env["BUILDX_NO_DEFAULT_ATTESTATIONS"] = ""  // the job gets buildx's defaults, as on a runner
        env["BUILDX_GIT_INFO"] = "0"  // the example lies in this repository's work tree: its commit is not the golden's
        env["AWS_ACCESS_KEY_ID"] = "testing"
        env["AWS_SECRET_ACCESS_KEY"] = "testing"
        for (key, value) in job["variables"] as? [String: String] ?? [:] where !value.contains("$") { env[key] = value }
        env["ECR_REPOSITORY"] = "team/gitlab-app"
        env["IMAGE_TAG"] = "3f2a1bc"
        env["SLIPWAY_CONTEXT"] = Run.repositoryRoot.path + "/testdata/example"
        env["PATH"] = (Run.slipway as NSString).deletingLastPathComponent + ":/usr/bin:/bin"
        let run = try Run.command("bash", ["-e", "-c", "cd \(Run.quoted(work))\n" + script.joined(separator: "\n")], environment: env)
        XCTAssertEqual(run.status, 0, run.stderr)
        // The same build to a local layout, named as the job names it (the provenance's subject
        // carries the image name, as BuildKit's does), is what the job must have pushed.
        let local = try Run.slipway(["build", "-q", "--platform", "linux/amd64,linux/arm64", "-t", "\(moto.host)/team/gitlab-app:3f2a1bc",
                                     "--output", "type=oci,dest=\(work)/gitlab-local.tar", Run.repositoryRoot.path + "/testdata/example"],
                                    environment: ["BUILDX_NO_DEFAULT_ATTESTATIONS": "", "BUILDX_GIT_INFO": "0", "XDG_CACHE_HOME": work + "/cache-local"])
        XCTAssertEqual(local.status, 0, local.stderr)
        let golden = local.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertTrue(golden.hasPrefix("sha256:"), local.stdout)
        XCTAssertTrue(run.stdout.contains("\(moto.host)/team/gitlab-app:3f2a1bc@\(golden)"), run.stdout)
        XCTAssertTrue(run.stdout.hasSuffix(golden + "\n"), "describe-images prints the pushed digest: \(run.stdout)")
        let repository = try XCTUnwrap(try moto.describeRepository("team/gitlab-app"))
        XCTAssertEqual(repository["imageTagMutability"] as? String, "IMMUTABLE")
        XCTAssertTrue(FileManager.default.fileExists(atPath: work + "/slipway-metadata.json"), "the artifact the job keeps")
    }

    /// buildx reads SOURCE_DATE_EPOCH (and BUILDX_NO_DEFAULT_ATTESTATIONS, which only turns
    /// attestations off); it reads no GITHUB_SHA or CI_COMMIT_SHA (git information comes from
    /// the context's repository, and only into attestations). So with slipway, CI variables
    /// never change an image, except SOURCE_DATE_EPOCH, which sets its times.
    func testCIEnvironmentVariablesChangeNoImageExceptSourceDateEpoch() throws {
        let context = Run.repositoryRoot.path + "/testdata/example"
        func build(_ environment: [String: String]) throws -> Run.Output {
            try Run.slipway(["build", "-q", "--platform", "linux/amd64,linux/arm64", "--output", "type=oci,dest=\(work)/o-\(UUID().uuidString).tar", context],
                            environment: environment.merging(["XDG_CACHE_HOME": work + "/cache"]) { a, _ in a })
        }
        let golden = try String(contentsOfFile: Run.repositoryRoot.path + "/testdata/example.index-digest", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let withoutAttestations = try String(contentsOfFile: Run.repositoryRoot.path + "/testdata/example.index-digest.no-attestations", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let variables = ["CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567", "GITHUB_REF": "refs/heads/main",
                         "GITLAB_CI": "true", "CI_COMMIT_SHA": "89abcdef0123456789abcdef0123456789abcdef",
                         "BUILDKIT_PROGRESS": "plain", "BUILDX_GIT_LABELS": "full"]
        // With buildx's defaults (min provenance on), CI variables leave the image as the golden.
        // The example lies in this repository's git work tree; the golden has no commit in it.
        let ci = try build(variables.merging(["BUILDX_NO_DEFAULT_ATTESTATIONS": "", "BUILDX_GIT_INFO": "0"]) { _, new in new })
        XCTAssertEqual(ci.stdout.trimmingCharacters(in: .whitespacesAndNewlines), golden, "no CI variable changes the image: \(ci.stderr)")
        XCTAssertFalse(ci.stderr.contains("error"), ci.stderr)
        // BUILDX_NO_DEFAULT_ATTESTATIONS=1 only drops the default provenance.
        let noDefaults = try build(variables.merging(["BUILDX_NO_DEFAULT_ATTESTATIONS": "1"]) { _, new in new })
        XCTAssertEqual(noDefaults.stdout.trimmingCharacters(in: .whitespacesAndNewlines), withoutAttestations, noDefaults.stderr)
        let epoch = try build(["SOURCE_DATE_EPOCH": "1700000000"])
        XCTAssertNotEqual(epoch.stdout.trimmingCharacters(in: .whitespacesAndNewlines), golden, "SOURCE_DATE_EPOCH is honoured")
    }
}
