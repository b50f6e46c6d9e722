import Bake
import Foundation
import XCTest

/// docker/buildx `bake/compose_test.go`, ported (the rows of Tests/BuildxBakeConformance.md):
/// slipway reads compose files with its own bounded YAML reader.
final class BuildxComposeConformanceTests: XCTestCase {
    func compose(_ yaml: String, environment: [String: String] = [:]) throws -> BakeConfig {
        try Bakefile.read([("docker-compose.yml", yaml)], environment: environment)
    }

    func target(_ config: BakeConfig, _ name: String) -> BakeTarget? { config.target(name) }

    func testParseCompose() throws {
        let yaml = """
        services:
          db:
            build: ./db
            command: ./entrypoint.sh
            image: docker.io/tonistiigi/db
          webapp:
            build:
              context: ./dir
              additional_contexts:
                foo: ./bar
              dockerfile: Dockerfile-alternate
              network:
                none
              args:
                buildno: 123
              cache_from:
                - type=local,src=path/to/cache
              cache_to:
                - type=local,dest=path/to/cache
              extra_hosts:
                - "somehost:162.242.195.82"
                - "somehost:162.242.195.83"
                - "myhostv6:::1"
              ssh:
                - key=/path/to/key
                - default
              secrets:
                - token
                - aws
          webapp2:
            profiles:
              - test
            build:
              context: ./dir
              dockerfile_inline: |
                FROM alpine
        secrets:
          token:
            environment: ENV_TOKEN
          aws:
            file: /root/.aws/credentials
        """
        let config = try compose(yaml)
        XCTAssertEqual(config.groups.map(\.name), ["default"])
        XCTAssertEqual(config.groups.first?.targets, ["db", "webapp", "webapp2"])
        XCTAssertEqual(config.targets.count, 3)
        XCTAssertEqual(target(config, "db")?.context, "db")
        XCTAssertEqual(target(config, "db")?.tags, ["docker.io/tonistiigi/db"])
        let webapp = try XCTUnwrap(target(config, "webapp"))
        XCTAssertEqual(webapp.context, "dir")
        XCTAssertEqual(webapp.contexts, ["foo": "bar"])
        XCTAssertEqual(webapp.dockerfile, "Dockerfile-alternate")
        XCTAssertEqual(webapp.args, ["buildno": "123"])
        XCTAssertEqual(Bakefile.strings(webapp.cacheFrom), ["type=local,src=path/to/cache"])
        XCTAssertEqual(Bakefile.strings(webapp.cacheTo), ["type=local,dest=path/to/cache"])
        XCTAssertEqual(webapp.extraHosts, ["myhostv6": "::1", "somehost": "162.242.195.82,162.242.195.83"])
        XCTAssertEqual(webapp.network, "none")
        XCTAssertEqual(webapp.ssh?.map(\.attributes).sorted { ($0["id"] ?? "") < ($1["id"] ?? "") }, [["id": "default"], ["id": "key", "paths": "/path/to/key"]])
        XCTAssertEqual(webapp.secret?.map(\.attributes).sorted { ($0["id"] ?? "") < ($1["id"] ?? "") },
                       [["id": "aws", "src": "/root/.aws/credentials"], ["id": "token", "env": "ENV_TOKEN"]])
        XCTAssertEqual(target(config, "webapp2")?.context, "dir")
        XCTAssertEqual(target(config, "webapp2")?.dockerfileInline, "FROM alpine\n")
    }

    func testNoBuildOutOfTreeService() throws {
        let config = try compose("services:\n    external:\n        image: \"verycooldb:1337\"\n    webapp:\n        build: ./db\n")
        XCTAssertEqual(config.groups.count, 1)
        XCTAssertEqual(config.targets.count, 1)
    }

    func testParseComposeTarget() throws {
        let config = try compose("services:\n  db:\n    build:\n      context: ./db\n      target: db\n  webapp:\n    build:\n      context: .\n      target: webapp\n")
        XCTAssertEqual(config.targets.count, 2)
        XCTAssertEqual(target(config, "db")?.target, "db")
        XCTAssertEqual(target(config, "webapp")?.target, "webapp")
    }

