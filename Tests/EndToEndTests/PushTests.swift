import Foundation
import TestSupport
import XCTest

/// `build --push`, `push`, `login`, `logout` against real registries, checked with skopeo.
final class PushTests: XCTestCase {
    var work = ""
    var registry: TestRegistries!
    var env: [String: String] = [:]

    override func setUpWithError() throws {
        (work, registry, env) = try TestRegistries.workspace()
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    private func slipway(_ arguments: [String], stdin: Data? = nil) throws -> Run.Output {
        try Run.command(Run.slipway, arguments, environment: env, stdin: stdin)
    }

    private func login(_ host: String) throws {
        let output = try registry.login(host, environment: env)
        XCTAssertEqual(output.status, 0, output.stderr)
        XCTAssertEqual(output.stdout, "Login Succeeded\n")
    }

    func testBuildPushTwoPlatformsThenRePushUploadsNothing() throws {
        try login(registry.basic)
        let mode = (try FileManager.default.attributesOfItem(atPath: work + "/docker/config.json")[.posixPermissions] as? Int) ?? 0
        XCTAssertEqual(mode & 0o777, 0o600, "credentials file is private")
        let tag = "\(registry.basic)/e2e/hello:1.0"
        let build = ["build", "--platform", "linux/amd64,linux/arm64", "-t", tag, "--push", "--progress", "plain",
                     "--metadata-file", work + "/meta.json", Run.repositoryRoot.path + "/testdata/example"]
        let first = try slipway(build)
        XCTAssertEqual(first.status, 0, first.stderr)
        let index = try XCTUnwrap(first.stdout.split(separator: "\n").first { $0.hasPrefix("index ") }).dropFirst(6)
        XCTAssertTrue(first.stdout.contains("\(tag)@\(index)\n"), first.stdout)

        XCTAssertEqual(try registry.servedDigest(tag, host: registry.basic), String(index), "the registry serves exactly the index slipway built")
        let config = try Run.json(Run.tool("skopeo", ["inspect", "--config"] + registry.skopeoAuth(registry.basic) + ["--override-arch", "arm64", "docker://\(tag)"]))
        XCTAssertEqual(config["architecture"] as? String, "arm64")
        let metadata = try Run.json(String(contentsOfFile: work + "/meta.json", encoding: .utf8))
        XCTAssertEqual(metadata["containerimage.digest"] as? String, String(index))
        XCTAssertEqual(metadata["image.name"] as? String, tag)

        let second = try slipway(build)
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertTrue(second.stderr.contains("0 blobs uploaded"), second.stderr)
        XCTAssertFalse(second.stderr.contains("uploading"), "a re-push uploads no blob: \(second.stderr)")
    }

    func testPushLayoutTarToTokenRegistryUnderTwoTags() throws {
        try login(registry.token)
        let context = work + "/ctx"
        try Run.write(["Dockerfile": "FROM scratch\nCOPY big /big\n"], under: context)
        // 12 MiB of incompressible data: a chunked upload with the default 5 MiB chunks.
        _ = try Run.tool("bash", ["-c", "head -c 12582912 /dev/urandom > '\(context)/big'"])
        let tar = work + "/image.tar"
        XCTAssertEqual(try slipway(["build", "--progress", "quiet", "--output", "type=oci,dest=\(tar)", context]).status, 0)
        let refs = ["\(registry.token)/e2e/app:v1", "\(registry.token)/e2e/app:latest"]
        let pushed = try slipway(["push", tar] + refs + ["--progress", "plain"])
        XCTAssertEqual(pushed.status, 0, pushed.stderr)
        let lines = pushed.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 2, pushed.stdout)
        let digests = Set(lines.compactMap { $0.split(separator: "@").last.map(String.init) })
        XCTAssertEqual(digests.count, 1)
        for ref in refs {
            XCTAssertEqual(try registry.servedDigest(ref, host: registry.token), digests.first)
        }
        _ = try Run.tool("skopeo", ["copy"] + registry.skopeoAuth(registry.token, prefix: "src-") + ["docker://\(refs[0])", "oci:\(work)/pulled:x"])
    }

    func testWrongPasswordIsAClearErrorAndNeverPrinted() throws {
        let secret = "definitely-wrong-password-1234"
        let output = try slipway(["login", registry.basic, "-u", registry.user, "--password-stdin"], stdin: Data(secret.utf8))
        XCTAssertNotEqual(output.status, 0)
        XCTAssertTrue(output.stderr.lowercased().contains("unauthorized") || output.stderr.lowercased().contains("credentials"), output.stderr)
        XCTAssertFalse((output.stdout + output.stderr).contains(secret))
        XCTAssertFalse(FileManager.default.fileExists(atPath: work + "/docker/config.json"), "nothing stored after a failed login")
    }

    func testPushWithoutCredentialsSaysHowToLogIn() throws {
        let context = work + "/ctx"
        try Run.write(["Dockerfile": "FROM scratch\nCOPY a /a\n", "a": "a"], under: context)
        let output = try slipway(["build", "-t", "\(registry.basic)/e2e/denied:1", "--push", "--progress", "quiet", context])
        XCTAssertNotEqual(output.status, 0)
        XCTAssertTrue(output.stderr.contains("login"), output.stderr)
    }

    func testLogoutRemovesOnlyThatRegistry() throws {
        try login(registry.basic)
        try login(registry.token)
        let output = try slipway(["logout", registry.basic])
        XCTAssertEqual(output.status, 0, output.stderr)
        let config = try String(contentsOfFile: work + "/docker/config.json", encoding: .utf8)
        XCTAssertFalse(config.contains(registry.basic))
        XCTAssertTrue(config.contains(registry.token))
    }

    func testDebugOutputNeverShowsPasswordsOrTokens() throws {
        try login(registry.basic)
        try login(registry.token)
        let context = work + "/ctx"
        try Run.write(["Dockerfile": "FROM scratch\nCOPY a /a\n", "a": "a"], under: context)
        var everything = ""
        for host in [registry.basic, registry.token] {
            let output = try slipway(["build", "-t", "\(host)/e2e/secret:1", "--push", "--debug", "--progress", "plain", context])
            XCTAssertEqual(output.status, 0, output.stderr)
            XCTAssertTrue(output.stderr.contains("debug:"), "the debug log is on")
            everything += output.stdout + output.stderr
        }
        let basic = Data("\(registry.user):\(registry.password)".utf8).base64EncodedString()
        XCTAssertFalse(everything.contains(registry.password), "password leaked")
        XCTAssertFalse(everything.contains(basic), "Basic credentials leaked")
        for line in everything.split(separator: "\n") where line.lowercased().contains("authorization:") {
            XCTAssertTrue(line.contains("REDACTED") || line.contains("***") || line.contains("<redacted>"), "unredacted: \(line)")
        }
        // Bearer tokens are JWTs (three base64url parts); none may appear.
        let jwt = try NSRegularExpression(pattern: "eyJ[A-Za-z0-9_-]{10,}\\.[A-Za-z0-9_-]{10,}\\.")
        XCTAssertEqual(jwt.numberOfMatches(in: everything, range: NSRange(everything.startIndex..., in: everything)), 0, "a token leaked")
    }

    func testPushNeedsATag() throws {
        let context = work + "/ctx"
        try Run.write(["Dockerfile": "FROM scratch\nCOPY a /a\n", "a": "a"], under: context)
        let output = try slipway(["build", "--push", context])
        XCTAssertNotEqual(output.status, 0)
        XCTAssertTrue(output.stderr.contains("-t"), output.stderr)
    }
}
