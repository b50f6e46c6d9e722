import Foundation
import TestSupport
import XCTest

/// `RUN --mount` through the command line, on a busybox base made in the test: cache mounts
/// that outlive a build (and `cache du`/`prune` that see them), and secrets that reach the
/// command and nothing else: no blob of the output, no cache file, no line of output.
final class RunMountTests: XCTestCase {
    var work = ""
    var base = ""

    override func setUpWithError() throws {
        guard FileManager.default.isExecutableFile(atPath: "/bin/busybox") else {
            throw TestError("RUN tests need Debian's busybox-static (/bin/busybox); scripts/setup installs it")
        }
        work = try Run.temporaryDirectory()
        let root = work + "/base-root"
        for directory in ["bin", "tmp", "etc"] {
            try FileManager.default.createDirectory(atPath: root + "/" + directory, withIntermediateDirectories: true)
        }
        try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: root + "/bin/busybox")
        for applet in ["sh", "cat", "echo", "test", "[", "ls", "true"] {
            try FileManager.default.createSymbolicLink(atPath: root + "/bin/" + applet, withDestinationPath: "busybox")
        }
        try "root:x:0:0:root:/root:/bin/sh\n".write(toFile: root + "/etc/passwd", atomically: true, encoding: .utf8)
        try "FROM scratch\nCOPY . /\n".write(toFile: work + "/Dockerfile.base", atomically: true, encoding: .utf8)
        base = work + "/base-layout"
        try Run.slipway(["build", "--cache-dir", work + "/cache", "-f", work + "/Dockerfile.base", "-o", "type=oci,dest=\(base),tar=false", root])
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    private func context(_ dockerfile: String) throws -> String {
        let directory = work + "/ctx-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try dockerfile.write(toFile: directory + "/Dockerfile", atomically: true, encoding: .utf8)
        return directory
    }

    func testACacheMountOutlivesTheBuildStaysOutOfTheLayerAndCachePruneRemovesIt() throws {
        let ctx = try context("""
            FROM base
            ARG N
            RUN --mount=type=cache,target=/var/cache/thing (cat /var/cache/thing/log 2>/dev/null || true) > /seen && echo "build $N" >> /var/cache/thing/log
            """)
        let cache = work + "/cache"
        func build(_ n: Int) throws -> String {
            let out = work + "/out-\(n)"
            try Run.slipway(["build", "--cache-dir", cache, "--build-context", "base=oci-layout://\(base)", "--build-arg", "N=\(n)",
                             "-o", "type=local,dest=\(out)", ctx])
            XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/var"), "the cache mount's stubs are not in the image")
            return try String(contentsOfFile: out + "/seen", encoding: .utf8)
        }
        XCTAssertEqual(try build(1), "")
        XCTAssertEqual(try build(2), "build 1\n", "the second build sees the first one's file")
        let usage = try Run.slipway(["cache", "du", "--cache-dir", cache]).stdout
        XCTAssertTrue(usage.split(separator: "\n").contains { $0.contains("RUN cache mounts (run-cache)") && $0.contains(" 1 mount ") }, usage)
        let pruned = try Run.slipway(["cache", "prune", "--cache-dir", cache]).stdout
        XCTAssertTrue(pruned.contains("removed 0 RUN cache mounts"), "used just now: kept by the 30-day default: \(pruned)")
        let all = try Run.slipway(["cache", "prune", "--all", "--cache-dir", cache]).stdout
        XCTAssertTrue(all.contains("removed 1 RUN cache mount ("), all)
        XCTAssertEqual(try build(3), "", "pruned: the cache starts empty again")
    }

