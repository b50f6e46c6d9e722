import Bake
import XCTest

/// docker/buildx `bake/hcl_test.go`, ported (the rows of Tests/BuildxBakeConformance.md).
final class BuildxHCLConformanceTests: XCTestCase {
    static let basic = """
    group "default" {
      targets = ["db", "webapp"]
    }
    target "db" {
      context = "./db"
      tags = ["docker.io/tonistiigi/db"]
      output = ["type=image"]
    }
    target "webapp" {
      context = "./dir"
      dockerfile = "Dockerfile-alternate"
      args = {
        buildno = "123"
      }
      output = [
        { type = "image" }
      ]
    }
    target "cross" {
      platforms = [
        "linux/amd64",
        "linux/arm64"
      ]
    }
    target "webapp-plus" {
      inherits = ["webapp", "cross"]
      args = {
        IAMCROSS = "true"
      }
    }
    """

    func checkBasic(_ config: BakeConfig) {
        XCTAssertEqual(config.groups.count, 1)
        XCTAssertEqual(config.groups.first?.name, "default")
        XCTAssertEqual(config.groups.first?.targets, ["db", "webapp"])
        XCTAssertEqual(config.targets.map(\.name), ["db", "webapp", "cross", "webapp-plus"])
        XCTAssertEqual(config.targets[0].context, "./db")
        XCTAssertEqual(config.targets[1].args, ["buildno": "123"])
        XCTAssertEqual(config.targets[2].platforms, ["linux/amd64", "linux/arm64"])
        XCTAssertEqual(config.targets[3].args, ["IAMCROSS": "true"])
    }

    func testHCLBasic() throws {
        let config = try Bakefile.read(Self.basic)
        checkBasic(config)
        XCTAssertEqual(config.targets[1].output, [BakeEntry(["type": "image"])], "an output written as an object")
    }