    func testComposeBuildWithoutContext() throws {
        let config = try compose("services:\n  db:\n    build:\n      target: db\n  webapp:\n    build:\n      context: .\n      target: webapp\n")
        XCTAssertEqual(config.targets.count, 2)
        XCTAssertEqual(target(config, "db")?.target, "db")
        XCTAssertNil(target(config, "db")?.context)
        XCTAssertEqual(target(config, "webapp")?.target, "webapp")
    }

    func testBuildArgEnvCompose() throws {
        let yaml = "version: \"3.8\"\nservices:\n  example:\n    image: example\n    build:\n      context: .\n      dockerfile: Dockerfile\n      args:\n        FOO:\n        BAR: $ZZZ_BAR\n        BRB: FOO\n"
        let config = try compose(yaml, environment: ["FOO": "bar", "BAR": "foo", "ZZZ_BAR": "zzz_foo"])
        XCTAssertEqual(config.targets.first?.args, ["FOO": "bar", "BAR": "zzz_foo", "BRB": "FOO"])
    }

    func testInconsistentComposeFile() {
        XCTAssertTrue(Bakefile.error { try self.compose("services:\n  webapp:\n    entrypoint: echo 1\n") }.contains("has neither an image nor a build context specified"))
    }

    func testTags() throws {
        let config = try compose("services:\n  example:\n    image: example\n    build:\n      context: .\n      dockerfile: Dockerfile\n      tags:\n        - foo\n        - bar\n")
        XCTAssertEqual(config.targets.first?.tags, ["foo", "bar"])
    }

    func testPlatforms() throws {
        let config = try compose("services:\n  foo:\n    build:\n      context: .\n      platforms:\n        - linux/amd64\n        - linux/arm64\n")
        XCTAssertEqual(config.targets.first?.platforms, ["linux/amd64", "linux/arm64"])
    }

    func testServiceName() throws {
        for name in ["a", "abc", "a.b", "_a", "a_b", "AbC", "AbC-0123"] {
            XCTAssertNoThrow(try compose("services:\n  \(name):\n    build:\n      context: .\n"), name)
        }
    }

    func testComposeNullArgs() throws {
        let config = try compose("services:\n  scratch:\n    build:\n     context: .\n     args:\n        FOO: null\n        bar: \"baz\"\n")
        XCTAssertEqual(config.targets.first?.args, ["bar": "baz"])
    }

    func testServiceContext() throws {
        let config = try compose("services:\n  base:\n    build:\n      dockerfile: baseapp.Dockerfile\n    command: ./entrypoint.sh\n  webapp:\n    build:\n      context: ./dir\n      additional_contexts:\n        base: service:base\n")
        XCTAssertEqual(config.groups.first?.targets, ["base", "webapp"])
        XCTAssertEqual(target(config, "webapp")?.contexts, ["base": "target:base"])
    }

    func testUnknownBuildField() {
        let message = Bakefile.error { try Bakefile.read([("compose.yml", "services:\n  webapp:\n    build:\n     context: .\n     foo: bar\n")]) }
        XCTAssertTrue(message.hasPrefix("compose.yml:5:11: unknown key 'foo'"), message)
    }

    func testEmptyComposeFile() {
        XCTAssertTrue(Bakefile.error { try Bakefile.read([("compose.yml", "")]) }.contains("empty compose file"))
    }

    func testParseComposeAttests() throws {
        let config = try compose("services:\n  app:\n    build:\n      context: .\n      sbom: true\n      provenance: mode=max\n")
        XCTAssertEqual(Bakefile.strings(config.targets.first?.attest), ["type=provenance,mode=max", "type=sbom"])
    }

    func testParseComposeAttestsDisabled() throws {
        let config = try compose("services:\n  app:\n    build:\n      context: .\n      sbom: false\n      provenance: false\n")
        XCTAssertEqual(Bakefile.strings(config.targets.first?.attest), ["type=provenance,disabled=true", "type=sbom,disabled=true"])
    }

    func testParseComposePull() throws {
        XCTAssertEqual(try compose("services:\n  app:\n    build:\n      context: .\n      pull: true\n").targets.first?.pull, true)
    }

    func testParseComposeNoCache() throws {
        XCTAssertEqual(try compose("services:\n  app:\n    build:\n      context: .\n      no_cache: true\n").targets.first?.noCache, true)
    }

