import XCTest
@testable import Dockerfile

/// Unit tests for lexer options and edge cases the conformance corpus does not cover.
final class ShellLexerTests: XCTestCase {
    /// Each `${…:-…}` level recurses once: the depth is bounded by the lexer (a clear error),
    /// not by the thread's stack (issue 10, item 5).
    func testNestingIsBounded() throws {
        func nested(_ depth: Int) -> String { String(repeating: "${A:-", count: depth) + "x" + String(repeating: "}", count: depth) }
        XCTAssertEqual(try ShellLexer().processWord(nested(ShellWordState.maxNesting - 1), env: [:]), "x")
        XCTAssertThrowsError(try ShellLexer().processWord(nested(ShellWordState.maxNesting), env: [:])) { error in
            XCTAssertTrue("\(error)".contains("nested more than \(ShellWordState.maxNesting) levels deep"), "\(error)")
        }
        XCTAssertThrowsError(try ShellLexer().processWord("\"" + nested(100_000) + "\"", env: [:]))
    }

    func testBacktickEscapeToken() throws {
        let lexer = ShellLexer(escapeToken: "`")
        XCTAssertEqual(try lexer.processWord("a`$B", env: ["B": "x"]), "a$B")
        XCTAssertEqual(try lexer.processWord("C:\\dir\\$B", env: ["B": "x"]), "C:\\dir\\x")
        XCTAssertEqual(try lexer.processWord("\"q`\"q\"", env: [:]), "q\"q")
    }

    func testRawQuotesAndRawEscapes() throws {
        var lexer = ShellLexer()
        lexer.rawQuotes = true
        XCTAssertEqual(try lexer.processWord("'a'\"$B\"", env: ["B": "b"]), "'a'\"b\"")
        lexer.rawQuotes = false
        lexer.rawEscapes = true
        XCTAssertEqual(try lexer.processWord("a\\ b", env: [:]), "a\\ b")
        XCTAssertEqual(try lexer.processWords("a\\ b c", env: [:]), ["a\\ b", "c"])
    }

    func testSkipProcessQuotes() throws {
        var lexer = ShellLexer()
        lexer.skipProcessQuotes = true
        XCTAssertEqual(try lexer.processWord("'$A' \"x\"", env: ["A": "1"]), "'1' \"x\"")
    }

    func testSkipUnsetEnvKeepsReferences() throws {
        var lexer = ShellLexer()
        lexer.skipUnsetEnv = true
        XCTAssertEqual(try lexer.processWord("$X ${Y} ${Z:-d} ${W/a/b} $SET ${SET:+y}", env: ["SET": "1"]),
                       "$X ${Y} ${Z:-d} ${W/a/b} 1 y")
        // Unsupported modifiers on unset names are left for later, as upstream does.
        XCTAssertEqual(try lexer.processWord("${U:=v}", env: [:]), "${U:=v}")
    }

    func testErrorMessages() {
        let lexer = ShellLexer()
        XCTAssertThrowsError(try lexer.processWord("${BAZ?ccc}", env: [:])) {
            XCTAssertEqual("\($0)", "failed to process \"${BAZ?ccc}\": BAZ: ccc")
        }
        XCTAssertThrowsError(try lexer.processWord("${X:?}", env: ["X": ""])) {
            XCTAssertTrue("\($0)".hasSuffix("X: is not allowed to be empty"), "\($0)")
        }
        XCTAssertThrowsError(try lexer.processWord("${X?}", env: [:])) {
            XCTAssertTrue("\($0)".hasSuffix("X: is not allowed to be unset"), "\($0)")
        }
        XCTAssertThrowsError(try lexer.processWord("${X:=1}", env: [:])) {
            XCTAssertTrue("\($0)".contains("unsupported modifier (:=) in substitution"), "\($0)")
        }
        XCTAssertThrowsError(try lexer.processWord("${X#\\q}", env: ["X": "q"])) {
            XCTAssertTrue("\($0)".contains("invalid pattern"), "\($0)")
        }
    }

    func testPatternHelpersMatchUpstreamTables() throws {
        // lex_test.go TestReversePattern.
        let reversed = ["a\\*c": "c\\*a", "\\\\\\ab": "b\\a\\\\", "ab\\": "\\ba", "👽\\🚀🖖": "🖖\\🚀👽", "\\\\b": "b\\\\"]
        for (pattern, expected) in reversed {
            XCTAssertEqual(ShellPattern.reversePattern(pattern), expected, pattern)
        }
        // lex_test.go TestConvertShellPatternToRegex (invalid ones).
        for pattern in ["\\", "\\x", "\\\\\\"] {
            XCTAssertThrowsError(try ShellPattern.compile(Array(pattern.unicodeScalars)), pattern)
        }
        XCTAssertEqual(try ShellPattern.compile(Array("\\}\\/a".unicodeScalars)), [.literal("}"), .literal("/"), .literal("a")])
    }

    func testSubstitutionsFollowGoRegexpSemantics() throws {
        let lexer = ShellLexer()
        let env = ["FOO": "foo", "AB": "ab", "ML": "a/b\nc/d", "P": "/usr/local/bin"]
        // ReplaceAllString expands $0 (the match) in the replacement; single replace does not.
        XCTAssertEqual(try lexer.processWord("${FOO//o/<'$0'>}", env: env), "f<o><o>")
        XCTAssertEqual(try lexer.processWord("${FOO/o/<'$0'>}", env: env), "f<$0>o")
        // An empty match right after a match is not replaced again.
        XCTAssertEqual(try lexer.processWord("${AB//*/x}", env: env), "x")
        XCTAssertEqual(try lexer.processWord("${AB//?/x}", env: env), "xx")
        // `*` does not cross a newline (Go's `.`).
        XCTAssertEqual(try lexer.processWord("${ML%%/*}", env: env), "a/b\nc")
        XCTAssertEqual(try lexer.processWord("${P##*/} ${P#*/} ${P%/*} ${P%%/*}", env: env), "bin usr/local/bin /usr/local ")
    }

    func testProcessWords() throws {
        let lexer = ShellLexer()
        XCTAssertEqual(try lexer.processWords("cat <<  EOF > f", env: [:]), ["cat", "<<  EOF", ">", "f"])
        XCTAssertEqual(try lexer.processWords("'' a \"\"", env: [:]), ["a"])
        // Documented divergence from BuildKit's shared-buffer bug: the prefix is kept.
        XCTAssertEqual(try lexer.processWords("a${X:-b}c d", env: [:]), ["abc", "d"])
        XCTAssertEqual(try lexer.processWords("$V", env: ["V": " x  y "]), ["x", "y"])
    }

    func testMatchesReporting() throws {
        let lexer = ShellLexer()
        let r = try lexer.processWordWithMatches("$A ${B:-x} $1 ${A}", env: ["A": "a"])
        XCTAssertEqual(r.result, "a x  a")
        XCTAssertEqual(r.matched, ["A"])
        XCTAssertEqual(r.unmatched, ["B", "1"])
    }
}
