import Bake
import XCTest

/// docker/buildx `bake/hclparser/stdlib_test.go`, ported: each function called from a bake
/// file, as users call it.
final class BuildxStdlibConformanceTests: XCTestCase {
    func value(_ expression: String) throws -> String? {
        let config = try Bakefile.read("target \"t\" {\n  args = {\n    v = \(expression)\n  }\n}")
        return config.targets.first?.args?["v"] ?? nil
    }

    func testIndexOf() throws {
        XCTAssertEqual(try value(#"indexof(["one", 2, 3, "four"], "one")"#), "0")
        XCTAssertEqual(try value(#"indexof(["one", 2, 3, "four"], "four")"#), "3")
        XCTAssertThrowsError(try value(#"indexof(["one", 2, 3, "four"], "3")"#))
    }

    func testBasename() throws {
        for (input, want) in [("", "."), ("/", "/"), ("/foo/bar", "bar"), ("foo/bar", "bar"), ("/foo/bar.", "bar."), ("/foo/bar..", "bar.."), ("/foo/bar...", "bar...")] {
            XCTAssertEqual(try value("basename(\"\(input)\")"), want, input)
        }
    }

    func testDirname() throws {
        for (input, want) in [("", "."), ("/", "/"), ("/foo/bar", "/foo"), ("foo/bar", "foo"), ("/foo/bar.", "/foo"), ("/foo/bar..", "/foo"), ("/foo/bar...", "/foo")] {
            XCTAssertEqual(try value("dirname(\"\(input)\")"), want, input)
        }
    }

    func testSanitize() throws {
        for (input, want) in [("", ""), ("foo/bar", "foo_bar"), ("foobar", "foobar"), ("foo/bar.", "foo_bar_"), ("foo/bar..", "foo_bar__"),
                              ("foo/bar...", "foo_bar___"), ("foo/🍕bar", "foo__bar"), ("foo/bar!@(ba+z)", "foo_bar___ba_z_")] {
            XCTAssertEqual(try value("sanitize(\"\(input)\")"), want, input)
        }
    }

    func testHomedir() throws {
        let home = try XCTUnwrap(try value("homedir()"))
        XCTAssertFalse(home.isEmpty)
        XCTAssertTrue(home.hasPrefix("/"))
    }
}

/// slipway's own cases: what a bake file user gets for a mistake (FILE:LINE:COLUMN and what
/// to change), HCL's syntax corners, and the common functions the buildx docs use.
final class BakeSyntaxTests: XCTestCase {
    func testSyntaxErrorsNameFileLineAndColumn() {
        let cases: [(String, String, String)] = [
            ("docker-bake.hcl", "target \"app\" {\n  tags = [\"a\" \"b\"]\n}\n", "docker-bake.hcl:2:15: expected ',' or ']' in the list"),
            ("docker-bake.hcl", "target \"app\" {\n  context = \"x\n}\n", "docker-bake.hcl:2:15: a quoted string cannot span lines"),
            ("docker-bake.hcl", "target \"app\" {\n  contxt = \".\"\n}\n", "docker-bake.hcl:2:3: unknown key 'contxt' in target 'app'"),
            ("docker-bake.hcl", "targte \"app\" {\n}\n", "docker-bake.hcl:1:1: unknown block type 'targte'"),
            ("docker-bake.hcl", "target \"app\" {\n  tags = [\"${NOPE}\"]\n}\n", "docker-bake.hcl:2:14: unknown variable 'NOPE'"),
            ("docker-bake.hcl", "target \"app\" {\n  args = { A = nosuch(1) }\n}\n", "docker-bake.hcl:2:16: nosuch(): unknown function"),
            ("docker-bake.hcl", "/* open\ntarget \"app\" {}\n", "docker-bake.hcl:1:1: unterminated /* comment"),
            ("docker-bake.hcl", "target \"app\" {\n  dockerfile-inline = <<EOT\nFROM scratch\n", "docker-bake.hcl:2:23: heredoc 'EOT' is never closed"),
            ("docker-bake.json", "{\n  \"target\": {\n    \"app\": {\n      \"contxt\": \".\"\n    }\n  }\n}\n", "docker-bake.json:4:7: unknown key 'contxt' in target 'app'"),
            ("docker-bake.json", "{\n  \"target\": {\n    \"app\": {\"tags\": [\"a\",]}\n  }\n}\n", "docker-bake.json:3:26: unexpected character in JSON"),
            ("compose.yaml", "services:\n  app:\n    build:\n      contxt: .\n", "compose.yaml:4:15: unknown key 'contxt' in the build section of service 'app'"),
            ("compose.yaml", "services:\n  app:\n    build:\n      context: \"unterminated\n", "compose.yaml:4:16: unterminated double-quoted string"),
            // Found by scripts/fuzz (bake): a flow sequence closed by '}' looped forever.
            ("compose.yaml", "services:\n  a:\n    build:\n      platforms: [linux/amd64}\n", "compose.yaml:4:30: expected ',' or ']' in the flow sequence"),
            ("compose.yaml", "services:\n  a:\n    build:\n      args: {A: 1]\n", "compose.yaml:4:18: expected ',' or '}' in the flow mapping"),
            ("docker-bake.hcl", String(repeating: "[", count: 5000), "docker-bake.hcl:1:1: expected an attribute name"),
            ("docker-bake.hcl", "x = " + String(repeating: "[", count: 5000), "docker-bake.hcl:1:"),
            ("docker-bake.hcl", "x = " + String(repeating: "!", count: 5000) + "true", "docker-bake.hcl:1:"),
            ("docker-bake.hcl", "x = 1" + String(repeating: " + 1", count: 5000), "docker-bake.hcl:1:"),
            // Found by scripts/fuzz (bake): a number too large for an integer trapped in format("%d").
            ("docker-bake.hcl", "variable \"N\" { default = 1\(String(repeating: "2", count: 300)) }\ntarget \"a\" {\n  args = { A = format(\"%d\", N) }\n}\n", "docker-bake.hcl:3:16: format(): "),
            ("docker-bake.hcl", "target \"a\" {\n  tags = [substr(\"abc\", 1e300, 1), element([\"a\"], -1e300)]\n}\n", "docker-bake.hcl:2:11: substr(): "),
            // Values that multiply: doubling a string, nested for expressions.
            ("docker-bake.hcl", "a0 = \"xxxxxxxxxxxxxxxx\"\n" + (1...40).map { "a\($0) = \"${a\($0 - 1)}${a\($0 - 1)}\"" }.joined(separator: "\n") + "\ntarget \"t\" {\n  args = { A = a40 }\n}\n", "docker-bake.hcl:"),
            ("docker-bake.hcl", "target \"t\" {\n  tags = flatten([for a in range(1000) : [for b in range(1000) : [for c in range(1000) : \"x\"]]])\n}\n", "docker-bake.hcl:"),
        ]
        for (name, text, expected) in cases {
            let message = Bakefile.error { try Bakefile.read([(name, text)]) }
            XCTAssertTrue(message.hasPrefix(expected), "\(name): got \(message), want \(expected)")
        }
    }

    func testCircularInheritsAndGroupsAreRefused() {
        let inherits = "target \"a\" {\n  inherits = [\"b\"]\n}\ntarget \"b\" {\n  inherits = [\"c\"]\n}\ntarget \"c\" {\n  inherits = [\"a\"]\n}\n"
        XCTAssertEqual(Bakefile.error { try Bakefile.plan(inherits, ["a"]) }, "docker-bake.hcl:1:1: target 'a' inherits from itself (a → b → c → a)")
        let groups = "group \"x\" {\n  targets = [\"y\"]\n}\ngroup \"y\" {\n  targets = [\"x\"]\n}\n"
        XCTAssertEqual(Bakefile.error { try Bakefile.plan(groups, ["x"]) }, "docker-bake.hcl:1:1: group 'x' includes itself (x → y → x)")
        let missing = "target \"a\" {\n  inherits = [\"nope\"]\n}\n"
        XCTAssertEqual(Bakefile.error { try Bakefile.plan(missing, ["a"]) }, "docker-bake.hcl:1:1: target 'a' inherits from 'nope', which is not defined")
    }

    func testInheritsApplyInOrderLaterWins() throws {
        let hcl = """
        target "one" {
          tags = ["one"]
          args = { A = "1", B = "1" }
          platforms = ["linux/amd64"]
        }
        target "two" {
          tags = ["two"]
          args = { B = "2" }
        }
        target "app" {
          inherits = ["one", "two"]
          args = { C = "3" }
        }
        """
        let app = try XCTUnwrap(try Bakefile.plan(hcl, ["app"]).targets["app"])
        XCTAssertEqual(app.tags, ["two"])
        XCTAssertEqual(app.args, ["A": "1", "B": "2", "C": "3"])
        XCTAssertEqual(app.platforms, ["linux/amd64"])
        XCTAssertNil(app.inherits, "resolved targets print no inherits, as buildx")
    }

    func testCommentsHeredocsNumbersBoolsAndOperators() throws {
        let hcl = """
        # hash comment
        // slash comment
        /* block
           comment */
        variable "N" { default = 2 }
        variable "ON" { default = true }
        target "app" { # trailing comment
          dockerfile-inline = <<-EOT
            FROM scratch
            COPY ${N} /n
            EOT
          args = {
            SUM = N * 3 + 1
            NEG = -N
            ON = ON && !false
            CMP = N >= 2 ? "big" : "small"
            MOD = 7 % N
            ESC = "a\\tb\\"c\\u00e9"
            LIT = "$${KEEP} %%{KEEP}"
          }
          tags = [for v in ["a", "b"] : "repo/${v}" if v != "b"]
          labels = {for k, v in { x = "1", y = "2" } : "l.${k}" => v}
        }
        """
        let app = try XCTUnwrap(try Bakefile.read(hcl).targets.first)
        XCTAssertEqual(app.dockerfileInline, "FROM scratch\nCOPY 2 /n\n")
        XCTAssertEqual(app.args, ["SUM": "7", "NEG": "-2", "ON": "true", "CMP": "big", "MOD": "1", "ESC": "a\tb\"cé", "LIT": "${KEEP} %{KEEP}"])
        XCTAssertEqual(app.tags, ["repo/a"])
        XCTAssertEqual(app.labels, ["l.x": "1", "l.y": "2"])
    }

    func testCommonFunctions() throws {
        let cases: [(String, String)] = [
            (#"notequal("a", "b")"#, "true"), (#"equal(1, 1)"#, "true"), (#"and(true, false)"#, "false"), (#"or(false, true)"#, "true"),
            (#"join(",", ["a", "b"], ["c"])"#, "a,b,c"), (#"join("-", split(".", "1.2.3"))"#, "1-2-3"), (#"lower("ABC")"#, "abc"),
            (#"upper("abc")"#, "ABC"), (#"replace("a.b.c", ".", "-")"#, "a-b-c"), (#"replace("v1.2.3", "/^v([0-9]+).*/", "$1")"#, "1"),
            (#"trimprefix("refs/tags/v1", "refs/tags/")"#, "v1"), (#"trimsuffix("app.tar", ".tar")"#, "app"), (#"coalesce("", "x")"#, "x"),
            (#"format("%s-%d-%05.1f", "a", 7, 3.14159)"#, "a-7-003.1"), (#"length(["a", "b"])"#, "2"), (#"substr("abcdef", 1, 3)"#, "bcd"),
            (##"regex_replace("a1b22", "[0-9]+", "#")"##, "a#b#"), (#"element(["a", "b"], 3)"#, "b"), (#"lookup({a = "1"}, "b", "d")"#, "d"),
            (#"trimspace("  x ")"#, "x"), (#"title("hello world")"#, "Hello World"), (#"jsonencode({b = [1, true], a = "x"})"#, #"{"a":"x","b":[1,true]}"#),
            (#"base64encode("hi")"#, "aGk="), (#"max(1, 5, 3)"#, "5"), (#"join(",", distinct(["a", "a", "b"]))"#, "a,b"),
            (#"join(",", concat(["a"], ["b"]))"#, "a,b"), (#"contains(["a"], "a")"#, "true"), (#"join(",", keys(merge({a = 1}, {b = 2})))"#, "a,b"),
        ]
        for (expression, want) in cases {
            let config = try Bakefile.read("target \"t\" {\n  args = {\n    v = \(expression)\n  }\n}")
            XCTAssertEqual(config.targets.first?.args?["v"] ?? nil, want, expression)
        }
        XCTAssertTrue(Bakefile.error { try Bakefile.read("target \"t\" {\n  args = { v = timestamp() }\n}") }.contains("reproducible"))
    }

    func testSetOverridesWithGlobsAndAppend() throws {
        let hcl = "target \"app\" {\n  tags = [\"a\"]\n}\ntarget \"api\" {\n  tags = [\"b\"]\n}\ntarget \"web\" {}\n"
        let plan = try Bakefile.plan(hcl, ["app", "api", "web"], ["a*.tags+=extra", "*.platform=linux/arm64", "web.args.X=1", "app.labels.l=v", "api.target=prod"])
        XCTAssertEqual(plan.targets["app"]?.tags, ["a", "extra"])
        XCTAssertEqual(plan.targets["api"]?.tags, ["b", "extra"])
        XCTAssertEqual(plan.targets["web"]?.platforms, ["linux/arm64"])
        XCTAssertEqual(plan.targets["web"]?.args, ["X": "1"])
        XCTAssertEqual(plan.targets["app"]?.labels, ["l": "v"])
        XCTAssertEqual(plan.targets["api"]?.target, "prod")
        XCTAssertEqual(Bakefile.error { try Bakefile.plan(hcl, ["app"], ["app.nope=1"]) }.prefix(31), "--set 'app.nope=1': unknown key")
        XCTAssertTrue(Bakefile.error { try Bakefile.plan(hcl, ["app"], ["zzz.tags=x"]) }.contains("could not find any target matching 'zzz'"))
    }

    func testComposeYAMLSubset() throws {
        let yaml = """
        # a compose file with anchors, flow collections and block scalars
        x-common: &common
          platforms: [linux/amd64, "linux/arm64"]
          args: {A: "1", B: '2'}
        services:
          api:
            image: registry.example.com/api:${TAG:-dev}
            build:
              <<: *common
              context: ./api
              dockerfile_inline: >-
                FROM scratch
                COPY . /
              labels:
                - "org.example.team=core"
          'db':
            image: postgres
        """
        let config = try Bakefile.read([("compose.yaml", yaml)], environment: ["TAG": "1.2"])
        let api = try XCTUnwrap(config.target("api"))
        XCTAssertEqual(api.platforms, ["linux/amd64", "linux/arm64"])
        XCTAssertEqual(api.args, ["A": "1", "B": "2"])
        XCTAssertEqual(api.context, "api")
        XCTAssertEqual(api.dockerfileInline, "FROM scratch COPY . /")
        XCTAssertEqual(api.labels, ["org.example.team": "core"])
        XCTAssertEqual(api.tags, ["registry.example.com/api:1.2"])
        XCTAssertNil(config.target("db"), "a service without build is no target")
        XCTAssertEqual(config.groups.first?.targets, ["api"])
        XCTAssertTrue(Bakefile.error { try Bakefile.read([("compose.yaml", "services:\n  a:\n    build: !!str .\n")]) }.contains("compose.yaml:3:12: YAML tags"))
    }
}