    func testParseComposeEmptyCacheLists() throws {
        let config = try compose("services:\n  webapp:\n    build:\n      context: ./dir\n      cache_from: []\n      cache_to: []\n")
        XCTAssertEqual(config.targets.count, 1)
        XCTAssertTrue(config.targets[0].cacheFrom?.isEmpty ?? true)
        XCTAssertTrue(config.targets[0].cacheTo?.isEmpty ?? true)
    }

    /// TestPorts, TestDependsOn, TestDevelop, TestCgroup, TestAdvancedNetwork, TestDependsOnList,
    /// TestUnknownField: service keys other than build/image are no concern of bake.
    func testOtherServiceKeysAreAccepted() throws {
        let files = [
            "services:\n  foo:\n    build:\n     context: .\n    ports:\n      - 3306:3306\n  bar:\n    build:\n     context: .\n    ports:\n      - mode: ingress\n        target: 3306\n        published: \"3306\"\n        protocol: tcp\n",
            "services:\n  foo:\n    build:\n     context: .\n    ports:\n      - 3306:3306\n    depends_on:\n      - bar\n  bar:\n    build:\n     context: .\n",
            "services:\n  scratch:\n    build:\n     context: ./webapp\n    develop:\n      watch: \n        - path: ./webapp/html\n          action: sync\n          target: /var/www\n          ignore:\n            - node_modules/\n",
            "services:\n  scratch:\n    build:\n     context: ./webapp\n    cgroup: private\n",
            "services:\n  db:\n    networks:\n      - example.com\n    build:\n      context: ./db\n      target: db\nnetworks:\n  example.com:\n    name: example.com\n    driver: bridge\n    ipam:\n      config:\n        - subnet: 10.5.0.0/24\n          ip_range: 10.5.0.0/24\n          gateway: 10.5.0.254\n",
            "version: \"3.8\"\nservices:\n  example-container:\n    image: example/fails:latest\n    build:\n      context: .\n      dockerfile: Dockerfile\n    depends_on:\n      other-container:\n        condition: service_healthy\n    networks:\n      default:\n        aliases:\n          - integration-tests\n  other-container:\n    image: example/other:latest\n    healthcheck:\n      test: [\"CMD\", \"echo\", \"success\"]\n      retries: 5\n      interval: 5s\n      timeout: 10s\n      start_period: 5s\nnetworks:\n  default:\n    name: test-net\n",
            "services:\n  webapp:\n    bar: baz\n    build:\n     context: .\nfoo:\n  - bar.baz\n",
        ]
        for yaml in files { XCTAssertNoThrow(try compose(yaml), yaml) }
    }

    func testServiceContextDot() throws {
        let yaml = "services:\n  base.1:\n    build:\n      dockerfile: baseapp.Dockerfile\n    command: ./entrypoint.sh\n  foo.1:\n    build:\n      dockerfile: fooapp.Dockerfile\n    command: ./entrypoint.sh\n  webapp:\n    build:\n      context: ./dir\n      additional_contexts:\n        base: service:base.1\n      x-bake:\n        contexts:\n          foo: target:foo.1\n"
        let config = try compose(yaml)
        XCTAssertEqual(config.groups.first?.targets, ["base_1", "foo_1", "webapp"])
        XCTAssertEqual(config.targets.count, 3)
        XCTAssertEqual(target(config, "webapp")?.contexts, ["base": "target:base_1", "foo": "target:foo_1"])
    }

    func testProjectName() throws {
        let yaml = "services:\n  scratch:\n    build:\n     context: ./webapp\n     args:\n       PROJECT_NAME: ${COMPOSE_PROJECT_NAME}\n"
        XCTAssertEqual(try compose(yaml).targets.first?.args, ["PROJECT_NAME": "bake"])
        XCTAssertEqual(try compose(yaml, environment: ["COMPOSE_PROJECT_NAME": "foo"]).targets.first?.args, ["PROJECT_NAME": "foo"])
    }

    func testDotEnv() throws {
        let directory = NSTemporaryDirectory() + "bake-dotenv-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data("FOO=bar".utf8).write(to: URL(fileURLWithPath: directory + "/.env"))
        let yaml = "services:\n  scratch:\n    build:\n     context: .\n     args:\n        FOO:\n"
        let config = try BakeFileReader.read([BakeFile(name: "docker-compose.yml", text: yaml)], environment: [:], dotEnv: DotEnv.read(directory: directory))
        XCTAssertEqual(config.targets.first?.args, ["FOO": "bar"])
    }

