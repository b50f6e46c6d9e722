import Foundation
import TestSupport
import XCTest

/// Issue 15 §3: a build fanned out across runners. Each runner pushes its platform untagged
/// (`--push-by-digest`, or buildx's `--output type=image,push-by-digest=true,…`) and records
/// the digest in `--metadata-file`; a merge job joins the digests with `imagetools create`.
/// Against the real registries, checked with skopeo.
final class FanOutTests: XCTestCase {
    var work = ""
    var registry: TestRegistries!
    var env: [String: String] = [:]
    var context = ""

    override func setUpWithError() throws {
        (work, registry, env) = try TestRegistries.workspace()
        for host in [registry.basic, registry.token] {
            let login = try registry.login(host, environment: env)
            XCTAssertEqual(login.status, 0, login.stderr)
        }
        context = work + "/ctx"
        try Run.write(["Dockerfile": "FROM scratch\nARG TARGETARCH\nCOPY common /common\nCOPY $TARGETARCH /bin/app\n",
                       "common": "shared by every platform\n", "amd64": "amd64 binary\n", "arm64": "arm64 binary\n",
                       "s390x": "s390x binary\n"], under: context)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    private func slipway(_ arguments: [String]) throws -> Run.Output {
        try Run.command(Run.slipway, arguments, environment: env)
    }

    /// One runner's job: builds `platform` and pushes it by digest with `flags`; returns the
    /// digest from the metadata file.
    private func runner(_ platform: String, _ flags: [String]) throws -> String {
        let metadata = work + "/\(platform.replacingOccurrences(of: "/", with: "-")).json"
        let run = try slipway(["build", "--platform", platform, "--progress", "plain", "--metadata-file", metadata] + flags + [context])
        XCTAssertEqual(run.status, 0, run.stderr)
        let json = try Run.json(String(contentsOfFile: metadata, encoding: .utf8))
        let digest = try XCTUnwrap(json["containerimage.digest"] as? String)
        XCTAssertTrue(digest.hasPrefix("sha256:"))
        return digest
    }

    private func skopeoJSON(_ arguments: [String]) throws -> [String: Any] {
        try Run.json(String(decoding: try registry.skopeo(arguments), as: UTF8.self))
    }

    /// The repository's tags as skopeo lists them (distribution answers 404 for a repository
    /// that has manifests but no tag yet: none).
    private func tags(_ repository: String, host: String) throws -> [String] {
        let run = try Run.command("skopeo", ["list-tags"] + registry.skopeoAuth(host) + ["docker://\(host)/\(repository)"])
        if run.status != 0, run.stderr.contains("404") { return [] }
        XCTAssertEqual(run.status, 0, run.stderr)
        return (try Run.json(run.stdout)["Tags"] as? [String]) ?? []
    }

    /// The (digest, os/arch) entries of the index `reference` serves, read by skopeo.
    private func entries(_ reference: String, host: String) throws -> [(String, String)] {
        let index = try skopeoJSON(["inspect", "--raw"] + registry.skopeoAuth(host) + ["docker://\(reference)"])
        return ((index["manifests"] as? [[String: Any]]) ?? []).map { entry in
            let platform = entry["platform"] as? [String: Any] ?? [:]
            return (entry["digest"] as? String ?? "", "\(platform["os"] as? String ?? "")/\(platform["architecture"] as? String ?? "")")
        }
    }

    func testRunnersPushByDigestAndImagetoolsCreateMergesThemKeepingEveryDigest() throws {
        let repository = uniqueName("fanout/app")
        let name = "\(registry.basic)/\(repository)"
        // Runner 1: slipway's flag (the tag names only the repository: nothing is tagged).
        let amd = try runner("linux/amd64", ["--push-by-digest", "-t", "\(name):ignored"])
        // Runner 2: buildx's spelling, as in docker's "distribute build across multiple runners".
        let arm = try runner("linux/arm64", ["--output", "type=image,name=\(name),push-by-digest=true,name-canonical=true,push=true"])
        let metadata = try Run.json(String(contentsOfFile: work + "/linux-arm64.json", encoding: .utf8))
        XCTAssertEqual(metadata["image.name"] as? String, "\(name)@\(arm)", "the canonical name by digest")
        XCTAssertEqual(try tags(repository, host: registry.basic), [], "pushed by digest: no tag")
        XCTAssertEqual(try registry.servedDigest("\(name)@\(amd)", host: registry.basic), amd)

        // The merge job.
        let merge = try slipway(["imagetools", "create", "--progress", "plain", "-t", "\(name):1.0", "-t", "\(name):latest", "\(name)@\(amd)", "\(name)@\(arm)"])
        XCTAssertEqual(merge.status, 0, merge.stderr)
        XCTAssertTrue(merge.stderr.contains("0 blobs uploaded"), "only the index is new: \(merge.stderr)")
        let printed = merge.stdout.split(separator: "\n").map(String.init)
        let index = try XCTUnwrap(printed.first?.split(separator: "@").last.map(String.init))
        XCTAssertEqual(printed, ["\(name):1.0@\(index)", "\(name):latest@\(index)"])
        XCTAssertEqual(try registry.servedDigest("\(name):1.0", host: registry.basic), index)
        let listed = try entries("\(name):1.0", host: registry.basic)
        XCTAssertEqual(listed.map(\.0), [amd, arm], "every platform manifest digest preserved, in the order given")
        XCTAssertEqual(listed.map(\.1), ["linux/amd64", "linux/arm64"], "platforms read from each image's config")
        XCTAssertEqual(Set(try tags(repository, host: registry.basic)), ["1.0", "latest"])
        // The whole index is complete: skopeo copies every manifest and blob out of it.
        let copied = try Run.command("skopeo", ["copy", "--all", "-q"] + registry.skopeoAuth(registry.basic, prefix: "src-")
                                          + ["docker://\(name):1.0", "oci:\(work)/copied:1"])
        XCTAssertEqual(copied.status, 0, copied.stderr)

        // `imagetools inspect` is `inspect`.
        let raw = try slipway(["imagetools", "inspect", "--raw", "\(name):1.0"])
        XCTAssertEqual(raw.status, 0, raw.stderr)
        XCTAssertEqual("sha256:" + sha256(Data(raw.stdout.utf8)), index)
    }

    func testImagetoolsCreateMountsAcrossRepositoriesAndAppends() throws {
        // Token auth: a mount needs pull on the source repository and push on the target.
        let host = registry.token
        let (first, second, merged) = (uniqueName("fanout/amd"), uniqueName("fanout/arm"), uniqueName("fanout/all"))
        let amd = try runner("linux/amd64", ["--push-by-digest", "-t", "\(host)/\(first)"])
        let arm = try runner("linux/arm64", ["--push-by-digest", "-t", "\(host)/\(second)"])
        let create = try slipway(["imagetools", "create", "--progress", "plain", "-t", "\(host)/\(merged):1", "\(host)/\(first)@\(amd)", "\(host)/\(second)@\(arm)"])
        XCTAssertEqual(create.status, 0, create.stderr)
        XCTAssertTrue(create.stderr.contains("0 blobs uploaded"), create.stderr)
        XCTAssertTrue(create.stderr.contains("mounted from \(first)") && create.stderr.contains("mounted from \(second)"), create.stderr)
        XCTAssertEqual(try entries("\(host)/\(merged):1", host: host).map(\.0), [amd, arm])

        // A third platform later: --append keeps the two entries and adds it.
        let s390x = try runner("linux/s390x", ["--push-by-digest", "-t", "\(host)/\(first)"])
        let append = try slipway(["imagetools", "create", "--append", "-t", "\(host)/\(merged):1", "\(host)/\(first)@\(s390x)"])
        XCTAssertEqual(append.status, 0, append.stderr)
        let listed = try entries("\(host)/\(merged):1", host: host)
        XCTAssertEqual(listed.map(\.0), [amd, arm, s390x])
        XCTAssertEqual(listed.map(\.1), ["linux/amd64", "linux/arm64", "linux/s390x"])
        let copied = try Run.command("skopeo", ["copy", "--all", "-q"] + registry.skopeoAuth(host, prefix: "src-")
                                          + ["docker://\(host)/\(merged):1", "oci:\(work)/appended:1"])
        XCTAssertEqual(copied.status, 0, copied.stderr)

        let missing = try slipway(["imagetools", "create", "--append", "-t", "\(host)/\(uniqueName("fanout/none")):1", "\(host)/\(first)@\(amd)"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("does not exist yet"), missing.stderr)
    }

    func testImagetoolsCreateFromAnotherRegistryStreamsTheBlobsKeepingDigests() throws {
        let (source, target) = (uniqueName("fanout/src"), uniqueName("fanout/dst"))
        let amd = try runner("linux/amd64", ["--push-by-digest", "-t", "\(registry.basic)/\(source)"])
        let arm = try runner("linux/arm64", ["--push-by-digest", "-t", "\(registry.basic)/\(source)"])
        let create = try slipway(["imagetools", "create", "--progress", "plain", "-t", "\(registry.token)/\(target):1",
                                  "\(registry.basic)/\(source)@\(amd)", "\(registry.basic)/\(source)@\(arm)"])
        XCTAssertEqual(create.status, 0, create.stderr)
        // 2 configs + 3 distinct layers (the shared one once): nothing to mount across registries.
        XCTAssertTrue(create.stderr.contains("5 blobs uploaded"), create.stderr)
        XCTAssertEqual(try entries("\(registry.token)/\(target):1", host: registry.token).map(\.0), [amd, arm])
        let copied = try Run.command("skopeo", ["copy", "--all", "-q"] + registry.skopeoAuth(registry.token, prefix: "src-")
                                          + ["docker://\(registry.token)/\(target):1", "oci:\(work)/streamed:1"])
        XCTAssertEqual(copied.status, 0, copied.stderr)
    }

    func testDryRunWithAnnotationsAndDescriptorFilesPushesNothing() throws {
        let repository = uniqueName("fanout/dry")
        let name = "\(registry.basic)/\(repository)"
        let amd = try runner("linux/amd64", ["--push-by-digest", "-t", name])
        let arm = try runner("linux/arm64", ["--push-by-digest", "-t", name])
        // The amd64 image named by a descriptor file (what a runner can upload as an artifact),
        // the arm64 one by a bare digest in the target repository.
        let amdDescriptor = try Run.json(String(contentsOfFile: work + "/linux-amd64.json", encoding: .utf8))["containerimage.descriptor"]
        try JSONSerialization.data(withJSONObject: try XCTUnwrap(amdDescriptor)).write(to: URL(fileURLWithPath: work + "/amd64.json"))
        let dry = try slipway(["imagetools", "create", "--dry-run", "-t", "\(name):1", "-f", work + "/amd64.json", arm,
                               "--annotation", "index:org.opencontainers.image.source=https://example.com/app",
                               "--annotation", "org.opencontainers.image.version=1",
                               "--annotation", "manifest-descriptor[linux/arm64]:com.example.runner=arm"])
        XCTAssertEqual(dry.status, 0, dry.stderr)
        let index = try Run.json(dry.stdout)
        XCTAssertEqual(index["mediaType"] as? String, "application/vnd.oci.image.index.v1+json")
        XCTAssertEqual(index["annotations"] as? [String: String],
                       ["org.opencontainers.image.source": "https://example.com/app", "org.opencontainers.image.version": "1"])
        let manifests = try XCTUnwrap(index["manifests"] as? [[String: Any]])
        XCTAssertEqual(manifests.map { $0["digest"] as? String }, [amd, arm])
        XCTAssertNil(manifests[0]["annotations"])
        XCTAssertEqual(manifests[1]["annotations"] as? [String: String], ["com.example.runner": "arm"])
        XCTAssertEqual(try tags(repository, host: registry.basic), [], "a dry run pushes nothing")

        let refused = try slipway(["imagetools", "create", "-t", "\(name):1", arm, "--annotation", "manifest:k=v"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("cannot annotate manifests"), refused.stderr)
        let unknownPlatform = try slipway(["imagetools", "create", "--dry-run", "-t", "\(name):1", arm, "--annotation", "manifest-descriptor[linux/ppc64le]:k=v"])
        XCTAssertNotEqual(unknownPlatform.status, 0)
        XCTAssertTrue(unknownPlatform.stderr.contains("no source image has that platform"), unknownPlatform.stderr)
    }
}
