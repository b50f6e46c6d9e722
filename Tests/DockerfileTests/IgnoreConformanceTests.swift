import Foundation
import TestSupport
import XCTest
@testable import Dockerfile

/// moby/patternmatcher's test data (testdata/conformance/dockerfile/dockerignore, see
/// README §3): every row checked through the entry point it states, plus the
/// `also_expected_with` entry points.
final class IgnoreConformanceTests: XCTestCase {
    /// Cases that cannot pass, with the reason. Currently none.
    private static let knownExceptions: [String: String] = [:]

    private static var ignoreDir: URL { TestPaths.testdata("conformance/dockerfile/dockerignore") }

    private func load<T: Decodable>(_ name: String, as: T.Type) throws -> T {
        let data = try Data(contentsOf: Self.ignoreDir.appendingPathComponent(name))
        return try JSONDecoder().decode(T.self, from: data)
    }

    private struct MatchCase: Decodable {
        var patterns: [String]
        var path: String
        var matches: Bool
        var expect_error: String?
        var api: String
        var also_expected_with: [String]?
    }

    /// The upstream test's walk: call on `a`, `a/b`, ... of `filepath.Dir(path)`, then `path`.
    private func walkAncestors(_ path: String) -> [String] {
        PatternMatcher.ancestorPrefixes(of: path)
    }

    func testCases() throws {
        let cases = try load("cases.json", as: [MatchCase].self)
        XCTAssertEqual(cases.count, 138)
        var errorRows = 0, alsoChecks = 0
        for (index, c) in cases.enumerated() {
            let label = "case \(index): patterns=\(c.patterns) path=\(c.path)"
            if let reason = Self.knownExceptions["\(c.patterns)|\(c.path)"] {
                print("skipping \(label): \(reason)")
                continue
            }
            if c.expect_error != nil { errorRows += 1 }
            switch c.api {
            case "Matches(package func, deprecated)":
                if c.expect_error != nil {
                    XCTAssertThrowsError(try PatternMatcher.legacyMatches(c.path, patterns: c.patterns), label)
                } else {
                    XCTAssertEqual(try PatternMatcher.legacyMatches(c.path, patterns: c.patterns), c.matches, label)
                }
            case "MatchesOrParentMatches":
                let matcher = try PatternMatcher(patterns: c.patterns)
                if c.expect_error != nil {
                    // Two consecutive calls must both report the bad pattern (and not crash).
                    XCTAssertThrowsError(try matcher.matchesOrParentMatches(c.path), label) {
                        XCTAssertEqual($0 as? PatternMatcherError, .badPattern, label)
                    }
                    XCTAssertThrowsError(try matcher.matchesOrParentMatches(c.path), label)
                    continue
                }
                XCTAssertEqual(try matcher.matchesOrParentMatches(c.path), c.matches, label)
                // Not an upstream entry point: the single-flag walk helper must agree too.
                var flag = false
                for ancestor in walkAncestors(c.path) {
                    flag = try matcher.matchesUsingParentResults(ancestor, parentMatched: flag)
                }
                XCTAssertEqual(try matcher.matchesUsingParentResults(c.path, parentMatched: flag), c.matches, "\(label) [flag walk]")

                for api in c.also_expected_with ?? [] {
                    alsoChecks += 1
                    switch api {
                    case "MatchesUsingParentResult(walk)":
                        var parent = false
                        for ancestor in walkAncestors(c.path) {
                            parent = try matcher.legacyMatchesUsingParentResult(ancestor, parentMatched: parent)
                        }
                        XCTAssertEqual(try matcher.legacyMatchesUsingParentResult(c.path, parentMatched: parent), c.matches, "\(label) [\(api)]")
                    case "MatchesUsingParentResults(walk)":
                        var info = PatternMatcher.MatchInfo()
                        for ancestor in walkAncestors(c.path) {
                            info = try matcher.matchesUsingParentResults(ancestor, parentInfo: info).info
                        }
                        XCTAssertEqual(try matcher.matchesUsingParentResults(c.path, parentInfo: info).matched, c.matches, "\(label) [\(api)]")
                    case "MatchesUsingParentResults(no-context)":
                        XCTAssertEqual(try matcher.matchesUsingParentResults(c.path, parentInfo: .init()).matched, c.matches, "\(label) [\(api)]")
                    default:
                        XCTFail("unknown api \(api)")
                    }
                }
            default:
                XCTFail("unknown api \(c.api)")
            }
        }
        XCTAssertEqual(errorRows, 18)
        XCTAssertGreaterThan(alsoChecks, 200)
    }

    private struct NewCase: Decodable {
        var patterns: [String]
        var expect_error: String?
        var expect_pattern_count: Int?
        var expect_exclusions: Bool?
    }

    func testNewCases() throws {
        let cases = try load("new_cases.json", as: [NewCase].self)
        XCTAssertEqual(cases.count, 7)
        for c in cases {
            if let message = c.expect_error {
                XCTAssertThrowsError(try PatternMatcher(patterns: c.patterns)) {
                    XCTAssertEqual("\($0)", message)
                }
                continue
            }
            let matcher = try PatternMatcher(patterns: c.patterns)
            if let count = c.expect_pattern_count { XCTAssertEqual(matcher.patterns.count, count, "\(c.patterns)") }
            if let exclusions = c.expect_exclusions { XCTAssertEqual(matcher.hasExclusions, exclusions, "\(c.patterns)") }
        }
    }

    private struct ReadAllCase: Decodable {
        var content: String?
        var expected: [String]
    }

    func testIgnoreFileReadAll() throws {
        let cases = try load("ignorefile_readall.json", as: [ReadAllCase].self)
        XCTAssertEqual(cases.count, 2)
        for c in cases {
            // Upstream's `ReadAll(nil)` (no file) is modelled as empty text.
            XCTAssertEqual(IgnoreFile.readAll(c.content ?? ""), c.expected)
        }
    }
}