    func testDotEnvDir() throws {
        let directory = NSTemporaryDirectory() + "bake-dotenv-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory + "/.env", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        XCTAssertNil(DotEnv.read(directory: directory))
        XCTAssertNoThrow(try BakeFileReader.read([BakeFile(name: "compose.yml", text: "services:\n  foo:\n    build:\n     context: .\n")],
                                                 environment: [:], dotEnv: DotEnv.read(directory: directory)))
    }

    func testDotEnvEvaluate() throws {
        let dotEnv = "\nTEST_VALUE=${SYSTEM_VALUE:?system_value_not_set}\nFOO_VALUE=${TEST_VALUE:?test_value_not_set}\n"
        let yaml = "services:\n  test:\n    build:\n      args:\n        TEST_VALUE:\n        FOO_VALUE:\n"
        let config = try BakeFileReader.read([BakeFile(name: "compose.yml", text: yaml)], environment: ["SYSTEM_VALUE": "abc"], dotEnv: dotEnv)
        XCTAssertEqual(config.targets.first?.args, ["TEST_VALUE": "abc", "FOO_VALUE": "abc"])
    }

    func testEnv() throws {
        let file = NSTemporaryDirectory() + "bake-env-\(UUID().uuidString)"
        try Data("FOO=bsdf -csdf\n".utf8).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let yaml = "services:\n  scratch:\n    build:\n     context: .\n     args:\n        CT_ECR: foo\n        FOO:\n        NODE_ENV:\n    environment:\n      - NODE_ENV=test\n      - AWS_ACCESS_KEY_ID=dummy\n      - AWS_SECRET_ACCESS_KEY=dummy\n    env_file:\n      - \(file)\n"
        XCTAssertEqual(try compose(yaml).targets.first?.args, ["CT_ECR": "foo", "FOO": "bsdf -csdf", "NODE_ENV": "test"])
    }

    func testComposeExtDedup() throws {
        let yaml = """
        services:
          webapp:
            image: app:bar
            build:
              cache_from:
                - user/app:cache
              cache_to:
                - user/app:cache
              tags:
                - ct-addon:foo
              ssh:
                - default
              x-bake:
                tags:
                  - ct-addon:foo
                  - ct-addon:baz
                cache-from:
                  - user/app:cache
                  - type=local,src=path/to/cache
                cache-to:
                  - type=local,dest=path/to/cache
                ssh:
                  - default
                  - key=path/to/key

        """
        let config = try compose(yaml)
        XCTAssertEqual(config.targets.count, 1)
        let webapp = try XCTUnwrap(config.targets.first)
        XCTAssertEqual(webapp.tags, ["ct-addon:foo", "ct-addon:baz"])
        // buildx prints `user/app:cache`, `default` and `key=path/to/key`; slipway's entries spell
        // out what those shorthands mean.
        XCTAssertEqual(Bakefile.strings(webapp.cacheFrom), ["type=local,src=path/to/cache", "type=registry,ref=user/app:cache"])
        XCTAssertEqual(Bakefile.strings(webapp.cacheTo), ["type=local,dest=path/to/cache", "type=registry,ref=user/app:cache"])
        XCTAssertEqual(Bakefile.strings(webapp.ssh), ["id=default", "id=key,paths=path/to/key"])
    }

    func testInclude() throws {
        let directory = NSTemporaryDirectory() + "bake-include-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let foo = "services:\n  foo:\n    build:\n     context: .\n     target: buildfoo\n    ports:\n      - 3306:3306\n"
        try Data(foo.utf8).write(to: URL(fileURLWithPath: directory + "/compose-foo.yml"))
        let yaml = "include:\n  - compose-foo.yml\n\nservices:\n  bar:\n    build:\n     context: .\n     target: buildbar\n"
        let config = try Bakefile.read([(directory + "/composetypes.yml", yaml)])
        let targets = config.targets.sorted { $0.name < $1.name }
        XCTAssertEqual(targets.map(\.name), ["bar", "foo"])
        XCTAssertEqual(targets.map(\.target), ["buildbar", "buildfoo"])
    }
}
