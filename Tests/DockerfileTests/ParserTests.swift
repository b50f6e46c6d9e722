import Foundation
import TestSupport
import XCTest
@testable import Dockerfile

/// Parser behaviour beyond the upstream corpus: directives, flags, exec vs shell form,
/// line numbers, heredocs and the dump format.
final class ParserTests: XCTestCase {
    func dump(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            return try DockerfileParser.parse(text).dump()
        } catch {
            XCTFail("unexpected error: \(error)", file: file, line: line)
            return ""
        }
    }

    func syntaxError(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> SyntaxError? {
        thrownError(SyntaxError.self, file: file, line: line) { _ = try DockerfileParser.parse(text) }
    }

    // MARK: escape directive

    func testBacktickEscapeDirective() throws {
        let tree = try DockerfileParser.parse("# escape=`\nFROM windows\nRUN dir `\n  c:\\\nCOPY --chown=a`\"b x y\n")
        XCTAssertEqual(tree.escapeToken, "`")
        XCTAssertEqual(tree.directives, ["escape": "`"])
        XCTAssertEqual(tree.dump(), """
            (from "windows")
            (run "dir   c:\\\\")
            (copy ["--chown=a\\"b"] "x" "y")
            """)
        XCTAssertEqual(tree.nodes[1].startLine, 3)
        XCTAssertEqual(tree.nodes[1].endLine, 4)
    }

    func testBackslashIsLiteralWithBacktickEscape() throws {
        let tree = try DockerfileParser.parse("#escape=`\nFROM x\nWORKDIR c:\\\nRUN a\n")
        XCTAssertEqual(tree.nodes.map(\.args), [["x"], ["c:\\"], ["a"]])
    }

    func testDirectivesOnlyAtTop() throws {
        let tree = try DockerfileParser.parse("# syntax = docker/dockerfile:1\n# Escape=`\n\n# escape=\\\nFROM x\n")
        XCTAssertEqual(tree.directives, ["syntax": "docker/dockerfile:1", "escape": "`"])
        XCTAssertEqual(tree.escapeToken, "`")
        // A comment ends the directive section.
        let late = try DockerfileParser.parse("# hello\n# escape=`\nFROM x\n")
        XCTAssertEqual(late.escapeToken, "\\")
        XCTAssertEqual(late.directives, [:])
    }

    func testDirectiveErrors() {
        XCTAssertEqual(syntaxError("# escape=x\nFROM a\n")?.line, 1)
        let repeated = syntaxError("# syntax=a\n# escape=`\n# syntax=b\nFROM a\n")
        XCTAssertEqual(repeated?.line, 3)
        XCTAssertEqual(repeated?.message, "only one syntax parser directive can be used")
        // Unknown directive keys just end the directive section.
        XCTAssertNil(try? DockerfileParser.parse("# foo=bar\n# foo=baz\nFROM a\n").directives["foo"])
    }

    // MARK: flags

    func testFlagExtraction() throws {
        let tree = try DockerfileParser.parse("""
            FROM --platform=$BUILDPLATFORM golang AS build
            COPY --from=build --chown="me:my group" --link /a /b
            RUN --mount=type=cache,target=/root/.cache -- --not-a-flag
            COPY --exclude='*.md' -- --dir /dst
            ADD --checksum=sha256:x http://x /y
            RUN echo --x
            COPY --a\\ b c d

            """)
        XCTAssertEqual(tree.nodes.map(\.flags), [
            ["--platform=$BUILDPLATFORM"],
            ["--from=build", "--chown=me:my group", "--link"],
            ["--mount=type=cache,target=/root/.cache"],
            ["--exclude=*.md"],
            ["--checksum=sha256:x"],
            [],
            ["--a b"],
        ])
        XCTAssertEqual(tree.nodes[2].args, ["--not-a-flag"])
        XCTAssertEqual(tree.nodes[3].args, ["--dir", "/dst"])
        XCTAssertEqual(tree.nodes[5].args, ["echo --x"])
        XCTAssertEqual(tree.nodes[0].args, ["golang", "AS", "build"])
        XCTAssertEqual(tree.nodes[1].dump(), #"copy ["--from=build" "--chown=me:my group" "--link"] "/a" "/b""#)
    }

    func testFlagsOnly() throws {
        let tree = try DockerfileParser.parse("COPY --from=x\n")
        XCTAssertEqual(tree.nodes[0].flags, ["--from=x"])
        XCTAssertEqual(tree.nodes[0].args, [])
        XCTAssertEqual(tree.dump(), #"(copy ["--from=x"])"#)
    }

    // MARK: JSON vs shell form

    func testJSONAndShellForm() throws {
        let tree = try DockerfileParser.parse("""
            CMD ["a", "b c"]
            CMD a "b c"
            ENTRYPOINT ['x']
            RUN [ "x",
            COPY ["a b", "c"]
            COPY a b
            VOLUME ["/v"] 
            SHELL []
            HEALTHCHECK --interval=5s CMD ["curl", "-f"]
            HEALTHCHECK NONE
            CMD ["a"] x

            """)
        let forms = tree.nodes.map { ($0.args, $0.isJSON) }
        XCTAssertEqual(forms.map(\.0), [["a", "b c"], [#"a "b c""#], ["['x']"], [#"[ "x","#], ["a b", "c"], ["a", "b"],
                                        ["/v"], [], ["CMD", "curl", "-f"], ["NONE"], [#"["a"] x"#]])
        XCTAssertEqual(forms.map(\.1), [true, false, false, false, true, false, true, true, true, false, false])
    }

    func testJSONNonStringIsError() {
        XCTAssertEqual(syntaxError("FROM a\nCMD [\"a\", 1]\n")?.line, 2)
        XCTAssertEqual(syntaxError("FROM a\nCOPY [\"a\", null, \"b\"]\n")?.line, 2)
        XCTAssertEqual(syntaxError("FROM a\nRUN [{\"a\": [1, 2.5e3, true]}]\n")?.message,
                       "when using JSON array syntax, arrays must be comprised of strings only")
    }

    func testJSONEscapes() throws {
        let tree = try DockerfileParser.parse(#"CMD ["\u00e9\ud83d\ude00\ud800x", "a\/b"]"#)
        XCTAssertEqual(tree.nodes[0].args, ["é😀\u{FFFD}x", "a/b"])
    }

    // MARK: words, ENV, LABEL, ARG

    func testEnvLabelArgForms() throws {
        let tree = try DockerfileParser.parse("""
            ENV a="x y" b=c\\ d
            ENV legacy value with spaces
            LABEL "com.x"="1" e=
            ARG abc="123 456" def

            """)
        XCTAssertEqual(tree.nodes[0].args, ["a", #""x y""#, "=", "b", #"c\ d"#, "="])
        XCTAssertEqual(tree.nodes[1].args, ["legacy", "value with spaces", ""])
        XCTAssertEqual(tree.nodes[2].args, [#""com.x""#, #""1""#, "=", "e", "", "="])
        XCTAssertEqual(tree.nodes[3].args, [#"abc="123 456""#, "def"])
        XCTAssertEqual(syntaxError("FROM a\n\nENV a=b c\n")?.line, 3)
    }

    // MARK: lines, continuations, comments

    func testLineNumbersAndContinuations() throws {
        let text = "\n# comment\nFROM a\nRUN one \\\n# inner comment\n\n  two \\\n  three\n\nCMD x\n"
        let tree = try DockerfileParser.parse(text)
        XCTAssertEqual(tree.nodes.map(\.startLine), [3, 4, 10])
        XCTAssertEqual(tree.nodes.map(\.endLine), [3, 8, 10])
        XCTAssertEqual(tree.nodes[1].args, ["one   two   three"])
        XCTAssertEqual(tree.nodes[1].original, "RUN one   two   three")
        XCTAssertEqual(tree.warnings.count, 1)
        XCTAssertTrue(tree.warnings[0].contains("Empty continuation line"))
    }

    func testCRLFAndBOM() throws {
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("FROM a\r\nRUN b \\\r\n c\r\n".utf8)
        let tree = try DockerfileParser.parse(bytes)
        XCTAssertEqual(tree.dump(), "(from \"a\")\n(run \"b  c\")")
    }

    func testEscapedEscapeDoesNotContinue() throws {
        let tree = try DockerfileParser.parse("RUN a \\\\\nRUN b\n")
        XCTAssertEqual(tree.nodes.count, 2)
        XCTAssertEqual(tree.nodes[0].args, ["a \\\\"])
    }

    func testErrorLineNumbers() {
        XCTAssertEqual(syntaxError("FROM a\n\nENV PATH\n")?.line, 3)
        XCTAssertEqual(syntaxError("FROM a\nLABEL y=z \\\n  x\n")?.message,
                       #"Syntax error - can't find = in "x". Must be of the form: name=value"#)
        XCTAssertEqual(syntaxError("FROM a\nRUN x \\\n [1]\nCMD [\"a\", [\"b\"]]")?.line, 4)
        let unterminated = syntaxError("FROM a\nRUN <<EOF\necho\n")
        XCTAssertEqual(unterminated?.line, 2)
        XCTAssertTrue(unterminated?.message.hasPrefix("unterminated heredoc") ?? false)
        XCTAssertEqual(syntaxError("")?.message, "file with no instructions")
        XCTAssertEqual(syntaxError("# only\n\n   # comments\n")?.message, "file with no instructions")
        let long = syntaxError("FROM a\nLABEL x=" + String(repeating: "a", count: 65536) + "\n")
        XCTAssertEqual(long?.line, 2)
        XCTAssertEqual(long?.message, "dockerfile line greater than max allowed size of 65535")
        XCTAssertNoThrow(try DockerfileParser.parse("LABEL x=" + String(repeating: "a", count: 65535 - 8) + "\n"))
    }

    // MARK: ONBUILD, unknown instructions, dump

    func testOnbuildAndUnknown() throws {
        let tree = try DockerfileParser.parse("ONBUILD RUN echo test\nONBUILD COPY --from=x a b\nONBUILD\nFOO bar\n")
        XCTAssertEqual(tree.dump(), """
            (onbuild (run "echo test"))
            (onbuild (copy ["--from=x"] "a" "b"))
            (onbuild)
            (foo "")
            """)
        XCTAssertEqual(tree.nodes[0].onbuild.first?.original, "RUN echo test")
    }

    func testQuoteRendering() {
        XCTAssertEqual(GoStringRules.quote("a\"b\\c\u{07}\u{7F}\u{85}\u{A0}é☃\u{1F600}\u{E000}\u{10FFFF}"),
                       #""a\"b\\c\a\x7f\u0085\u00a0é☃😀\ue000\U0010ffff""#)
        XCTAssertEqual(GoStringRules.quote(" \t\n\r\u{0B}\u{0C}\u{08}\u{00}"), #"" \t\n\r\v\f\b\x00""#)
    }

    // MARK: heredocs

    func testHeredocsInRunAndOnbuild() throws {
        let tree = try DockerfileParser.parse("""
            FROM a
            RUN <<-EOF cat >/x
            \tone
            \tEOF
            ONBUILD RUN <<'A' <<B
            $x
            A
            y
            B
            RUN ["<<C"]
            USER <<D

            """)
        XCTAssertEqual(tree.nodes[1].heredocs, [Heredoc(name: "EOF", expand: true, chomp: true, content: "\tone\n")])
        XCTAssertEqual(tree.nodes[1].endLine, 4)
        XCTAssertEqual(tree.nodes[2].heredocs.map(\.name), ["A", "B"])
        XCTAssertEqual(tree.nodes[2].heredocs.map(\.expand), [false, true])
        XCTAssertEqual(tree.nodes[3].heredocs, [])
        XCTAssertEqual(tree.nodes[4].heredocs, [])
        XCTAssertEqual(tree.nodes[4].startLine, 11)
    }

    func testScalarExactMatching() throws {
        // A combining mark after `=` or `#` must not hide them (Go works on bytes, not graphemes).
        let tree = try DockerfileParser.parse("ENV a=\u{301}x\nARG b=\u{301}\nRUN <<\u{301}E\n\u{301}E\n")
        XCTAssertEqual(tree.nodes[0].args, ["a", "\u{301}x", "="])
        XCTAssertEqual(tree.nodes[2].heredocs.map(\.name), ["\u{301}E"])
        let plan = try InstructionParser.plan(DockerfileParser.parse("ARG b=\u{301}\nFROM x\n"))
        XCTAssertEqual(plan.globalArgs, [ArgDefinition(name: "b", defaultValue: "\u{301}")])
    }

    /// Mutated corpus files must parse or throw, never trap.
    func testNoCrashOnMutatedInputs() throws {
        let dir = ParserConformanceTests.parserData.appendingPathComponent("testfiles")
        let seeds = try FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil)
            .compactMap { try? [UInt8](Data(contentsOf: $0.appendingPathComponent("Dockerfile"))) }
        XCTAssertFalse(seeds.isEmpty)
        let alphabet = Array("\\`\"'<$-{}[]\n\r\t =#:,/-0Eé\u{0}".utf8)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func random(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(max(n, 1)))
        }
        for _ in 0..<1500 {
            var bytes = seeds[random(seeds.count)]
            for _ in 0...random(8) {
                let at = random(bytes.count + 1)
                switch random(3) {
                case 0: bytes.insert(alphabet[random(alphabet.count)], at: at)
                case 1: if at < bytes.count { bytes.remove(at: at) }
                default: bytes.insert(contentsOf: Array("\nRUN <<EOF\nCOPY <<-'A' --x [\"a\", 1]\n".utf8).prefix(random(30)), at: at)
                }
            }
            if let tree = try? DockerfileParser.parse(bytes) {
                _ = tree.dump()
                _ = try? InstructionParser.plan(tree)
            }
        }
    }

    func testParseHeredocWord() throws {
        XCTAssertEqual(try DockerfileParser.parseHeredoc("3<<-\"E\"F"),
                       Heredoc(name: "EF", fileDescriptor: 3, expand: false, chomp: true, content: ""))
        XCTAssertNil(try DockerfileParser.parseHeredoc("<<a<b"))
        XCTAssertEqual(DockerfileParser.chompHeredocContent("\t\ta\n b\n\t"), "a\n b\n")
    }

    /// Heredoc words come from the shell lexer in BuildKit's heredoc modes, quirks included.
    func testHeredocWordsLexLikeBuildKit() throws {
        // A nested `${name:-...}` empties the word being built (BuildKit's shared word buffer),
        // so the `<<` before it is lost and no heredoc opens; a plain `${name}` keeps it.
        XCTAssertEqual(try DockerfileParser.heredocsFromLine("RUN <<${X:-EOF}").map(\.name), [])
        XCTAssertEqual(try DockerfileParser.heredocsFromLine("RUN <<EOF${X:-a} <<B").map(\.name), ["B"])
        XCTAssertEqual(try DockerfileParser.heredocsFromLine("RUN <<E${X}").map(\.name), ["E${X}"])
        // The escape character is always `\`, quotes and escapes are kept in the line's words.
        XCTAssertEqual(try DockerfileParser.heredocsFromLine("RUN <<\"E\\\"F\" <<'G H'").map(\.name), ["E\"F", "G H"])
        // Go's text/scanner skips a byte-order mark at the start of the name.
        XCTAssertEqual(try DockerfileParser.parseHeredoc("<<\u{FEFF}EOF")?.name, "EOF")
        // Go renders the missing character after `${X` as U+FFFD.
        XCTAssertThrowsError(try DockerfileParser.parseHeredoc("<<${X")) {
            XCTAssertEqual(($0 as? SyntaxError)?.message,
                           "failed to process \"${X\": unsupported modifier (\u{FFFD}) in substitution")
        }
    }
}
