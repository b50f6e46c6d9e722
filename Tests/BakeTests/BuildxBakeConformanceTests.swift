import Bake
import XCTest

/// docker/buildx `bake/bake_test.go`, ported: one test per upstream test function that
/// applies (Tests/BuildxBakeConformance.md lists every one and why the others do not).
final class BuildxBakeConformanceTests: XCTestCase {
    func testPushOverride() throws {
        func outputs(_ hcl: String, _ targets: [String], _ overrides: [String]) throws -> [String: [String]] {
            try Bakefile.plan(hcl, targets, overrides).targets.mapValues { Bakefile.strings($0.output) }
        }
        XCTAssertEqual(try outputs(#"target "app" {}"#, ["app"], ["*.push=true"])["app"], ["type=image,push=true"])
        XCTAssertEqual(try outputs(#"target "app" { output = ["type=image,compression=zstd"] }"#, ["app"], ["*.push=true"])["app"], ["type=image,compression=zstd,push=true"])
        XCTAssertEqual(try outputs(#"target "app" { output = ["type=image,compression=zstd"] }"#, ["app"], ["*.push=false"])["app"], ["type=image,compression=zstd,push=false"])
        XCTAssertEqual(try outputs(#"target "app" { output = ["type=registry"] }"#, ["app"], ["*.push=true"])["app"], ["type=registry"])
        XCTAssertEqual(try outputs(#"target "app" { output = ["type=registry"] }"#, ["app"], ["*.push=false"])["app"], [])
        let both = try outputs("target \"foo\" {\n output = [ \"type=local,dest=out\" ]\n}\ntarget \"bar\" {\n}", ["foo", "bar"], ["*.push=true"])
        XCTAssertEqual(both["foo"], ["type=local,dest=out"])
        XCTAssertEqual(both["bar"], ["type=image,push=true"])
    }

    func testLoadOverride() throws {
        func outputs(_ output: String?, _ overrides: [String] = ["*.load=true"]) throws -> [String] {
            let hcl = output.map { "target \"app\" {\n output = [\"\($0)\"]\n}" } ?? "target \"app\" {\n}"
            return Bakefile.strings(try Bakefile.plan(hcl, ["app"], overrides).targets["app"]?.output)
        }
        XCTAssertEqual(try outputs(nil), ["type=docker"])
        XCTAssertEqual(try outputs("type=docker"), ["type=docker"])
        XCTAssertEqual(try outputs("type=image"), ["type=docker", "type=image"])
        XCTAssertEqual(try outputs("type=image", ["*.load=false"]), ["type=image"])
        XCTAssertEqual(try outputs("type=registry"), ["type=docker", "type=registry"])
        XCTAssertEqual(try outputs("type=oci,dest=out"), ["type=docker", "type=oci,dest=out"])
        XCTAssertEqual(try outputs("type=docker,dest=out"), ["type=docker", "type=docker,dest=out"])
        XCTAssertEqual(try outputs("type=local,dest=out"), ["type=local,dest=out"])
    }

    func testLoadAndPushOverride() throws {
        let plan = try Bakefile.plan("target \"foo\" {\n output = [ \"type=local,dest=out\" ]\n}\ntarget \"bar\" {\n}", ["foo", "bar"], ["*.load=true", "*.push=true"])
        XCTAssertEqual(Bakefile.strings(plan.targets["foo"]?.output), ["type=local,dest=out"])
        XCTAssertEqual(Bakefile.strings(plan.targets["bar"]?.output), ["type=docker", "type=image,push=true"])
        let registry = try Bakefile.plan("target \"foo\" {\n output = [ \"type=registry\" ]\n}", ["foo"], ["*.load=true", "*.push=true"])
        XCTAssertEqual(Bakefile.strings(registry.targets["foo"]?.output), ["type=docker", "type=registry"])
    }

    func testReadTargetsCompose() throws {
        let hcl = "target \"webapp\" {\n  dockerfile = \"Dockerfile.webapp\"\n  args = {\n    VAR_BOTH = \"webapp\"\n  }\n}"
        let compose = "services:\n  db:\n    build: .\n    command: ./entrypoint.sh\n    image: docker.io/tonistiigi/db\n  webapp:\n    build:\n      dockerfile: Dockerfile.webapp\n      args:\n        buildno: 1\n"
        let compose2 = "services:\n  webapp:\n    build:\n      args:\n        buildno2: 12\n"
        let plan = try Bakefile.plan([("docker-compose.yml", compose), ("docker-compose2.yml", compose2), ("docker-bake.hcl", hcl)], ["default"])
        XCTAssertEqual(plan.targets.count, 2)
        XCTAssertEqual(plan.targets["webapp"]?.dockerfile, "Dockerfile.webapp")
        XCTAssertEqual(plan.targets["webapp"]?.args, ["buildno": "1", "buildno2": "12", "VAR_BOTH": "webapp"])
        XCTAssertEqual(plan.targets["db"]?.tags, ["docker.io/tonistiigi/db"])
    }

    func testReadTargetsWithDotCompose() throws {
        let compose = "services:\n  web.app:\n    build:\n      dockerfile: Dockerfile.webapp\n      args:\n        buildno: 1\n"
        let plan = try Bakefile.plan([("docker-compose.yml", compose)], ["web.app"])
        XCTAssertEqual(plan.targets.count, 1)
        XCTAssertEqual(plan.targets["web_app"]?.dockerfile, "Dockerfile.webapp")
        XCTAssertEqual(plan.targets["web_app"]?.args, ["buildno": "1"])
        XCTAssertEqual(try Bakefile.plan([("docker-compose.yml", compose)], ["web_app"]).targets["web_app"]?.dockerfile, "Dockerfile.webapp")
    }

    func testHCLContextCwdPrefix() throws {
        let plan = try Bakefile.plan("target \"app\" {\n  context = \"cwd://foo\"\n  dockerfile = \"test\"\n}", ["app"])
        XCTAssertEqual(plan.targets["app"]?.context, "cwd://foo", "kept as written; the build takes it from the working directory")
        XCTAssertEqual(plan.targets["app"]?.dockerfile, "test")
    }

    func testHCLDockerfileCwdPrefix() throws {
        let plan = try Bakefile.plan("target \"app\" {\n  context = \".\"\n  dockerfile = \"cwd://Dockerfile.app\"\n}", ["app"])
        XCTAssertEqual(plan.targets["app"]?.dockerfile, "cwd://Dockerfile.app")
        XCTAssertEqual(plan.targets["app"]?.context, ".")
    }

    func testOverrideMerge() throws {
        let plan = try Bakefile.plan("target \"app\" {\n platforms = [\"linux/amd64\"]\n output = [\"foo\"]\n}", ["app"],
                                     ["app.platform=linux/arm", "app.platform=linux/ppc64le", "app.output=type=registry"])
        XCTAssertEqual(plan.targets["app"]?.platforms, ["linux/arm", "linux/ppc64le"])
        XCTAssertEqual(Bakefile.strings(plan.targets["app"]?.output), ["type=registry"])
    }

    static let contextsFile = """
    target "base" {
      contexts = {
        foo: "bar"
        abc: "def"
      }
    }
    target "app" {
      inherits = ["base"]
      contexts = {
        foo: "baz"
      }
    }
    """

    func testReadContexts() throws {
        XCTAssertEqual(try Bakefile.plan(Self.contextsFile, ["app"]).targets["app"]?.contexts, ["foo": "baz", "abc": "def"])
        XCTAssertEqual(try Bakefile.plan(Self.contextsFile, ["app"], ["app.contexts.foo=bay", "base.contexts.ghi=jkl"]).targets["app"]?.contexts,
                       ["foo": "bay", "abc": "def", "ghi": "jkl"])
        XCTAssertEqual(try Bakefile.plan(Self.contextsFile, ["app"], ["app.contexts.foo="]).targets["app"]?.contexts, ["abc": "def"])
    }

    func testReadContextFromTargetUnknown() {
        let hcl = "target \"app\" {\n  contexts = {\n    foo: \"baz\"\n    bar: \"target:bar\"\n  }\n}"
        XCTAssertTrue(Bakefile.error { try Bakefile.plan(hcl, ["app"]) }.contains("failed to find target bar"))
    }

    func testReadEmptyTargets() throws {
        let plan = try Bakefile.plan([("docker-bake.hcl", #"target "app1" {}"#), ("docker-compose.yml", "services:\n  app2:\n    build: {}\n")], ["app1", "app2"])
        XCTAssertEqual(plan.targets.count, 2)
        for name in ["app1", "app2"] {
            XCTAssertEqual(plan.targets[name]?.dockerfile, "Dockerfile")
            XCTAssertEqual(plan.targets[name]?.context, ".")
        }
    }

    func testReadContextFromTargetChain() throws {
        let hcl = """
        target "base" {
        }
        target "mid" {
          output = ["foo"]
          contexts = {
            parent: "target:base"
          }
        }
        target "app" {
          contexts = {
            foo: "baz"
            bar: "target:mid"
          }
        }
        target "unused" {}
        """
        let plan = try Bakefile.plan(hcl, ["app"])
        XCTAssertEqual(plan.targets.count, 3)
        XCTAssertEqual(plan.targets["app"]?.contexts?.count, 2)
        XCTAssertEqual(Bakefile.strings(plan.targets["mid"]?.output), ["type=cacheonly"])
        XCTAssertEqual(plan.targets["mid"]?.contexts?.count, 1)
        XCTAssertNil(plan.targets["base"]?.contexts)
        XCTAssertEqual(plan.linked, ["mid", "base"])
    }

    func testReadContextFromTargetInfiniteLoop() {
        let hcl = """
        target "mid" {
          output = ["foo"]
          contexts = {
            parent: "target:app"
          }
        }
        target "app" {
          contexts = {
            foo: "baz"
            bar: "target:mid"
          }
        }
        """
        XCTAssertTrue(Bakefile.error { try Bakefile.plan(hcl, ["app", "mid"]) }.contains("infinite loop from"))
    }

    static func platforms(_ mid: String) -> String {
        "target \"mid\" {\n  output = [\"foo\"]\n  platforms = [\(mid)]\n}\ntarget \"app\" {\n  contexts = {\n    bar: \"target:mid\"\n  }\n  platforms = [\"linux/amd64\", \"linux/arm64\"]\n}"
    }

    func testReadContextFromTargetMultiPlatform() throws {
        XCTAssertNoThrow(try Bakefile.plan(Self.platforms(#""linux/amd64", "linux/arm64""#), ["app"]))
    }

    func testReadContextFromTargetInvalidPlatforms() {
        XCTAssertTrue(Bakefile.error { try Bakefile.plan(Self.platforms(#""linux/amd64", "linux/riscv64""#), ["app"]) }.contains("are not a subset of"))
    }

    func testReadContextFromTargetSubsetPlatforms() throws {
        XCTAssertNoThrow(try Bakefile.plan(Self.platforms(#""linux/amd64", "linux/riscv64", "linux/arm64""#), ["app"]))
    }

    func testReadTargetsDefault() throws {
        let plan = try Bakefile.plan("target \"default\" {\n  dockerfile = \"test\"\n}", ["default"])
        XCTAssertEqual(plan.groups.count, 1)
        XCTAssertEqual(plan.targets.count, 1)
        XCTAssertEqual(plan.targets["default"]?.dockerfile, "test")
    }

    func testReadTargetsSpecified() throws {
        let hcl = "target \"image\" {\n  dockerfile = \"test\"\n}"
        XCTAssertFalse(Bakefile.error { try Bakefile.plan(hcl, ["default"]) }.isEmpty)
        let plan = try Bakefile.plan(hcl, ["image"])
        XCTAssertEqual(plan.groups.count, 1)
        XCTAssertEqual(plan.groups["default"]?.targets, ["image"])
        XCTAssertEqual(plan.targets["image"]?.dockerfile, "test")
    }

    func testReadTargetsGroup() throws {
        let plan = try Bakefile.plan("group \"foo\" {\n  targets = [\"image\"]\n}\ntarget \"image\" {\n  dockerfile = \"test\"\n}", ["foo"])
        XCTAssertEqual(plan.groups.count, 2)
        XCTAssertEqual(plan.groups["default"]?.targets, ["foo"])
        XCTAssertEqual(plan.groups["foo"]?.targets, ["image"])
        XCTAssertEqual(plan.targets.count, 1)
        XCTAssertEqual(plan.targets["image"]?.dockerfile, "test")
    }

    func testReadTargetsGroupAndTarget() throws {
        let hcl = "group \"foo\" {\n  targets = [\"image\"]\n}\ntarget \"foo\" {\n  dockerfile = \"bar\"\n}\ntarget \"image\" {\n  dockerfile = \"test\"\n}"
        for requested in [["foo"], ["foo", "foo"]] {
            let plan = try Bakefile.plan(hcl, requested)
            XCTAssertEqual(plan.groups.count, 2)
            XCTAssertEqual(plan.groups["default"]?.targets, ["foo"])
            XCTAssertEqual(plan.groups["foo"]?.targets, ["image"])
            XCTAssertEqual(plan.targets.count, 1)
            XCTAssertEqual(plan.targets["image"]?.dockerfile, "test")
        }
    }

    func testReadTargetsMixed() throws {
        let hcl = "group \"default\" {\n  targets = [\"image\"]\n}\ntarget \"nocache\" {\n  no-cache = true\n}\ngroup \"release\" {\n  targets = [\"image-release\"]\n}\ntarget \"image\" {\n  inherits = [\"nocache\"]\n  output = [\"type=docker\"]\n}\ntarget \"image-release\" {\n  inherits = [\"image\"]\n  output = [\"type=image,push=true\"]\n  tags = [\"user/app:latest\"]\n}"
        let json = #"{"group": {"default": {"targets": ["image"]}}, "target": {"image": {"context": ".", "dockerfile": "Dockerfile", "output": ["type=docker"]}}}"#
        let yml = "services:\n  addon:\n    build:\n      context: .\n      dockerfile: ./Dockerfile\n      args:\n        CT_ECR: foo\n        CT_TAG: bar\n    image: ct-addon:bar\n    environment:\n      - NODE_ENV=test\n      - AWS_ACCESS_KEY_ID=dummy\n      - AWS_SECRET_ACCESS_KEY=dummy\n  aws:\n    build:\n      dockerfile: ./aws.Dockerfile\n      args:\n        CT_ECR: foo\n        CT_TAG: bar\n    image: ct-fake-aws:bar"
        let fhcl = ("docker-bake.hcl", hcl), fyml = ("docker-compose.yml", yml), fjson = ("docker-bake.json", json)
        var plan = try Bakefile.plan([fhcl], ["default"])
        XCTAssertEqual(plan.groups.count, 1)
        XCTAssertEqual(plan.groups["default"]?.targets, ["image"])
        XCTAssertEqual(plan.targets.count, 1)
        XCTAssertEqual(Bakefile.strings(plan.targets["image"]?.output), ["type=docker"])
        plan = try Bakefile.plan([fhcl], ["image-release"])
        XCTAssertEqual(plan.groups.count, 1)
        XCTAssertEqual(plan.groups["default"]?.targets, ["image-release"])
        XCTAssertEqual(Bakefile.strings(plan.targets["image-release"]?.output), ["type=image,push=true"])
        plan = try Bakefile.plan([fhcl], ["image", "image-release"])
        XCTAssertEqual(plan.groups["default"]?.targets, ["image", "image-release"])
        XCTAssertEqual(plan.targets.count, 2)
        XCTAssertEqual(plan.targets["image"]?.context, ".")
        XCTAssertEqual(Bakefile.strings(plan.targets["image-release"]?.output), ["type=image,push=true"])
        plan = try Bakefile.plan([fyml, fhcl], ["default"])
        XCTAssertEqual(plan.groups.count, 1)
        XCTAssertEqual(plan.groups["default"]?.targets, ["image"])
        XCTAssertEqual(plan.targets.count, 1)
        XCTAssertEqual(plan.targets["image"]?.context, ".")
        plan = try Bakefile.plan([fjson], ["default"])
        XCTAssertEqual(plan.groups["default"]?.targets, ["image"])
        XCTAssertEqual(plan.targets.count, 1)
        XCTAssertEqual(plan.targets["image"]?.context, ".")
        plan = try Bakefile.plan([fyml], ["default"])
        XCTAssertEqual(plan.groups.count, 1)
        XCTAssertEqual(plan.groups["default"]?.targets, ["addon", "aws"])
        XCTAssertEqual(plan.targets.count, 2)
        XCTAssertEqual(plan.targets["addon"]?.dockerfile, "./Dockerfile")
        XCTAssertEqual(plan.targets["aws"]?.dockerfile, "./aws.Dockerfile")
        plan = try Bakefile.plan([fyml, fhcl], ["addon", "aws"])
        XCTAssertEqual(plan.groups.count, 1)
        XCTAssertEqual(plan.groups["default"]?.targets, ["addon", "aws"])
        XCTAssertEqual(plan.targets.count, 2)
        plan = try Bakefile.plan([fyml, fhcl], ["addon", "aws", "image"])
        XCTAssertEqual(plan.groups.count, 1)
        XCTAssertEqual(plan.groups["default"]?.targets, ["addon", "aws", "image"])
        XCTAssertEqual(plan.targets.count, 3)
        XCTAssertEqual(plan.targets["image"]?.context, ".")
        XCTAssertEqual(plan.targets["addon"]?.dockerfile, "./Dockerfile")
        XCTAssertEqual(plan.targets["aws"]?.dockerfile, "./aws.Dockerfile")
    }

    func testReadTargetsSameGroupTarget() throws {
        let hcl = "group \"foo\" {\n  targets = [\"foo\"]\n}\ntarget \"foo\" {\n  dockerfile = \"bar\"\n}\ntarget \"image\" {\n  output = [\"type=docker\"]\n}"
        for requested in [["foo"], ["foo", "foo"]] {
            let plan = try Bakefile.plan(hcl, requested)
            XCTAssertEqual(plan.groups.count, 2)
            XCTAssertEqual(plan.groups["default"]?.targets, ["foo"])
            XCTAssertEqual(plan.groups["foo"]?.targets, ["foo"])
            XCTAssertEqual(plan.targets.count, 1)
            XCTAssertEqual(plan.targets["foo"]?.dockerfile, "bar")
        }
    }

    func testNestedInherits() throws {
        let hcl = "target \"a\" {\n  args = {\n    foo = \"123\"\n    bar = \"234\"\n  }\n}\ntarget \"b\" {\n  inherits = [\"a\"]\n  args = {\n    bar = \"567\"\n  }\n}\ntarget \"c\" {\n  inherits = [\"a\"]\n  args = {\n    baz = \"890\"\n  }\n}\ntarget \"d\" {\n  inherits = [\"b\", \"c\"]\n}"
        let cases: [([String], [String: String?])] = [
            ([], ["bar": "234", "baz": "890", "foo": "123"]),
            (["a.args.foo=321", "b.args.bar=432"], ["bar": "234", "baz": "890", "foo": "321"]),
            (["a.args.foo=321", "c.args.bar=432"], ["bar": "432", "baz": "890", "foo": "321"]),
        ]
        for (overrides, want) in cases {
            let plan = try Bakefile.plan(hcl, ["d"], overrides)
            XCTAssertEqual(plan.groups["default"]?.targets, ["d"])
            XCTAssertEqual(plan.targets.count, 1)
            XCTAssertEqual(plan.targets["d"]?.args, want, "\(overrides)")
        }
    }

    func testNestedInheritsWithGroup() throws {
        let hcl = "target \"grandparent\" {\n  output = [\"type=docker\"]\n  args = {\n    BAR = \"fuu\"\n  }\n}\ntarget \"parent\" {\n  inherits = [\"grandparent\"]\n  args = {\n    FOO = \"bar\"\n  }\n}\ntarget \"child1\" {\n  inherits = [\"parent\"]\n}\ntarget \"child2\" {\n  inherits = [\"parent\"]\n  args = {\n    FOO2 = \"bar2\"\n  }\n}\ngroup \"default\" {\n  targets = [\n    \"child1\",\n    \"child2\"\n  ]\n}"
        let cases: [([String], [String: String?], [String: String?])] = [
            ([], ["FOO": "bar", "BAR": "fuu"], ["FOO": "bar", "FOO2": "bar2", "BAR": "fuu"]),
            (["grandparent.args.BAR=fii", "child1.args.FOO=baaar"], ["FOO": "baaar", "BAR": "fii"], ["FOO": "bar", "FOO2": "bar2", "BAR": "fii"]),
            (["grandparent.args.BAR=fii", "child2.args.FOO=baaar"], ["FOO": "bar", "BAR": "fii"], ["FOO": "baaar", "FOO2": "bar2", "BAR": "fii"]),
        ]
        for (overrides, child1, child2) in cases {
            let plan = try Bakefile.plan(hcl, ["default"], overrides)
            XCTAssertEqual(plan.groups["default"]?.targets, ["child1", "child2"])
            XCTAssertEqual(plan.targets["child1"]?.args, child1, "\(overrides)")
            XCTAssertEqual(plan.targets["child2"]?.args, child2, "\(overrides)")
            XCTAssertEqual(Bakefile.strings(plan.targets["child1"]?.output), ["type=docker"])
            XCTAssertEqual(Bakefile.strings(plan.targets["child2"]?.output), ["type=docker"])
        }
    }

    func testTargetName() throws {
        for (name, valid) in [("a", true), ("abc", true), ("a/b", false), ("a.b", false), ("_a", true), ("a_b", true), ("AbC", true), ("AbC-0123", true)] {
            let outcome = Bakefile.error { try Bakefile.plan("target \"\(name)\" {\n  dockerfile = \"test\"\n}", [name]) }
            XCTAssertEqual(outcome.isEmpty, valid, "\(name): \(outcome)")
        }
    }

    func testNestedGroupsWithSameTarget() throws {
        let hcl = "group \"a\" {\n  targets = [\"b\", \"c\"]\n}\ngroup \"b\" {\n  targets = [\"d\"]\n}\ngroup \"c\" {\n  targets = [\"b\"]\n}\ntarget \"d\" {\n  context = \".\"\n  dockerfile = \"./testdockerfile\"\n}\ngroup \"e\" {\n  targets = [\"a\", \"f\"]\n}\ntarget \"f\" {\n  context = \"./foo\"\n}"
        let cases: [([String], [String], Int)] = [
            (["a"], ["a", "b", "c", "default"], 1), (["b"], ["b", "default"], 1), (["c"], ["b", "c", "default"], 1),
            (["d"], ["default"], 1), (["e"], ["a", "b", "c", "default", "e"], 2), (["a", "e"], ["a", "b", "c", "default", "e"], 2),
        ]
        for (names, groups, count) in cases {
            let plan = try Bakefile.plan(hcl, names)
            XCTAssertEqual(plan.groups.keys.sorted(), groups, "\(names)")
            XCTAssertEqual(plan.groups["default"]?.targets, names.sorted())
            XCTAssertEqual(plan.targets.count, count)
            XCTAssertEqual(plan.targets["d"]?.context, ".")
            XCTAssertEqual(plan.targets["d"]?.dockerfile, "./testdockerfile")
        }
    }

    func testUnknownExt() throws {
        let config = try Bakefile.read([("c1.foo", "target \"app\" {\n  context = \"dir\"\n  args = {\n    v1 = \"foo\"\n  }\n}"),
                                        ("c2.bar", "services:\n  app:\n    build:\n      dockerfile: Dockerfile-alternate\n      args:\n        v2: \"bar\"\n")])
        XCTAssertEqual(config.targets.count, 1)
        XCTAssertEqual(config.targets.first?.name, "app")
        XCTAssertEqual(config.targets.first?.args, ["v1": "foo", "v2": "bar"])
        XCTAssertEqual(config.targets.first?.context, "dir")
        XCTAssertEqual(config.targets.first?.dockerfile, "Dockerfile-alternate")
    }

    func testHCLNullVars() throws {
        let hcl = "variable \"FOO\" {\n  default = null\n}\nvariable \"BAR\" {\n  default = null\n}\ntarget \"default\" {\n  args = {\n    foo = FOO\n    bar = \"baz\"\n  }\n  labels = {\n    \"com.docker.app.bar\" = BAR\n    \"com.docker.app.baz\" = \"foo\"\n  }\n}"
        let plan = try Bakefile.plan(hcl, ["default"])
        XCTAssertEqual(plan.targets["default"]?.args, ["bar": "baz"])
        XCTAssertEqual(plan.targets["default"]?.labels, ["com.docker.app.baz": "foo"])
    }

    func testJSONNullVars() throws {
        let json = #"{"variable": {"FOO": {"default": null}, "BAR": {"default": null}}, "target": {"default": {"args": {"foo": "${FOO}", "bar": "baz"}, "labels": {"com.docker.app.bar": "${BAR}", "com.docker.app.baz": "foo"}}}}"#
        let plan = try Bakefile.plan([("docker-bake.json", json)], ["default"])
        XCTAssertEqual(plan.targets["default"]?.args, ["bar": "baz"])
        XCTAssertEqual(plan.targets["default"]?.labels, ["com.docker.app.baz": "foo"])
    }

    func testReadLocalFilesDefault() throws {
        XCTAssertEqual(BakeDefaults.files, ["compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml",
                                            "docker-bake.json", "docker-bake.hcl", "docker-bake.override.json", "docker-bake.override.hcl"])
    }

    func testAttestDuplicates() throws {
        let hcl = #"target "default" { attest = ["type=sbom", "type=sbom,generator=custom", "type=sbom,foo=bar", "type=provenance,mode=max"] }"#
        XCTAssertEqual(Bakefile.strings(try Bakefile.plan(hcl, ["default"]).targets["default"]?.attest), ["type=provenance,mode=max", "type=sbom,foo=bar"])
        XCTAssertEqual(Bakefile.strings(try Bakefile.plan(hcl, ["default"], ["*.attest=type=sbom,disabled=true"]).targets["default"]?.attest),
                       ["type=provenance,mode=max", "type=sbom,disabled=true"])
    }

    func testExtraHostsDeterministicOrder() throws {
        let plan = try Bakefile.plan("target \"app\" {\n  extra-hosts = {\n    \"b.example\" = \"10.0.0.2\"\n    \"a.example\" = \"10.0.0.1\"\n  }\n}", ["app"])
        XCTAssertTrue(BakePrinter.print(plan).contains("\"extra-hosts\": {\n        \"a.example\": \"10.0.0.1\",\n        \"b.example\": \"10.0.0.2\"\n      }"))
    }

    func testAnnotations() throws {
        let plan = try Bakefile.plan("target \"app\" {\n  output = [\"type=image,name=foo\"]\n  annotations = [\"manifest[linux/amd64]:foo=bar\"]\n}", ["app"])
        XCTAssertEqual(plan.targets["app"]?.annotations, ["manifest[linux/amd64]:foo=bar"])
        XCTAssertEqual(Bakefile.strings(plan.targets["app"]?.output), ["type=image,name=foo"])
    }

    func testRefOnlyCacheOptions() throws {
        let plan = try Bakefile.plan("target \"app\" {\n  output = [\"type=image,name=foo\"]\n  cache-from = [\"ref1,ref2\"]\n}", ["app"])
        XCTAssertEqual(plan.targets["app"]?.cacheFrom, [BakeEntry(["type": "registry", "ref": "ref1"]), BakeEntry(["type": "registry", "ref": "ref2"])])
    }

    func testHCLEntitlements() throws {
        let plan = try Bakefile.plan("target \"app\" {\n  entitlements = [\"security.insecure\", \"network.host\"]\n}", ["app"])
        XCTAssertEqual(plan.targets["app"]?.entitlements, ["security.insecure", "network.host"])
    }

    func testEntitlementsForNetHostCompose() throws {
        let plan = try Bakefile.plan([("docker-bake.hcl", "target \"app\" {\n  dockerfile = \"app.Dockerfile\"\n}"),
                                      ("docker-compose.yml", "services:\n  app:\n    build:\n      network: \"host\"\n")], ["app"])
        XCTAssertEqual(plan.groups["default"]?.targets, ["app"])
        XCTAssertEqual(plan.targets["app"]?.network, "host")
        XCTAssertEqual(plan.targets["app"]?.entitlements, ["network.host"])
    }

    func testEntitlementsForNetHost() throws {
        let plan = try Bakefile.plan("target \"app\" {\n  network = \"host\"\n}", ["app"])
        XCTAssertEqual(plan.targets["app"]?.network, "host")
        XCTAssertEqual(plan.targets["app"]?.entitlements, ["network.host"])
    }

    func testNetNone() throws {
        let plan = try Bakefile.plan("target \"app\" {\n  network = \"none\"\n}", ["app"])
        XCTAssertEqual(plan.targets["app"]?.network, "none")
        XCTAssertNil(plan.targets["app"]?.entitlements)
    }

    static let validation = """
    variable "FOO" {
      validation {
        condition = FOO != ""
        error_message = "FOO is required."
      }
    }
    target "app" {
      args = {
        FOO = FOO
      }
    }
    """

    func testVariableValidation() throws {
        XCTAssertEqual(try Bakefile.plan(Self.validation, ["app"], environment: ["FOO": "bar"]).targets["app"]?.args, ["FOO": "bar"])
        XCTAssertTrue(Bakefile.error { try Bakefile.plan(Self.validation, ["app"]) }.contains("FOO is required."))
    }

    func testVariableValidationMulti() throws {
        let hcl = """
        variable "FOO" {
          validation {
            condition = FOO != ""
            error_message = "FOO is required."
          }
          validation {
            condition = strlen(FOO) > 4
            error_message = "FOO must be longer than 4 characters."
          }
        }
        target "app" {
          args = {
            FOO = FOO
          }
        }
        """
        XCTAssertNoThrow(try Bakefile.plan(hcl, ["app"], environment: ["FOO": "barbar"]))
        XCTAssertTrue(Bakefile.error { try Bakefile.plan(hcl, ["app"], environment: ["FOO": "bar"]) }.contains("FOO must be longer than 4 characters."))
    }

    func testVariableValidationWithDeps() throws {
        let hcl = """
        variable "FOO" {}
        variable "BAR" {
          validation {
            condition = FOO != ""
            error_message = "BAR requires FOO to be set."
          }
        }
        target "app" {
          args = {
            BAR = BAR
          }
        }
        """
        XCTAssertNoThrow(try Bakefile.plan(hcl, ["app"], environment: ["FOO": "bar"]))
        XCTAssertTrue(Bakefile.error { try Bakefile.plan(hcl, ["app"]) }.contains("BAR requires FOO to be set."))
    }

    func testVariableEmpty() throws {
        let plan = try Bakefile.plan("variable \"FOO\" {\n  default = \"\"\n}\ntarget \"app\" {\n  output = [FOO]\n}\n", ["app"])
        XCTAssertNil(plan.targets["app"]?.output)
    }

    func testOverrideEmpty() throws {
        let plan = try Bakefile.plan("target \"app\" {\n  output = [\"./bin\"]\n}\n", ["app"], ["app.output="])
        XCTAssertNil(plan.targets["app"]?.output)
    }

    func testEmptyDockerfile() throws {
        XCTAssertEqual(try Bakefile.plan("target \"app\" {\n  dockerfile = \"\"\n}\n", ["app"]).targets["app"]?.dockerfile, "Dockerfile")
    }

    func testGroupTargetsWithDefault() throws {
        let onTarget = "target \"default\" {\n  dockerfile = \"Dockerfile\"\n  platforms = [\"linux/amd64\"]\n}\ntarget \"multiarch\" {\n  dockerfile = \"Dockerfile\"\n  platforms = [\"linux/amd64\",\"linux/arm64\",\"linux/arm/v7\",\"linux/arm/v6\"]\n}"
        let first = try Bakefile.plan(onTarget, ["default", "multiarch"])
        XCTAssertEqual(first.groups.count, 1)
        XCTAssertEqual(first.groups["default"]?.targets, ["default", "multiarch"])
        let onGroup = "group \"default\" {\n  targets = [\"app\", \"multiarch\"]\n}\ntarget \"app\" {\n  dockerfile = \"app.Dockerfile\"\n}\ntarget \"foo\" {\n  dockerfile = \"foo.Dockerfile\"\n}\ntarget \"multiarch\" {\n  dockerfile = \"Dockerfile\"\n  platforms = [\"linux/amd64\",\"linux/arm64\",\"linux/arm/v7\",\"linux/arm/v6\"]\n}"
        let second = try Bakefile.plan(onGroup, ["default", "foo"])
        XCTAssertEqual(second.groups.count, 1)
        XCTAssertEqual(second.groups["default"]?.targets, ["app", "foo", "multiarch"])
    }

    func testMatchNames() throws {
        var hcl = "group \"default\" {\n  targets = [\"foo\", \"foo-bar\"]\n}\ngroup \"baz\" {\n  targets = [\"baz-foo\", \"baz-bar\", \"baz-fuu\"]\n}\n"
        for name in ["foo", "foo-bar", "foo-baz", "foo-fuu", "bar-foo", "bar-baz", "bar-fuu", "baz-foo", "baz-bar", "baz-fuu"] { hcl += "target \"\(name)\" {}\n" }
        let all = ["bar-baz", "bar-foo", "bar-fuu", "baz-bar", "baz-foo", "baz-fuu", "foo", "foo-bar", "foo-baz", "foo-fuu"]
        let cases: [([String], [String]?)] = [
            (["foo"], ["foo"]), (["foo-*"], ["foo-bar", "foo-baz", "foo-fuu"]), (["baz*"], ["baz-bar", "baz-foo", "baz-fuu"]),
            (["*"], all), (["*", "default"], all), (["aaa-*"], nil),
        ]
        for (pattern, expected) in cases {
            if let expected {
                XCTAssertEqual(try Bakefile.plan(hcl, pattern).targets.keys.sorted(), expected, "\(pattern)")
            } else {
                XCTAssertFalse(Bakefile.error { try Bakefile.plan(hcl, pattern) }.isEmpty)
            }
        }
    }

    func testReadTargetsSameGroupTargetMulti() throws {
        let hcl = "group \"foo\" {\n  targets = [\"foo\", \"image\"]\n}\ntarget \"foo\" {\n  dockerfile = \"bar\"\n}\ntarget \"image\" {\n  output = [\"type=docker\"]\n}"
        for (requested, defaults) in [(["foo"], ["foo"]), (["foo", "image"], ["foo", "image"])] {
            let plan = try Bakefile.plan(hcl, requested)
            XCTAssertEqual(plan.groups.count, 2)
            XCTAssertEqual(plan.groups["default"]?.targets, defaults)
            XCTAssertEqual(plan.groups["foo"]?.targets, ["foo", "image"])
            XCTAssertEqual(plan.targets.count, 2)
            XCTAssertEqual(plan.targets["foo"]?.dockerfile, "bar")
            XCTAssertEqual(Bakefile.strings(plan.targets["image"]?.output), ["type=docker"])
        }
    }

    func testVariableValidationConditionNull() {
        let hcl = "variable \"PORT\" {\n  default = 3000\n  validation {}\n}\ntarget \"app\" {\n  args = {\n    PORT = PORT\n  }\n}\n"
        XCTAssertTrue(Bakefile.error { try Bakefile.plan(hcl, ["app"]) }.contains("Condition expression must return either true or false, not null"))
    }

    func testVariableValidationConditionUnknownValue() {
        let hcl = "variable \"PORT\" {\n  default = 3000\n  validation {\n    condition = \"foo\"\n  }\n}\ntarget \"app\" {\n  args = {\n    PORT = PORT\n  }\n}\n"
        let message = Bakefile.error { try Bakefile.plan(hcl, ["app"]) }
        XCTAssertTrue(message.contains("Invalid condition result value: a bool is required"), message)
    }

    func testVariableValidationInvalidErrorMessage() {
        let hcl = "variable \"FOO\" {\n  default = 0\n  validation {\n    condition = FOO > 5\n  }\n}\ntarget \"app\" {\n  args = {\n    FOO = FOO\n  }\n}\n"
        XCTAssertTrue(Bakefile.error { try Bakefile.plan(hcl, ["app"]) }.contains("This check failed, but has an invalid error message"))
    }

    func testVariableValidationTyped() throws {
        let hcl = "variable \"FOO\" {\n  default = 0\n  validation {\n    condition = FOO > 5\n    error_message = \"FOO must be greater than 5.\"\n  }\n}\ntarget \"app\" {\n  args = {\n    FOO = FOO\n  }\n}\n"
        XCTAssertEqual(try Bakefile.plan(hcl, ["app"], environment: ["FOO": "10"]).targets["app"]?.args, ["FOO": "10"])
        XCTAssertTrue(Bakefile.error { try Bakefile.plan(hcl, ["app"]) }.contains("FOO must be greater than 5."))
    }
}
