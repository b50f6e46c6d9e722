import Foundation
import TestSupport
import XCTest

/// `--registry-mirror` and the config file's `registryMirrors`: `FROM NAME` (a docker.io name)
/// pulls through a pull-through `docker-registry` (`proxy.remoteurl` = the token test registry,
/// scripts/test-registry) while Docker Hub itself is unreachable; the base annotations keep the
/// canonical name; a broken mirror fails the build unless `--mirror-fallback`.
final class RegistryMirrorTests: XCTestCase {
    var work = ""
    var registry: TestRegistries!
    var env: [String: String] = [:]
    var mirror = ""
    /// The basic registry under a real-looking name (its certificate covers it), as an origin.
    var origin: String { "registry.slipway.test:\(registry.basic.split(separator: ":").last ?? "")" }

    override func setUpWithError() throws {
        (work, registry, env) = try TestRegistries.workspace()
        let settings = try String(contentsOfFile: registry.stateDirectory + "/env", encoding: .utf8)
        mirror = try XCTUnwrap(settings.split(separator: "\n").first { $0.hasPrefix("SLIPWAY_TEST_MIRROR_REGISTRY=") }
            .map { String($0.dropFirst("SLIPWAY_TEST_MIRROR_REGISTRY=".count)) }, "scripts/test-registry/start started no mirror")
        let auth = Data("\(registry.user):\(registry.password)".utf8).base64EncodedString()
        let hosts = [registry.basic, registry.token, mirror, origin].map { #""\#($0)":{"auth":"\#(auth)"}"# }.joined(separator: ",")
        try Run.write(["docker/config.json": #"{"auths":{\#(hosts)}}"#], under: work)
        // Docker Hub and the origin's name lead nowhere unless a test routes the origin.
        env["SLIPWAY_CONNECT_TO"] = "registry-1.docker.io:443:127.0.0.1:1"
        env["XDG_CONFIG_HOME"] = work + "/config"
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    private func slipway(_ arguments: [String], extra: [String: String] = [:]) throws -> Run.Output {
        try Run.command(Run.slipway, arguments, environment: env.merging(extra) { _, n in n })
    }

    /// A two-platform image pushed to `host` as `repository:tag`; returns its digest.
    private func publish(_ repository: String, tag: String, to host: String) throws -> String {
        let ctx = work + "/base-\(UUID().uuidString.prefix(6))"
        try Run.write(["Dockerfile": "FROM scratch\nCOPY base.txt /base.txt\nENV FROM_BASE=yes\n", "base.txt": "base \(UUID())\n"], under: ctx)
        let out = try slipway(["build", "--platform", "linux/amd64,linux/arm64", "-t", "\(host)/\(repository):\(tag)", "--push", "--progress", "quiet", ctx],
                              extra: ["XDG_CACHE_HOME": work + "/cache-base"])
        XCTAssertEqual(out.status, 0, out.stderr)
        return String(out.stdout.split(separator: "\n").last?.split(separator: "@").last ?? "")
    }

    private func mirrorLog() -> String { (try? String(contentsOfFile: registry.stateDirectory + "/registry-mirror.log", encoding: .utf8)) ?? "" }

    func testFromADockerHubNamePullsThroughTheMirrorAndKeepsTheCanonicalName() throws {
        let name = uniqueName("mirrored")
        let index = try publish("library/\(name)", tag: "3.20", to: registry.token)
        let ctx = work + "/ctx"
        try Run.write(["Dockerfile": "FROM \(name):3.20\nCOPY app.txt /app.txt\n", "app.txt": "app\n"], under: ctx)

        // Without a mirror: Docker Hub, which is unreachable here.
        var out = try slipway(["build", "--output", "type=oci,dest=\(work)/none", "--progress", "plain", ctx])
        XCTAssertNotEqual(out.status, 0, "the build reached Docker Hub?")
        XCTAssertTrue(out.stderr.contains("registry-1.docker.io"), out.stderr)

        // Through the mirror: a file output (the layers pulled) and a push (streamed) elsewhere.
        let target = "\(registry.basic)/mirror-e2e/app:\(name)"
        out = try slipway(["build", "--platform", "linux/amd64,linux/arm64", "--registry-mirror", "docker.io=\(mirror)", "--output", "type=oci,dest=\(work)/out,tar=false",
                           "-t", target, "--push", "--progress", "plain", ctx])
        XCTAssertEqual(out.status, 0, out.stderr)
        XCTAssertTrue(mirrorLog().contains("GET /v2/library/\(name)/manifests/3.20") || mirrorLog().contains("HEAD /v2/library/\(name)/manifests/3.20"),
                      "the mirror never served the base")
        XCTAssertTrue(mirrorLog().contains("/v2/library/\(name)/blobs/sha256:"), "the base layers did not come from the mirror")
        let creds = registry.skopeoAuth(registry.basic)
        let amd64 = try Run.json(Run.tool("skopeo", ["inspect", "--raw", "--override-arch", "amd64"] + creds + ["docker://\(target)"]))
        let manifests = try XCTUnwrap(amd64["manifests"] as? [[String: Any]])
        XCTAssertEqual(manifests.count, 2)
        let upstream = registry.skopeoAuth(registry.token)
        let baseIndex = try Run.json(Run.tool("skopeo", ["inspect", "--raw"] + upstream + ["docker://\(registry.token)/library/\(name):3.20"]))
        XCTAssertEqual("sha256:" + sha256(try registry.skopeo(["inspect", "--raw"] + upstream + ["docker://\(registry.token)/library/\(name):3.20"])), index)
        for entry in manifests {
            let digest = try XCTUnwrap(entry["digest"] as? String)
            let manifest = try Run.json(Run.tool("skopeo", ["inspect", "--raw"] + creds + ["docker://\(registry.basic)/mirror-e2e/app@\(digest)"]))
            let annotations = try XCTUnwrap(manifest["annotations"] as? [String: String])
            // The canonical name, never the mirror's.
            XCTAssertEqual(annotations["org.opencontainers.image.base.name"], "docker.io/library/\(name):3.20")
            let platform = try XCTUnwrap(entry["platform"] as? [String: Any])
            let baseEntry = (baseIndex["manifests"] as? [[String: Any]])?.first { ($0["platform"] as? [String: Any])?["architecture"] as? String == platform["architecture"] as? String }
            XCTAssertEqual(annotations["org.opencontainers.image.base.digest"], baseEntry?["digest"] as? String)
        }
        let layout = try Run.tool("skopeo", ["inspect", "--raw", "oci:\(work)/out"])
        XCTAssertEqual(try Run.json(layout)["mediaType"] as? String, "application/vnd.oci.image.index.v1+json")

        // A push alone streams the base layers from the mirror (nothing is exported here).
        out = try slipway(["build", "--registry-mirror", "docker.io=\(mirror)", "-t", target + "-push-only", "--push", "--progress", "plain", ctx],
                          extra: ["XDG_CACHE_HOME": work + "/cache-push-only"])
        XCTAssertEqual(out.status, 0, out.stderr)

        // The same from the config file, no flag.
        try Run.write(["config/slipway/config.json": #"{"registryMirrors": {"docker.io": ["\#(mirror)"]}}"#], under: work)
        out = try slipway(["build", "--output", "type=oci,dest=\(work)/out2.tar", "--progress", "plain", ctx], extra: ["XDG_CACHE_HOME": work + "/cache-2"])
        XCTAssertEqual(out.status, 0, out.stderr)
    }

    func testABrokenMirrorFailsTheBuildUnlessMirrorFallbackIsGiven() throws {
        let repository = uniqueName("origin/base")
        _ = try publish(repository, tag: "1", to: registry.basic)
        let base = "\(origin)/\(repository):1"
        let ctx = work + "/ctx"
        try Run.write(["Dockerfile": "FROM \(base)\nCOPY app.txt /app.txt\n", "app.txt": "app\n"], under: ctx)
        env["SLIPWAY_CONNECT_TO"] = "\(origin):\(registry.basic)"
        let broken = ["--registry-mirror", "\(origin)=127.0.0.1:1/cache"]

        var out = try slipway(["build", "--output", "type=oci,dest=\(work)/a.tar", "--progress", "plain"] + broken + [ctx])
        XCTAssertEqual(out.status, 1, out.stderr)
        XCTAssertTrue(out.stderr.contains("cannot pull \(base) through its mirror (cannot reach 127.0.0.1:1 for 127.0.0.1:1/cache/\(repository):1"), out.stderr)
        XCTAssertTrue(out.stderr.contains("unless --mirror-fallback is given"), out.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: work + "/a.tar"))

        out = try slipway(["build", "--output", "type=oci,dest=\(work)/b,tar=false", "--progress", "plain", "--mirror-fallback"] + broken + [ctx])
        XCTAssertEqual(out.status, 0, out.stderr)
        XCTAssertTrue(out.stderr.contains("warning: mirror failed for \(base)") && out.stderr.contains("pulling from \(origin) (--mirror-fallback)"), out.stderr)
        let manifest = try Run.json(Run.tool("skopeo", ["inspect", "--raw", "oci:\(work)/b"]))
        XCTAssertEqual((manifest["annotations"] as? [String: String])?["org.opencontainers.image.base.name"], base)

        // The config file's fallback and mirrors; a mistyped mirror is refused with the rule named.
        try Run.write(["config/slipway/config.json": #"{"registryMirrors": {"\#(origin)": "127.0.0.1:1"}, "mirrorFallback": true}"#], under: work)
        out = try slipway(["build", "--output", "type=oci,dest=\(work)/c,tar=false", "--progress", "plain", ctx])
        XCTAssertEqual(out.status, 0, out.stderr)
        XCTAssertTrue(out.stderr.contains("warning: mirror failed for \(base)"), out.stderr)
        out = try slipway(["build", "--output", "type=oci,dest=\(work)/d", "--registry-mirror", "docker.io=mirror", ctx])
        XCTAssertEqual(out.status, 64, out.stderr)
        XCTAssertTrue(out.stderr.contains("mirror 'mirror' for docker.io is not HOST[:PORT][/PREFIX]"), out.stderr)
    }
}