    /// As `nobody` (CI runs as root, so this is where the rootless path is exercised): the
    /// mounts are made inside the new user namespace.
    func testMountsWorkRootless() throws {
        guard geteuid() == 0 else { throw XCTSkip("switching to nobody needs the suite to run as root (as CI does)") }
        let ctx = try context("""
            FROM base
            RUN --mount=type=cache,target=/c --mount=type=secret,id=s,required --mount=target=/ctx --mount=type=tmpfs,target=/t \
                echo x >> /c/log && cat /c/log /ctx/f.txt /run/secrets/s > /seen && touch /t/x
            """)
        try "hello\n".write(toFile: ctx + "/f.txt", atomically: true, encoding: .utf8)
        try "the-secret\n".write(toFile: work + "/secret", atomically: true, encoding: .utf8)
        _ = try Run.command("chmod", ["-R", "a+rwX", work])
        let output = try Run.command("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "env", "HOME=\(work)", "TMPDIR=\(work)",
                                                 Run.slipway, "build", "--cache-dir", work + "/cache-nobody",
                                                 "--build-context", "base=oci-layout://\(base)", "--secret", "id=s,src=\(work)/secret",
                                                 "-o", "type=local,dest=\(work)/out", ctx])
        XCTAssertEqual(output.status, 0, output.stderr)
        XCTAssertEqual(try String(contentsOfFile: work + "/out/seen", encoding: .utf8), "x\nhello\nthe-secret\n")
        for stub in ["c", "ctx", "t", "run"] {
            XCTAssertFalse(FileManager.default.fileExists(atPath: work + "/out/" + stub), "\(stub) is a mount stub")
        }
    }

    func testSecretsReachTheCommandAndNoBlobCacheFileOrOutputLine() throws {
        let fileSecret = "slipway-file-secret-5c1e9a"
        let envSecret = "slipway-env-secret-0b7d42"
        try fileSecret.write(toFile: work + "/token.txt", atomically: true, encoding: .utf8)
        // The Dockerfile checks the values' lengths only: its text is in the provenance.
        let ctx = try context("""
            FROM base
            RUN --mount=type=secret,id=token T=$(cat /run/secrets/token) && [ ${#T} = \(fileSecret.count) ] && echo "file: $T" && echo ok > /ok
            RUN --mount=type=secret,id=apikey,env=API_KEY,required [ ${#API_KEY} = \(envSecret.count) ] && echo "env: $API_KEY" && echo ok > /ok2
            """)
        let out = work + "/out"
        let cache = work + "/cache"
        let output = try Run.slipway(["build", "--progress", "plain", "--debug", "--cache-dir", cache, "--compression", "uncompressed",
                                      "--provenance", "mode=max", "--build-context", "base=oci-layout://\(base)",
                                      "--secret", "id=token,src=\(work)/token.txt", "--secret", "id=apikey,env=SLIPWAY_TEST_API_KEY",
                                      "-o", "type=oci,dest=\(out),tar=false", ctx], environment: ["SLIPWAY_TEST_API_KEY": envSecret])
        XCTAssertTrue(output.stdout.contains("file: ****") || output.stderr.contains("file: ****"), "RUN output masked: \(output.stderr)")
        XCTAssertTrue(output.stdout.contains("env: ****") || output.stderr.contains("env: ****"), output.stderr)
        for secret in [fileSecret, envSecret] {
            XCTAssertFalse(output.stdout.contains(secret) || output.stderr.contains(secret), "a secret in the output")
            let hits = try Run.command("grep", ["-rl", "--", secret, out, cache])
            XCTAssertEqual(hits.status, 1, "a secret in a blob or cache file: \(hits.stdout)")
        }
        let listing = try Run.command("grep", ["-rl", "--", "ok2", out])
        XCTAssertEqual(listing.status, 0, "the RUNs ran and their layers are in the output")
        let missing = try Run.command(Run.slipway, ["build", "--cache-dir", cache, "--build-context", "base=oci-layout://\(base)",
                                                    "--secret", "id=token,src=\(work)/token.txt", ctx])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("Dockerfile:3: secret apikey: not found"), missing.stderr)
        let unreadable = try Run.command(Run.slipway, ["build", "--secret", "id=x,src=\(work)/no-such-file", ctx])
        XCTAssertTrue(unreadable.stderr.contains("--secret id=x: failed to stat \(work)/no-such-file"), unreadable.stderr)
    }
    /// A bake target's `secret` entries are `build --secret`'s: a file (relative to the
    /// working directory, as buildx reads it) and an environment variable reach RUN, and
    /// neither reaches the image.
    func testBakeTargetSecretsReachRunAsBuildSecretsDo() throws {
        let ctx = try context("""
            FROM base
            RUN --mount=type=secret,id=token,required --mount=type=secret,id=word,env=WORD,required \\
                cat /run/secrets/token > /seen && echo "$WORD" >> /seen
            """)
        try "file-secret-value\n".write(toFile: work + "/token.txt", atomically: true, encoding: .utf8)
        try """
            target "app" {
              context = "\(ctx)"
              contexts = { base = "oci-layout://\(base)" }
              secret = ["id=token,src=token.txt", "type=env,id=word,env=BAKE_WORD"]
              output = ["type=local,dest=\(work)/bake-out"]
            }
            """.write(toFile: work + "/docker-bake.hcl", atomically: true, encoding: .utf8)
        // From the bake file's directory, so `src=token.txt` is relative to the working directory.
        let result = try Run.command("/bin/sh", ["-c", "cd \"$0\" && exec \"$1\" bake --cache-dir cache app", work, Run.slipway],
                                     environment: ["BAKE_WORD": "env-secret-value"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try String(contentsOfFile: work + "/bake-out/seen", encoding: .utf8), "file-secret-value\nenv-secret-value\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: work + "/bake-out/run/secrets/token"), "the secret's file is not in the image")
        XCTAssertFalse((result.stdout + result.stderr).contains("secret-value"), result.stdout + result.stderr)
    }
}
