import TestSupport
import XCTest
@testable import Dockerfile

/// The typed instruction layer: each instruction's shape, flag validation, stage grouping, and
/// errors with their line numbers.
final class InstructionTests: XCTestCase {
    func plan(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> DockerfilePlan {
        try InstructionParser.plan(DockerfileParser.parse(text))
    }

    /// The kinds of the first stage's instructions for a Dockerfile body after `FROM base`.
    func kinds(_ body: String) throws -> [InstructionKind] {
        try plan("FROM base\n" + body).stages[0].instructions.map(\.kind)
    }

    func kind(_ instruction: String) throws -> InstructionKind {
        let all = try kinds(instruction + "\n")
        XCTAssertEqual(all.count, 1)
        return all[0]
    }

    /// The error for a Dockerfile, which must not plan.
    func error(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> InstructionError? {
        thrownError(InstructionError.self, file: file, line: line) { _ = try plan(text) }
    }

    func assertError(_ text: String, line expectedLine: Int, contains fragment: String,
                     file: StaticString = #filePath, line: UInt = #line) {
        guard let e = error(text, file: file, line: line) else { return }
        XCTAssertEqual(e.line, expectedLine, e.message, file: file, line: line)
        XCTAssertTrue(e.message.contains(fragment), "\(e.message) does not contain \(fragment)", file: file, line: line)
    }

    // MARK: stages

    func testStagesAndGlobalArgs() throws {
        let p = try plan("""
            # syntax=docker/dockerfile:1
            ARG BASE=alpine
            ARG VERSION
            FROM --platform=$BUILDPLATFORM $BASE:${VERSION} AS Build
            RUN make
            ARG VERSION
            FROM scratch
            COPY --from=build /out /
            from busybox as Final-1.x
            """)
        XCTAssertEqual(p.globalArgs, [ArgDefinition(name: "BASE", defaultValue: "alpine"), ArgDefinition(name: "VERSION")])
        XCTAssertEqual(p.escapeToken, "\\")
        XCTAssertEqual(p.stages.map(\.name), ["build", nil, "final-1.x"])
        XCTAssertEqual(p.stages.map(\.baseImage), ["$BASE:${VERSION}", "scratch", "busybox"])
        XCTAssertEqual(p.stages.map(\.platform), ["$BUILDPLATFORM", nil, nil])
        XCTAssertEqual(p.stages.map(\.line), [4, 7, 9])
        XCTAssertEqual(p.stages.map(\.index), [0, 1, 2])
        XCTAssertEqual(p.stages[0].instructions.map(\.kind), [
            .run(RunCommand(command: ContainerCommand(args: ["make"], prependShell: true))),
            .arg([ArgDefinition(name: "VERSION")]),
        ])
        XCTAssertEqual(p.stages[0].instructions[0].line, 5)
        XCTAssertEqual(p.stages[0].instructions[0].original, "RUN make")
        XCTAssertEqual(p.stages[2].instructions, [])
    }

    func testFromErrors() {
        assertError("FROM a AS", line: 1, contains: "FROM requires either one or three arguments")
        assertError("FROM a b c", line: 1, contains: "FROM requires either one or three arguments")
        assertError("FROM", line: 1, contains: "FROM requires either one or three arguments")
        assertError("FROM a AS 1st", line: 1, contains: #"invalid name for build stage: "1st""#)
        assertError("FROM a AS my/stage", line: 1, contains: "invalid name for build stage")
        assertError("FROM a AS x\nRUN a\nFROM b AS X", line: 3, contains: #"duplicate stage name "x""#)
        assertError("FROM --platform a", line: 1, contains: "missing a value on flag: --platform")
        assertError("FROM --platform linux/amd64 a", line: 1, contains: "FROM requires either one or three arguments")
        assertError("FROM --plat=x a", line: 1, contains: "unknown flag: --plat")
    }

    func testInstructionBeforeFrom() {
        assertError("ARG A\n\nRUN x\nFROM a", line: 3, contains: "RUN instruction before the first FROM")
        assertError("ARG A\n", line: 1, contains: "no FROM instruction")
    }

    func testUnknownInstruction() {
        assertError("FROM a\nFOO bar", line: 2, contains: "unknown instruction: FOO")
        assertError("FROM a\nfoo bar", line: 2, contains: "unknown instruction: foo (did you mean from?)")
        assertError("FROM a\nXYZZY bar", line: 2, contains: "unknown instruction: XYZZY (instructions are ADD,")
        assertError("FROM a\nRUNN x", line: 2, contains: "did you mean RUN?")
        // A line that cannot be a misspelt instruction is not echoed: the file may be a secret.
        assertError("root:$6$salt$hash:19000:0:99999:7:::", line: 1, contains: "does not start with an instruction name")
        if let e = error("root:$6$salt$hash:19000:0:99999:7:::") { XCTAssertFalse(e.message.contains("salt"), e.message) }
        assertError("FROM a\nCOPYFILESNOWPLEASEX a b", line: 2, contains: "does not start with an instruction name")
    }

    // MARK: simple instructions

    func testEnvLabel() throws {
        XCTAssertEqual(try kind(#"ENV A=1 B="x y""#),
                       .env([KeyValue(key: "A", value: "1"), KeyValue(key: "B", value: #""x y""#)]))
        XCTAssertEqual(try kind("ENV PATH /usr/bin:$PATH"), .env([KeyValue(key: "PATH", value: "/usr/bin:$PATH")]))
        XCTAssertEqual(try kind(#"LABEL "org.x"="a b" v=1"#),
                       .label([KeyValue(key: #""org.x""#, value: #""a b""#), KeyValue(key: "v", value: "1")]))
        assertError("FROM a\nENV", line: 2, contains: "ENV requires at least one argument")
        assertError("FROM a\nLABEL =x", line: 2, contains: "LABEL names can not be blank")
        assertError("FROM a\nENV --x A=1", line: 2, contains: "unknown flag: --x")
    }

    func testArg() throws {
        XCTAssertEqual(try kind(#"ARG a b= c="1 2""#), .arg([
            ArgDefinition(name: "a"), ArgDefinition(name: "b", defaultValue: ""),
            ArgDefinition(name: "c", defaultValue: #""1 2""#),
        ]))
        assertError("FROM a\nARG", line: 2, contains: "ARG requires at least one argument")
        assertError("FROM a\nARG =x", line: 2, contains: "ARG names can not be blank")
    }

    func testSingleArgumentInstructions() throws {
        XCTAssertEqual(try kinds("WORKDIR /a b\nUSER me:grp\nSTOPSIGNAL SIGKILL\nMAINTAINER Jane <j@x>\n"), [
            .workdir("/a b"), .user("me:grp"), .stopSignal("SIGKILL"), .maintainer("Jane <j@x>"),
        ])
        for name in ["WORKDIR", "USER", "STOPSIGNAL", "MAINTAINER"] {
            assertError("FROM a\n\(name)", line: 2, contains: "\(name) requires exactly one argument")
        }
        assertError("FROM a\nMAINTAINER --boo joe@example.com", line: 2, contains: "unknown flag: --boo")
        assertError("FROM a\nWORKDIR --x=1 /a", line: 2, contains: "WORKDIR takes no flags")
    }

    func testExposeVolume() throws {
        XCTAssertEqual(try kind("EXPOSE 8080 443/tcp 53/udp"), .expose(["443/tcp", "53/udp", "8080"]))
        XCTAssertEqual(try kind("VOLUME /a /b"), .volume(["/a", "/b"]))
        XCTAssertEqual(try kind(#"VOLUME ["/a", " /b "]"#), .volume(["/a", "/b"]))
        assertError("FROM a\nEXPOSE", line: 2, contains: "EXPOSE requires at least one argument")
        assertError("FROM a\nVOLUME []", line: 2, contains: "VOLUME requires at least one argument")
        assertError("FROM a\nVOLUME [\"\"]", line: 2, contains: "VOLUME specified can not be an empty string")
    }

    // MARK: commands

    func testRunCmdEntrypointShell() throws {
        XCTAssertEqual(try kinds("""
            RUN echo "hi there"
            RUN ["echo", "hi"]
            CMD ["a"]
            CMD b c
            CMD []
            ENTRYPOINT ["/bin/app", "--flag"]
            SHELL ["/bin/bash", "-o", "pipefail", "-c"]

            """), [
            .run(RunCommand(command: ContainerCommand(args: [#"echo "hi there""#], prependShell: true))),
            .run(RunCommand(command: ContainerCommand(args: ["echo", "hi"], prependShell: false))),
            .cmd(ContainerCommand(args: ["a"], prependShell: false)),
            .cmd(ContainerCommand(args: ["b c"], prependShell: true)),
            .cmd(ContainerCommand(args: [], prependShell: false)),
            .entrypoint(ContainerCommand(args: ["/bin/app", "--flag"], prependShell: false)),
            .shell(["/bin/bash", "-o", "pipefail", "-c"]),
        ])
        assertError("FROM a\nSHELL /bin/bash -c", line: 2, contains: "SHELL requires the arguments to be in JSON form")
        assertError("FROM a\nSHELL []", line: 2, contains: "SHELL requires at least one argument")
        assertError("FROM a\nCMD --x y", line: 2, contains: "unknown flag: --x")
    }

    func testRunFlags() throws {
        let k = try kind("RUN --mount=type=cache,target=/c --mount=type=secret,id=x --network=none --security=insecure make")
        XCTAssertEqual(k, .run(RunCommand(
            command: ContainerCommand(args: ["make"], prependShell: true),
            flags: ["--mount=type=cache,target=/c", "--mount=type=secret,id=x", "--network=none", "--security=insecure"])))
        assertError("FROM a\nRUN --network=a --network=b x", line: 2, contains: "duplicate flag specified: --network")
        assertError("FROM a\nRUN --mount x", line: 2, contains: "missing a value on flag: --mount")
        assertError("FROM a\n\nRUN --mnt=type=cache x", line: 3, contains: "unknown flag: --mnt (did you mean --mount?)")
    }

    func testRunHeredocs() throws {
        let k = try kind("RUN <<-EOF bash\n\techo hi\nEOF")
        XCTAssertEqual(k, .run(RunCommand(command: ContainerCommand(args: ["<<-EOF bash"], prependShell: true),
                                          heredocs: [Heredoc(name: "EOF", expand: true, chomp: true, content: "\techo hi\n")])))
    }

    func testHealthcheck() throws {
        XCTAssertEqual(try kind("HEALTHCHECK NONE"), .healthcheck(HealthcheckCommand(test: ["NONE"])))
        XCTAssertEqual(try kind("HEALTHCHECK --interval=30s --timeout=1m30s --start-period=0 --start-interval=5s --retries=3 CMD curl -f http://x/ || exit 1"),
                       .healthcheck(HealthcheckCommand(test: ["CMD-SHELL", "curl -f http://x/ || exit 1"], interval: "30s",
                                                       timeout: "1m30s", startPeriod: "0", startInterval: "5s", retries: "3")))
        XCTAssertEqual(try kind(#"healthcheck cmd ["/bin/check", "-v"]"#),
                       .healthcheck(HealthcheckCommand(test: ["CMD", "/bin/check", "-v"])))
        assertError("FROM a\nHEALTHCHECK", line: 2, contains: "HEALTHCHECK requires at least one argument")
        assertError("FROM a\nHEALTHCHECK NONE x", line: 2, contains: "HEALTHCHECK NONE takes no arguments")
        assertError("FROM a\nHEALTHCHECK CMD", line: 2, contains: "Missing command after HEALTHCHECK CMD")
        assertError("FROM a\nHEALTHCHECK CMD []", line: 2, contains: "Missing command after HEALTHCHECK CMD")
        assertError("FROM a\nHEALTHCHECK TEST x", line: 2, contains: #"Unknown type "TEST" in HEALTHCHECK (try CMD)"#)
        assertError("FROM a\nHEALTHCHECK --interval=10 CMD x", line: 2, contains: "invalid duration")
        assertError("FROM a\nHEALTHCHECK --interval=50ns CMD x", line: 2, contains: "cannot be less than 1ms")
        assertError("FROM a\nHEALTHCHECK --retries=-1 CMD x", line: 2, contains: "--retries cannot be negative (-1)")
        assertError("FROM a\nHEALTHCHECK --retries=x CMD x", line: 2, contains: "--retries")
        assertError("FROM a\nHEALTHCHECK --foo=1 CMD x", line: 2, contains: "unknown flag: --foo")
    }

    func testDurations() {
        let d = HealthcheckCommand.durationNanoseconds
        XCTAssertEqual(d("30s"), 30_000_000_000)
        XCTAssertEqual(d("1m30s"), 90_000_000_000)
        XCTAssertEqual(d("1.5h"), 5_400_000_000_000)
        XCTAssertEqual(d(".5ms"), 500_000)
        XCTAssertEqual(d("-1us"), -1_000)
        XCTAssertEqual(d("1µs"), 1_000)
        XCTAssertEqual(d("0"), 0)
        XCTAssertEqual(d("2562047h47m16.854775807s"), Int64.max)
        XCTAssertNil(d("2562047h47m16.854775808s"))
        XCTAssertNil(d(""))
        XCTAssertNil(d("10"))
        XCTAssertNil(d("1d"))
        XCTAssertNil(d("."))
        XCTAssertNil(d("s"))
    }

    // MARK: COPY / ADD

    func testCopy() throws {
        XCTAssertEqual(try kind("COPY --from=build --chown=1:1 --chmod=644 --link --parents --exclude=*.md --exclude=tmp a b /dst/"),
                       .copy(CopyCommand(sources: ["a", "b"], destination: "/dst/", from: "build", chown: "1:1", chmod: "644",
                                         link: true, parents: true, excludes: ["*.md", "tmp"])))
        XCTAssertEqual(try kind(#"COPY --link=false ["a b", "/c"]"#),
                       .copy(CopyCommand(sources: ["a b"], destination: "/c")))
        assertError("FROM a\nCOPY a", line: 2, contains: "COPY requires at least two arguments")
        assertError("FROM a\nCOPY", line: 2, contains: "COPY requires at least two arguments")
        assertError("FROM a\nCOPY --link=maybe a b", line: 2, contains: "expecting boolean value for flag --link, not: maybe")
        assertError("FROM a\nCOPY --link= a b", line: 2, contains: "missing a value on flag: --link")
        assertError("FROM a\nCOPY --checksum=x a b", line: 2, contains: "unknown flag: --checksum")
        assertError("FROM a\nCOPY --from=a --from=b x y", line: 2, contains: "duplicate flag specified: --from")
    }

    func testAdd() throws {
        XCTAssertEqual(try kind("ADD --checksum=sha256:abc --keep-git-dir --unpack=false --chown=me https://x/y.tgz /y"),
                       .copy(CopyCommand(sources: ["https://x/y.tgz"], destination: "/y", chown: "me", checksum: "sha256:abc",
                                         keepGitDir: true, unpack: false, isAdd: true)))
        XCTAssertEqual(try kind("ADD a b"), .copy(CopyCommand(sources: ["a"], destination: "b", isAdd: true)))
        assertError("FROM a\nADD --from=x a b", line: 2, contains: "unknown flag: --from")
        assertError("FROM a\nADD a", line: 2, contains: "ADD requires at least two arguments")
    }

    func testCopyHeredocs() throws {
        let k = try kind("COPY --chmod=755 <<-\"run.sh\" <<EOF config /dst/\n\t#!/bin/sh\n\techo $X\n\trun.sh\nhello\nEOF")
        guard case .copy(let copy) = k else { return XCTFail("not a copy: \(k)") }
        XCTAssertEqual(copy.sources, [#"<<-"run.sh""#, "<<EOF", "config"])
        XCTAssertEqual(copy.destination, "/dst/")
        XCTAssertEqual(copy.heredocs, [
            Heredoc(name: "run.sh", expand: false, chomp: true, content: "#!/bin/sh\necho $X\n"),
            Heredoc(name: "EOF", expand: true, chomp: false, content: "hello\n"),
        ])
        XCTAssertEqual(copy.sourcePaths, ["config"])
        XCTAssertEqual(copy.heredoc(forSource: "<<EOF")?.content, "hello\n")
        XCTAssertNil(copy.heredoc(forSource: "config"))
        assertError("FROM a\nCOPY a <<EOF\nx\nEOF", line: 2, contains: "COPY cannot accept a heredoc as a destination")
    }

    // MARK: ONBUILD

    func testOnbuild() throws {
        XCTAssertEqual(try kinds("""
            ONBUILD RUN echo hi
            onbuild   copy --from=x a b
            ONBUILD RUN <<EOF
            echo heredoc
            EOF

            """), [
            .onbuild("RUN echo hi"),
            .onbuild("copy --from=x a b"),
            .onbuild("RUN <<EOF\necho heredoc\nEOF"),
        ])
        assertError("FROM a\nONBUILD ONBUILD RUN x", line: 2, contains: "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
        assertError("FROM a\nONBUILD FROM scratch", line: 2, contains: "FROM isn't allowed as an ONBUILD trigger")
        assertError("FROM a\nONBUILD maintainer me", line: 2, contains: "MAINTAINER isn't allowed as an ONBUILD trigger")
        assertError("FROM a\nONBUILD", line: 2, contains: "ONBUILD requires at least one argument")
    }

    func testErrorDescriptionAndPlanEscape() throws {
        let e = InstructionError(line: 7, message: "boom")
        XCTAssertEqual(e.description, "line 7: boom")
        let p = try plan("# escape=`\nFROM a\nRUN x `\n y\n")
        XCTAssertEqual(p.escapeToken, "`")
        XCTAssertEqual(p.stages[0].instructions[0].endLine, 4)
        XCTAssertEqual(p.stages[0].instructions[0].node.keyword, "run")
    }
}
