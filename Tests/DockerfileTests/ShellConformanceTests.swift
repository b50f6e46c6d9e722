import Foundation
import TestSupport
import XCTest
@testable import Dockerfile

/// BuildKit's shell-lexer test data (testdata/conformance/dockerfile/shell, see README §2),
/// run exactly as upstream's TestShellParser4EnvVars / TestShellParser4Words /
/// TestProcessWithMatches / TestShellParserMandatoryEnvVars do.
final class ShellConformanceTests: XCTestCase {
    /// Cases that cannot pass, with the reason. Currently none.
    private static let knownExceptions: [String: String] = [:]

    private static var shellDir: URL { TestPaths.testdata("conformance/dockerfile/shell") }

    private func lines(_ name: String) throws -> [String] {
        let text = try String(contentsOf: Self.shellDir.appendingPathComponent(name), encoding: .utf8)
        var lines = text.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        return lines
    }

    private func trim(_ s: String) -> String { PatternMatcher.goTrimSpace(s) }

    func testEnvVarTest() throws {
        let env = ["PWD": "/home", "SHELL": "bash", "KOREAN": "한국어", "NULL": ""]
        let lexer = ShellLexer(escapeToken: "\\")
        var run = 0, skippedWindows = 0, expectedErrors = 0
        for (index, raw) in try lines("envVarTest").enumerated() {
            if raw.hasPrefix("#") { continue }
            let line = trim(raw)
            if line.isEmpty { continue }
            let fields = line.components(separatedBy: "|")
            XCTAssertEqual(fields.count, 3, "line \(index + 1)")
            guard fields.count == 3 else { continue }
            let platform = trim(fields[0]), source = trim(fields[1]), expected = trim(fields[2])
            XCTAssertTrue(["A", "U", "W"].contains(platform), "line \(index + 1)")
            if platform == "W" { skippedWindows += 1; continue }
            if Self.knownExceptions[source] != nil { continue }
            run += 1
            if expected == "error" {
                expectedErrors += 1
                XCTAssertThrowsError(try lexer.processWord(source, env: env), "line \(index + 1): \(source)")
            } else {
                XCTAssertEqual(try lexer.processWord(source, env: env), expected, "line \(index + 1): \(source)")
            }
        }
        XCTAssertEqual(run, 228)
        XCTAssertEqual(skippedWindows, 2)
        XCTAssertGreaterThan(expectedErrors, 0)
    }

    func testWordsTest() throws {
        var env: [String: String] = [:]
        let lexer = ShellLexer(escapeToken: "\\")
        var run = 0
        for (index, line) in try lines("wordsTest").enumerated() {
            if line.hasPrefix("#") { continue }
            if line.hasPrefix("ENV ") {
                // Go: strings.TrimLeft(line[3:], " "), then split at the first '='.
                let assignment = String(line.dropFirst(3).drop(while: { $0 == " " }))
                if let eq = assignment.firstIndex(of: "=") {
                    env[String(assignment[..<eq])] = String(assignment[assignment.index(after: eq)...])
                } else {
                    env[assignment] = ""
                }
                continue
            }
            let parts = line.components(separatedBy: "|")
            XCTAssertEqual(parts.count, 2, "line \(index + 1)")
            guard parts.count == 2 else { continue }
            let input = trim(parts[0])
            let expected = String(parts[1].drop(while: { $0 == " " })).components(separatedBy: ",")
            let result = (try? lexer.processWords(input, env: env)) ?? ["error"]
            XCTAssertEqual(result, expected, "line \(index + 1): \(input)")
            run += 1
        }
        XCTAssertEqual(run, 24)
    }

    private struct LexCase: Decodable {
        var input: String
        var envs: [String: String]
        var expected: String?
        var expect_error: Bool
        var error_contains: String?
        var matched: [String]?
        var unmatched: [String]?
        var api: String
    }

    func testLexTestCases() throws {
        let data = try Data(contentsOf: Self.shellDir.appendingPathComponent("lex_test_cases.json"))
        let cases = try JSONDecoder().decode([LexCase].self, from: data)
        XCTAssertEqual(cases.count, 56)
        let lexer = ShellLexer()
        for (index, c) in cases.enumerated() {
            let label = "case \(index): \(c.input) with \(c.envs)"
            switch c.api {
            case "ProcessWord":
                if c.expect_error {
                    XCTAssertThrowsError(try lexer.processWord(c.input, env: c.envs), label) { error in
                        if let needle = c.error_contains {
                            XCTAssertTrue("\(error)".contains(needle), "\(label): \(error)")
                        }
                    }
                } else {
                    XCTAssertEqual(try lexer.processWord(c.input, env: c.envs), c.expected, label)
                }
            case "ProcessWordWithMatches", "ProcessWordWithMatches (only .Result checked)":
                if c.expect_error {
                    XCTAssertThrowsError(try lexer.processWordWithMatches(c.input, env: c.envs), label)
                    continue
                }
                let result = try lexer.processWordWithMatches(c.input, env: c.envs)
                XCTAssertEqual(result.result, c.expected, label)
                if c.api == "ProcessWordWithMatches" {
                    XCTAssertEqual(result.matched, Set(c.matched ?? []), label)
                    XCTAssertEqual(result.unmatched, Set(c.unmatched ?? []), label)
                }
            default:
                XCTFail("unknown api \(c.api)")
            }
        }
    }
}