    func testHCLBasicInJSON() throws {
        let json = #"""
        {
          "group": {"default": {"targets": ["db", "webapp"]}},
          "target": {
            "db": {"context": "./db", "tags": ["docker.io/tonistiigi/db"]},
            "webapp": {"context": "./dir", "dockerfile": "Dockerfile-alternate", "args": {"buildno": "123"}},
            "cross": {"platforms": ["linux/amd64", "linux/arm64"]},
            "webapp-plus": {"inherits": ["webapp", "cross"], "args": {"IAMCROSS": "true"}}
          }
        }
        """#
        checkBasic(try Bakefile.read(json, name: "docker-bake.json"))
    }

    func testHCLWithFunctions() throws {
        let config = try Bakefile.read("group \"default\" {\n  targets = [\"webapp\"]\n}\ntarget \"webapp\" {\n  args = {\n    buildno = \"${add(123, 1)}\"\n  }\n}")
        XCTAssertEqual(config.groups.first?.targets, ["webapp"])
        XCTAssertEqual(config.targets.first?.args, ["buildno": "124"])
    }

    func testHCLWithUserDefinedFunctions() throws {
        let config = try Bakefile.read("function \"increment\" {\n  params = [number]\n  result = number + 1\n}\ngroup \"default\" {\n  targets = [\"webapp\"]\n}\ntarget \"webapp\" {\n  args = {\n    buildno = \"${increment(123)}\"\n  }\n}")
        XCTAssertEqual(config.targets.first?.args, ["buildno": "124"])
    }

    func testHCLWithVariables() throws {
        let hcl = "variable \"BUILD_NUMBER\" {\n  default = \"123\"\n}\ngroup \"default\" {\n  targets = [\"webapp\"]\n}\ntarget \"webapp\" {\n  args = {\n    buildno = \"${BUILD_NUMBER}\"\n  }\n}"
        XCTAssertEqual(try Bakefile.read(hcl).targets.first?.args, ["buildno": "123"])
        XCTAssertEqual(try Bakefile.read(hcl, environment: ["BUILD_NUMBER": "456"]).targets.first?.args, ["buildno": "456"])
    }

    func testHCLWithVariablesInFunctions() throws {
        let hcl = "variable \"REPO\" {\n  default = \"user/repo\"\n}\nfunction \"tag\" {\n  params = [tag]\n  result = [\"${REPO}:${tag}\"]\n}\ntarget \"webapp\" {\n  tags = tag(\"v1\")\n}"
        XCTAssertEqual(try Bakefile.read(hcl).targets.first?.tags, ["user/repo:v1"])
        XCTAssertEqual(try Bakefile.read(hcl, environment: ["REPO": "docker/buildx"]).targets.first?.tags, ["docker/buildx:v1"])
    }

    func testHCLMultiFileSharedVariables() throws {
        let files = [("c1.hcl", "variable \"FOO\" {\n  default = \"abc\"\n}\ntarget \"app\" {\n  args = {\n    v1 = \"pre-${FOO}\"\n  }\n}"),
                     ("c2.hcl", "target \"app\" {\n  args = {\n    v2 = \"${FOO}-post\"\n  }\n}")]
        XCTAssertEqual(try Bakefile.read(files).targets.map(\.args), [["v1": "pre-abc", "v2": "abc-post"]])
        XCTAssertEqual(try Bakefile.read(files, environment: ["FOO": "def"]).targets.map(\.args), [["v1": "pre-def", "v2": "def-post"]])
    }

    func testHCLVarsWithVars() throws {
        let files = [("c1.hcl", "variable \"FOO\" {\n  default = upper(\"${BASE}def\")\n}\nvariable \"BAR\" {\n  default = \"-${FOO}-\"\n}\ntarget \"app\" {\n  args = {\n    v1 = \"pre-${BAR}\"\n  }\n}"),
                     ("c2.hcl", "variable \"BASE\" {\n  default = \"abc\"\n}\ntarget \"app\" {\n  args = {\n    v2 = \"${FOO}-post\"\n  }\n}")]
        XCTAssertEqual(try Bakefile.read(files).targets.map(\.args), [["v1": "pre--ABCDEF-", "v2": "ABCDEF-post"]])
        XCTAssertEqual(try Bakefile.read(files, environment: ["BASE": "new"]).targets.map(\.args), [["v1": "pre--NEWDEF-", "v2": "NEWDEF-post"]])
    }

    func testHCLTypedVariables() throws {
        let hcl = "variable \"FOO\" {\n  default = 3\n}\nvariable \"IS_FOO\" {\n  default = true\n}\ntarget \"app\" {\n  args = {\n    v1 = FOO > 5 ? \"higher\" : \"lower\"\n    v2 = IS_FOO ? \"yes\" : \"no\"\n  }\n}"
        XCTAssertEqual(try Bakefile.read(hcl).targets.first?.args, ["v1": "lower", "v2": "yes"])
        XCTAssertEqual(try Bakefile.read(hcl, environment: ["FOO": "5.1", "IS_FOO": "0"]).targets.first?.args, ["v1": "higher", "v2": "no"])
        XCTAssertTrue(Bakefile.error { try Bakefile.read(hcl, environment: ["FOO": "NaN"]) }.contains("failed to parse FOO as number"))
        XCTAssertTrue(Bakefile.error { try Bakefile.read(hcl, environment: ["FOO": "0", "IS_FOO": "maybe"]) }.contains("failed to parse IS_FOO as bool"))
    }

    func testHCLNullVariables() throws {
        let hcl = "variable \"FOO\" {\n  default = null\n}\ntarget \"default\" {\n  args = {\n    foo = FOO\n  }\n}"
        XCTAssertEqual(try Bakefile.read(hcl).targets.first?.args, ["foo": String?.none])
        XCTAssertEqual(try Bakefile.read(hcl, environment: ["FOO": "bar"]).targets.first?.args, ["foo": "bar"])
    }

    func testJSONNullVariables() throws {
        let json = #"{"variable": {"FOO": {"default": null}}, "target": {"default": {"args": {"foo": "${FOO}"}}}}"#
        XCTAssertEqual(try Bakefile.read(json, name: "docker-bake.json").targets.first?.args, ["foo": String?.none])
        XCTAssertEqual(try Bakefile.read(json, name: "docker-bake.json", environment: ["FOO": "bar"]).targets.first?.args, ["foo": "bar"])
    }

    func testHCLVariableCycle() {
        let hcl = "variable \"FOO\" {\n  default = BAR\n}\nvariable \"FOO2\" {\n  default = FOO\n}\nvariable \"BAR\" {\n  default = FOO\n}\ntarget \"app\" {}"
        XCTAssertTrue(Bakefile.error { try Bakefile.read(hcl) }.contains("variable cycle not allowed"))
    }

    func testHCLAttrs() throws {
        let hcl = "FOO=\"abc\"\nBAR=\"attr-${FOO}def\"\ntarget \"app\" {\n  args = {\n    \"v1\": BAR\n  }\n}"
        XCTAssertEqual(try Bakefile.read(hcl).targets.first?.args, ["v1": "attr-abcdef"])
        XCTAssertEqual(try Bakefile.read(hcl, environment: ["FOO": "bar"]).targets.first?.args, ["v1": "attr-abcdef"], "env does not apply if no variable")
    }

    func testHCLMultiFileAttrs() throws {
        let files = [("c1.hcl", "variable \"FOO\" {\n  default = \"abc\"\n}\ntarget \"app\" {\n  args = {\n    v1 = \"pre-${FOO}\"\n  }\n}"), ("c2.hcl", "FOO=\"def\"\n")]
        XCTAssertEqual(try Bakefile.read(files).targets.first?.args, ["v1": "pre-def"])
        XCTAssertEqual(try Bakefile.read(files, environment: ["FOO": "ghi"]).targets.first?.args, ["v1": "pre-ghi"])
    }

    func testHCLDuplicateTarget() throws {
        let config = try Bakefile.read("target \"app\" {\n  dockerfile = \"x\"\n}\ntarget \"app\" {\n  dockerfile = \"y\"\n}")
        XCTAssertEqual(config.targets.count, 1)
        XCTAssertEqual(config.targets.first?.dockerfile, "y")
    }

    func testJSONAttributes() throws {
        let json = #"{"FOO": "abc", "variable": {"BAR": {"default": "def"}}, "target": { "app": { "args": {"v1": "pre-${FOO}-${BAR}"}} } }"#
        XCTAssertEqual(try Bakefile.read(json, name: "docker-bake.json").targets.first?.args, ["v1": "pre-abc-def"])
    }

    func testJSONFunctions() throws {
        let json = #"{"FOO": "abc", "function": {"myfunc": {"params": ["inp"], "result": "<${upper(inp)}-${FOO}>"}}, "target": {"app": {"args": {"v1": "pre-${myfunc(\"foo\")}"}}}}"#
        XCTAssertEqual(try Bakefile.read(json, name: "docker-bake.json").targets.first?.args, ["v1": "pre-<FOO-abc>"])
    }

    func testJSONInvalidFunctions() throws {
        let json = #"{"target": {"app": {"args": {"v1": "myfunc(\"foo\")"}}}}"#
        XCTAssertEqual(try Bakefile.read(json, name: "docker-bake.json").targets.first?.args, ["v1": #"myfunc("foo")"#])
    }

    func testHCLFunctionInAttr() throws {
        let hcl = "function \"brace\" {\n  params = [inp]\n  result = \"[${inp}]\"\n}\nfunction \"myupper\" {\n  params = [val]\n  result = \"${upper(val)} <> ${brace(v2)}\"\n}\nv1=myupper(\"foo\")\nv2=lower(\"BAZ\")\ntarget \"app\" {\n  args = {\n    \"v1\": v1\n  }\n}"
        XCTAssertEqual(try Bakefile.read(hcl).targets.first?.args, ["v1": "FOO <> [baz]"])
    }

    func testHCLCombineCompose() throws {
        let config = try Bakefile.read([("c1.hcl", "target \"app\" {\n  context = \"dir\"\n  args = {\n    v1 = \"foo\"\n  }\n}"),
                                        ("c2.yml", "version: \"3\"\nservices:\n  app:\n    build:\n      dockerfile: Dockerfile-alternate\n      args:\n        v2: \"bar\"\n")])
        XCTAssertEqual(config.targets.count, 1)
        XCTAssertEqual(config.targets.first?.args, ["v1": "foo", "v2": "bar"])
        XCTAssertEqual(config.targets.first?.context, "dir")
        XCTAssertEqual(config.targets.first?.dockerfile, "Dockerfile-alternate")
    }

    func testHCLBuiltinVars() throws {
        let config = try Bakefile.read("target \"app\" {\n  context = BAKE_CMD_CONTEXT\n  dockerfile = \"test\"\n}")
        XCTAssertEqual(config.targets.first?.context, "cwd://", "buildx's value when bake runs on local files")
        XCTAssertEqual(config.targets.first?.dockerfile, "test")
    }

    func testCombineHCLAndJSONTargets() throws {
        let hcl = "group \"default\" {\n  targets = [\"a\"]\n}\ntarget \"metadata-a\" {}\ntarget \"metadata-b\" {}\ntarget \"a\" {\n  inherits = [\"metadata-a\"]\n  context = \".\"\n  target = \"a\"\n}\ntarget \"b\" {\n  inherits = [\"metadata-b\"]\n  context = \".\"\n  target = \"b\"\n}"
        let a = #"{"target": [{"metadata-a": [{"tags": ["app/a:1.0.0", "app/a:latest"]}]}]}"#
        let b = #"{"target": [{"metadata-b": [{"tags": ["app/b:1.0.0", "app/b:latest"]}]}]}"#
        let config = try Bakefile.read([("docker-bake.hcl", hcl), ("metadata-a.json", a), ("metadata-b.json", b)])
        XCTAssertEqual(config.groups.map(\.targets), [["a"]])
        XCTAssertEqual(config.targets.map(\.name), ["metadata-a", "metadata-b", "a", "b"])
        XCTAssertEqual(config.targets[0].tags, ["app/a:1.0.0", "app/a:latest"])
        XCTAssertEqual(config.targets[1].tags, ["app/b:1.0.0", "app/b:latest"])
        XCTAssertEqual(config.targets[2].context, ".")
        XCTAssertEqual(config.targets[2].target, "a")
        XCTAssertEqual(config.targets[3].target, "b")
    }

    func testCombineHCLAndJSONVars() throws {
        let hcl = "variable \"ABC\" {\n  default = \"foo\"\n}\nvariable \"DEF\" {\n  default = \"\"\n}\ngroup \"default\" {\n  targets = [\"one\"]\n}\ntarget \"one\" {\n  args = {\n    a = \"pre-${ABC}\"\n  }\n}\ntarget \"two\" {\n  args = {\n    b = \"pre-${DEF}\"\n  }\n}"
        let foo = #"{"variable": {"DEF": {"default": "bar"}}, "target": {"one": {"args": {"a": "pre-${ABC}-${DEF}"}}}}"#
        let bar = #"{"ABC": "ghi", "DEF": "jkl"}"#
        let config = try Bakefile.read([("docker-bake.hcl", hcl), ("foo.json", foo), ("bar.json", bar)])
        XCTAssertEqual(config.groups.map(\.targets), [["one"]])
        XCTAssertEqual(config.targets.map(\.name), ["one", "two"])
        XCTAssertEqual(config.targets[0].args, ["a": "pre-ghi-jkl"])
        XCTAssertEqual(config.targets[1].args, ["b": "pre-jkl"])
    }

    func testEmptyVariable() throws {
        XCTAssertEqual(try Bakefile.read("variable \"FOO\" {}\ntarget \"default\" {\n  args = {\n    foo = equal(FOO, \"\")\n  }\n}").targets.first?.args, ["foo": "true"])
    }

    func testEmptyVariableJSON() throws {
        XCTAssertNoThrow(try Bakefile.read(#"{"variable": {"VAR": {}}}"#, name: "docker-bake.json"))
    }

    func testFunctionNoParams() {
        XCTAssertFalse(Bakefile.error { try Bakefile.read("function \"foo\" {\n  result = \"bar\"\n}\ntarget \"foo_target\" {\n  args = {\n    test = foo()\n  }\n}") }.isEmpty)
    }

    func testFunctionNoResult() {
        XCTAssertFalse(Bakefile.error { try Bakefile.read("function \"foo\" {\n  params = [\"a\"]\n}") }.isEmpty)
    }

    func testVarUnsupportedType() {
        XCTAssertFalse(Bakefile.error { try Bakefile.read("variable \"FOO\" {\n  default = []\n}\ntarget \"default\" {}", environment: ["FOO": "bar"]) }.isEmpty)
    }

    func testHCLMultiFileGlobalAttrs() throws {
        let config = try Bakefile.read([("c1.hcl", "FOO = \"abc\"\ntarget \"app\" {\n  args = {\n    v1 = \"pre-${FOO}\"\n  }\n}"), ("c2.hcl", "FOO = \"def\"\n")])
        XCTAssertEqual(config.targets.count, 1)
        XCTAssertEqual(config.targets.first?.args, ["v1": "pre-def"])
    }

    func testHCLTargetAttrs() throws {
        let config = try Bakefile.read("target \"foo\" {\n  dockerfile = \"xxx\"\n  context = target.bar.context\n  target = target.foo.dockerfile\n}\ntarget \"bar\" {\n  dockerfile = target.foo.dockerfile\n  context = \"yyy\"\n  target = target.bar.context\n}")
        XCTAssertEqual(config.targets.map(\.name), ["foo", "bar"])
        XCTAssertEqual(config.targets[0].dockerfile, "xxx")
        XCTAssertEqual(config.targets[0].context, "yyy")
        XCTAssertEqual(config.targets[0].target, "xxx")
        XCTAssertEqual(config.targets[1].dockerfile, "xxx")
        XCTAssertEqual(config.targets[1].context, "yyy")
        XCTAssertEqual(config.targets[1].target, "yyy")
    }

    func testHCLTargetGlobal() throws {
        let config = try Bakefile.read("target \"foo\" {\n  dockerfile = \"x\"\n}\nx = target.foo.dockerfile\ny = x\ntarget \"bar\" {\n  dockerfile = y\n}")
        XCTAssertEqual(config.targets.map(\.name), ["foo", "bar"])
        XCTAssertEqual(config.targets.map(\.dockerfile), ["x", "x"])
    }

    func testHCLTargetAttrName() throws {
        let config = try Bakefile.read("target \"foo\" {\n  dockerfile = target.foo.name\n}")
        XCTAssertEqual(config.targets.count, 1)
        XCTAssertEqual(config.targets.first?.dockerfile, "foo")
    }

    func testHCLTargetAttrEmptyChain() throws {
        let config = try Bakefile.read("target \"foo\" {\n  # dockerfile = Dockerfile\n  context = target.foo.dockerfile\n  target = target.foo.context\n}")
        XCTAssertEqual(config.targets.count, 1)
        XCTAssertNil(config.targets.first?.dockerfile)
        XCTAssertNil(config.targets.first?.context)
        XCTAssertNil(config.targets.first?.target)
    }

    static let types = ["any", "string", "number", "bool", "list(string)", "set(string)", "map(string)", "tuple([string])", "object({val: string})"]

    func testHCLTypedNullVariables() throws {
        for type in Self.types {
            let hcl = "variable \"FOO\" {\n  type = \(type)\n  default = null\n}\ntarget \"default\" {\n  args = {\n    foo = equal(FOO, null)\n  }\n}"
            XCTAssertEqual(try Bakefile.read(hcl).targets.first?.args, ["foo": "true"], type)
        }
    }

    func testHCLTypedValuelessVariables() throws {
        for type in Self.types {
            let hcl = "variable \"FOO\" {\n  type = \(type)\n}\ntarget \"default\" {\n  args = {\n    foo = equal(FOO, null)\n  }\n}"
            XCTAssertEqual(try Bakefile.read(hcl).targets.first?.args, ["foo": "true"], type)
        }
    }

    func testHCLTypedValuelessVariablesUsedAsNull() throws {
        for type in ["any", "string", "number", "bool"] {
            func foo(_ expression: String) throws -> String?? {
                try Bakefile.read("variable \"FOO\" {\n  type = \(type)\n}\ntarget \"default\" {\n  args = {\n    foo = \(expression)\n  }\n}").targets.first?.args?["foo"]
            }
            XCTAssertEqual(try foo("FOO"), .some(nil), type)
            XCTAssertEqual(try foo(#"FOO == null ? "hi" : FOO"#), "hi", type)
            XCTAssertEqual(try foo(#"FOO == null ? FOO : "hi""#), .some(nil), type)
        }
    }

    func testDefaultVarTypeEnforcement() throws {
        let cases: [(type: String, value: String, argument: String, want: String?)] = [
            ("number", "99", "FOO + 1", "100"), ("number", #""99""#, "FOO + 1", "100"),
            ("bool", "true", "and(FOO, true)", "true"), ("bool", #""true""#, "and(FOO, true)", "true"),
            ("number", #""oops""#, "FOO", nil),
            ("list(number)", "[2,3]", #"join("", [for v in FOO: v + 1])"#, "34"),
            ("list(number)", #"["2","3"]"#, #"join("", [for v in FOO: v + 1])"#, "34"),
            ("list(number)", #"["oops"]"#, "FOO", nil),
        ]
        for (type, value, argument, want) in cases {
            let hcl = "variable \"FOO\" {\n  type = \(type)\n  default = \(value)\n}\ntarget \"default\" {\n  args = {\n    foo = \(argument)\n  }\n}"
            if let want {
                XCTAssertEqual(try Bakefile.read(hcl).targets.first?.args?["foo"] ?? nil, want, "\(type) \(value)")
            } else {
                XCTAssertTrue(Bakefile.error { try Bakefile.read(hcl) }.contains("invalid type"), "\(type) \(value)")
            }
        }
    }

    func testTypedVarOverrides() throws {
        let cases: [(type: String, override: String, argument: String, want: String?, error: String?)] = [
            ("bool", "true", "FOO", "true", nil), ("number", "99", "FOO", "99", nil), ("string", "hello", "FOO", "hello", nil),
            ("string", #""hello""#, "FOO", #""hello""#, nil),
            ("list(string)", "hi,there", #"join("-", FOO)"#, "hi-there", nil),
            ("list(number)", "3,1,4", #"join("-", [for v in FOO: v + 1])"#, "4-2-5", nil),
            ("set(number)", "3,1,4", #"join("-", [for v in sort(FOO): v + 1])"#, "2-4-5", nil),
            ("map(number)", "foo:1,bar:2", #"join("-", sort(values(FOO)))"#, "1-2", nil),
            ("tuple([number,string])", "99,bottles", #"format("%d %s", FOO[0], FOO[1])"#, "99 bottles", nil),
            ("tuple([number,string])", "99,100", "FOO", nil, "Unsuitable value type"),
            ("list(string)", #""hello,world"#, "FOO", nil, "from CSV"),
            ("object({message: string})", "does not matter", "FOO", nil, "unsupported type"),
            ("list(list(number))", "1,2", "FOO", nil, "unsupported type"),
            ("set(set(number))", "1,2", "FOO", nil, "unsupported type"),
            ("tuple([list(number)])", "1", "FOO", nil, "unsupported type"),
            ("map(list(number))", "foo:1,2", "FOO", nil, "unsupported type"),
            ("map(string)", #"a:b,foo:"bar"#, "FOO", nil, "as CSV"),
            ("list(number)", "1,1z", "FOO", nil, "failed to parse element"),
            ("set(number)", "1,1z", "FOO", nil, "failed to parse element"),
            ("tuple([number])", "1z", "FOO", nil, "failed to parse element"),
            ("map(number)", "foo:1z", "FOO", nil, "failed to parse element"),
            ("map(number)", "foo:1:1", "FOO", nil, "expected one k/v pair"),
            ("number", "1z", "FOO", nil, "failed to parse"),
        ]
        for (type, override, argument, want, error) in cases {
            let hcl = "variable \"FOO\" {\n  type = \(type)\n}\ntarget \"default\" {\n  args = {\n    foo = \(argument)\n  }\n}"
            if let error {
                let message = Bakefile.error { try Bakefile.read(hcl, environment: ["FOO": override]) }
                XCTAssertTrue(message.contains(error), "\(type) \(override): \(message)")
            } else {
                XCTAssertEqual(try Bakefile.read(hcl, environment: ["FOO": override]).targets.first?.args?["foo"] ?? nil, want, "\(type) \(override)")
            }
        }
    }

    func testTypedVarOverrides_JSON() throws {
        let cases: [(type: String, override: String, argument: String, want: String?, error: String?)] = [
            ("bool", "true", "FOO", "true", nil), ("number", "99", "FOO", "99", nil),
            ("string", "hello", "FOO", nil, "from JSON"), ("string", #""hello""#, "FOO", "hello", nil),
            ("list(string)", #"["hi","there"]"#, #"join("-", FOO)"#, "hi-there", nil),
            ("list(number)", "[3, 1, 4]", #"join("-", [for v in FOO: v + 1])"#, "4-2-5", nil),
            ("map(number)", #"{"foo": 1, "bar": 2}"#, #"join("-", sort(values(FOO)))"#, "1-2", nil),
            ("map(number)", #"{"foo": "oops", "bar": 2}"#, "FOO", nil, "from JSON"),
            ("tuple([number,string])", #"[99, "bottles"]"#, #"format("%d %s", FOO[0], FOO[1])"#, "99 bottles", nil),
            ("tuple([number,string])", "[99, 100]", "FOO", nil, "Unsuitable value type"),
            ("object({messages: list(string)})", #"{"messages": ["hi", "there"]}"#, #"join("-", FOO["messages"])"#, "hi-there", nil),
        ]
        for (type, override, argument, want, error) in cases {
            let hcl = "variable \"FOO\" {\n  type = \(type)\n}\ntarget \"default\" {\n  args = {\n    foo = \(argument)\n  }\n}"
            if let error {
                let message = Bakefile.error { try Bakefile.read(hcl, environment: ["FOO_JSON": override]) }
                XCTAssertTrue(message.contains(error), "\(type) \(override): \(message)")
            } else {
                XCTAssertEqual(try Bakefile.read(hcl, environment: ["FOO_JSON": override]).targets.first?.args?["foo"] ?? nil, want, "\(type) \(override)")
            }
        }
    }

    func testVarTypingSpec() throws {
        func hcl(_ type: String) -> String { "variable \"FOO\" {\n  type = \(type)\n}\ntarget \"default\" {\n}" }
        for type in ["bool", "number", "string", "any", "list(string)", "set(string)", "tuple([string, number])"] {
            XCTAssertNoThrow(try Bakefile.read(hcl(type)), type)
        }
        // No synonyms, case matters, and types are literals (not expressions).
        for type in ["boolean", "BOOL", #"lower("bool")"#] {
            let message = Bakefile.error { try Bakefile.read(hcl(type)) }
            XCTAssertTrue(message.contains("not a valid type"), "\(type): \(message)")
        }
    }

    func testDefaultVarTypeWithAttrValuesEnforcement() throws {
        let cases: [(value: String, type: String, fails: Bool)] = [
            (#""hello""#, "string", false),
            (#""99""#, "number", false),
            (#"substr("99 bottles", 0, 2)"#, "number", false),
            (#"split(",", "1,2,3foo")"#, "list(number)", true),
            ("99", "bool", true),
            (#"split(",", "1,2,3")"#, "list(number)", false),
        ]
        for (value, type, fails) in cases {
            let hcl = "BAR = \(value)\nvariable \"FOO\" {\n  type = \(type)\n  default = BAR\n}\ntarget \"default\" {\n}"
            if fails {
                let message = Bakefile.error { try Bakefile.read(hcl) }
                XCTAssertTrue(message.contains("invalid type"), "\(value) as \(type): \(message)")
                XCTAssertTrue(message.contains("FOO default value"), "\(value) as \(type): \(message)")
            } else {
                XCTAssertNoThrow(try Bakefile.read(hcl), "\(value) as \(type)")
            }
        }
    }

    func testJSONOverridePriority() throws {
        func foo(_ hcl: String, _ environment: [String: String], arg: String = "foo") throws -> String? {
            try Bakefile.read(hcl, environment: environment).targets.first?.args?[arg] ?? nil
        }
        func hcl(_ declarations: String, _ argument: String, arg: String = "foo") -> String {
            "\(declarations)\ntarget \"default\" {\n  args = {\n    \(arg) = \(argument)\n  }\n}"
        }
        // JSON override ignored when a user variable of the same name exists: FOO_JSON is the
        // CSV override of the variable FOO_JSON, not a JSON override of FOO.
        let both = hcl("variable \"FOO\" {\n  type = list(number)\n}\nvariable \"FOO_JSON\" {\n  type = list(number)\n}", "FOO")
        var message = Bakefile.error { try foo(both, ["FOO": "[1,2]", "FOO_JSON": "[3,4]"]) as Any }
        XCTAssertTrue(message.contains("failed to convert") && message.contains("from CSV"), message)
        // (The upstream "same builtin var exists" sub-case needs a built-in variable named
        // NAME_JSON; slipway's built-ins are BAKE_CMD_CONTEXT and BAKE_LOCAL_PLATFORM only.)
        // JSON override ignored if the variable is untyped.
        let untyped = hcl("variable \"FOO\" {\n  default = [1, 2]\n}", "length(FOO)")
        message = Bakefile.error { try foo(untyped, ["FOO_JSON": "[3,4]"]) as Any }
        XCTAssertTrue(message.contains("unsupported type"), message)
        // An override-ish variable has a regular CSV override…
        let overrideish = hcl("variable \"FOO_JSON\" {\n  type = list(number)\n}", "length(FOO_JSON)")
        XCTAssertEqual(try foo(overrideish, ["FOO_JSON": "10,11,12"]), "3")
        message = Bakefile.error { try foo(overrideish, ["FOO_JSON": "[10,11,12]"]) as Any }
        XCTAssertTrue(message.contains("from CSV"), message)
        // …and its own JSON override.
        XCTAssertEqual(try foo(overrideish, ["FOO_JSON_JSON": "[4,5,6]"]), "3")
        // JSON override trumps CSV when no variable name conflicts.
        let typed = hcl("variable \"FOO\" {\n  type = list(number)\n}", "length(FOO)")
        XCTAssertEqual(try foo(typed, ["FOO": "1,2", "FOO_JSON": "[3,4,5]"]), "3")
        // The suffix is case-sensitive: foo_json is no override of foo, foo_JSON is.
        let lower = hcl("variable \"foo\" {\n  type = number\n  default = 101\n}", "foo", arg: "bar")
        XCTAssertEqual(try foo(lower, ["foo_json": "9000"], arg: "bar"), "101")
        XCTAssertEqual(try foo(lower, ["foo_JSON": "42"], arg: "bar"), "42")
    }
}
