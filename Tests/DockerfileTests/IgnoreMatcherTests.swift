import Foundation
import XCTest
@testable import Dockerfile

/// Unit tests for `Glob.match` (Go's filepath.Match), the matcher's regexp translation
/// quirks, the walk helpers and `mayReincludeUnder`.
final class IgnoreMatcherTests: XCTestCase {
    /// Go's path/filepath TestMatch table (Unix).
    func testGlobMatchGoTable() {
        let table: [(String, String, Bool, Bool)] = [ // pattern, name, match, error
            ("abc", "abc", true, false), ("*", "abc", true, false), ("*c", "abc", true, false),
            ("a*", "a", true, false), ("a*", "abc", true, false), ("a*", "ab/c", false, false),
            ("a*/b", "abc/b", true, false), ("a*/b", "a/c/b", false, false),
            ("a*b*c*d*e*/f", "axbxcxdxe/f", true, false), ("a*b*c*d*e*/f", "axbxcxdxexxx/f", true, false),
            ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false, false), ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", false, false),
            ("a*b?c*x", "abxbbxdbxebxczzx", true, false), ("a*b?c*x", "abxbbxdbxebxczzy", false, false),
            ("ab[c]", "abc", true, false), ("ab[b-d]", "abc", true, false), ("ab[e-g]", "abc", false, false),
            ("ab[^c]", "abc", false, false), ("ab[^b-d]", "abc", false, false), ("ab[^e-g]", "abc", true, false),
            ("a\\*b", "a*b", true, false), ("a\\*b", "ab", false, false),
            ("a?b", "a☺b", true, false), ("a[^a]b", "a☺b", true, false), ("a???b", "a☺b", false, false),
            ("a[^a][^a][^a]b", "a☺b", false, false), ("[a-ζ]*", "α", true, false), ("*[a-ζ]", "A", false, false),
            ("a?b", "a/b", false, false), ("a*b", "a/b", false, false),
            ("[\\]a]", "]", true, false), ("[\\-]", "-", true, false), ("[x\\-]", "x", true, false),
            ("[x\\-]", "-", true, false), ("[x\\-]", "z", false, false), ("[\\-x]", "x", true, false),
            ("[\\-x]", "-", true, false), ("[\\-x]", "a", false, false),
            ("[]a]", "]", false, true), ("[-]", "-", false, true), ("[x-]", "x", false, true),
            ("[x-]", "-", false, true), ("[x-]", "z", false, true), ("[-x]", "x", false, true),
            ("[-x]", "-", false, true), ("[-x]", "a", false, true), ("\\", "a", false, true),
            ("[a-b-c]", "a", false, true), ("[", "a", false, true), ("[^", "a", false, true),
            ("[^bc", "a", false, true), ("a[", "a", false, true), ("a[", "ab", false, true),
            ("a[", "x", false, true), ("a/b[", "x", false, true), ("*x", "xxx", true, false),
        ]
        for (pattern, name, expected, isError) in table {
            if isError {
                XCTAssertThrowsError(try Glob.match(pattern, name), "\(pattern) \(name)") {
                    XCTAssertEqual($0 as? PatternMatcherError, .badPattern)
                }
            } else {
                XCTAssertEqual(try Glob.match(pattern, name), expected, "\(pattern) \(name)")
            }
        }
    }

    func testGlobMatchCopySourceWildcards() throws {
        XCTAssertTrue(try Glob.match("*.txt", "notes.txt"))
        XCTAssertFalse(try Glob.match("*.txt", "dir/notes.txt"))   // '*' never crosses '/'
        XCTAssertTrue(try Glob.match("dir/*.txt", "dir/notes.txt"))
        XCTAssertTrue(try Glob.match("file?.go", "file1.go"))
        XCTAssertTrue(try Glob.match("[a-c]*", "build"))
        XCTAssertTrue(try Glob.match("", ""))
        XCTAssertFalse(try Glob.match("", "a"))
        // Go stops at the first failing chunk: a later syntax error is not reported.
        XCTAssertFalse(try Glob.match("x*[", "a"))
    }

    func testRegexpQuirksFollowGo() throws {
        func m(_ patterns: [String], _ path: String) throws -> Bool {
            try PatternMatcher(patterns: patterns).matchesOrParentMatches(path)
        }
        // `*` inside a class becomes `[^/]*` inside the class: `[*]` is `[[^/]*]`, i.e. a run
        // of '[', '^', '/' followed by a literal ']'.
        XCTAssertTrue(try m(["[*]"], "]"))
        XCTAssertTrue(try m(["[*]"], "[^]"))
        XCTAssertFalse(try m(["[*]"], "*"))
        // Escapes reach RE2 unchanged: `\d` is a digit class there.
        XCTAssertTrue(try m(["file\\d"], "file7"))
        XCTAssertFalse(try m(["file\\d"], "filed"))
        XCTAssertTrue(try m(["[[:digit:]]x"], "5x"))
        // A '^' in the middle is a begin-of-text assertion in a regexp pattern...
        XCTAssertFalse(try m(["a^b*"], "a^bc"))
        // ...but a pattern without wildcards is compared literally.
        XCTAssertTrue(try m(["a^b"], "a^b"))
        // Inverted range: accepted by New(), bad pattern at match time.
        let bad = try PatternMatcher(patterns: ["[l-O]x"])
        XCTAssertThrowsError(try bad.matchesOrParentMatches("lx"))
        // `**` (regexp `.*`) does not cross a newline, like Go's `.`.
        XCTAssertFalse(try m(["a/**/b*"], "a/x\ny/bc"))
        XCTAssertTrue(try m(["a/**/b*"], "a/x/y/bc"))
        // Unicode categories.
        XCTAssertTrue(try m(["[\\pL]x"], "αx"))
        XCTAssertFalse(try m(["[\\pL]x"], "1x"))
        // Script names are not available in Swift's standard library: reported as bad.
        XCTAssertThrowsError(try m(["\\p{Greek}*"], "α"))
    }

    /// The RE2-subset engine on syntax beyond what typical patterns produce.
    func testRegexpEngine() throws {
        typealias R = PatternMatcher.Regexp
        let cases: [(String, String, Bool)] = [
            ("^(ab|cd)+$", "abcdab", true), ("^(ab|cd)+$", "abc", false), ("^(?:x)?y$", "y", true),
            ("^a.c$", "a\nc", false), ("^a.c$", "abc", true), ("^[^a]$", "\n", true),
            ("^\\Qa.b\\E$", "a.b", true), ("^\\Qa.b\\E$", "axb", false),
            ("^\\x41\\x{42}\\103$", "ABC", true), ("^[[:^digit:]]+$", "ab", true), ("^[[:^digit:]]+$", "a1", false),
            ("^\\D\\s\\W$", "a .", true), ("^\\bab\\b$", "ab", true), ("a\\Bb", "ab", true), ("b$", "ab", true),
            ("^[a-c-]+$", "a-c", true), ("^[]a]+$", "]a", true), ("^\\pL+$", "héllo", true), ("^\\PL$", "1", true),
            ("^\\p{^Nd}$", "x", true), ("^[\\d\\-]+$", "1-2", true), ("^a{$", "a{", true),
        ]
        for (pattern, text, expected) in cases {
            XCTAssertEqual(try R(pattern).matches(text), expected, "\(pattern) ~ \(text.debugDescription)")
        }
        for invalid in ["a**", "*a", "(a", "a)", "[a", "[z-a]", "\\", "\\q", "\\1", "\\C", "[[:nope:]]", "a{2}", "(?i)a", "\\p{Nope}"] {
            XCTAssertThrowsError(try R(invalid), invalid)
        }
    }

    func testWalkWithMatchInfoFollowsFsutil() throws {
        // The per-pattern walk (what fsutil does) and MatchesOrParentMatches can differ when
        // an exception is followed by a re-exclusion; the walk result is BuildKit's.
        let matcher = try PatternMatcher(patterns: ["a", "!a/b", "a"])
        var info = PatternMatcher.MatchInfo()
        var results: [Bool] = []
        for path in ["a", "a/b", "a/b/c"] {
            let r = try matcher.matchesUsingParentResults(path, parentInfo: info)
            results.append(r.matched)
            info = r.info
        }
        XCTAssertEqual(results, [true, false, false])
        XCTAssertTrue(try matcher.matchesOrParentMatches("a/b/c"))

        let other = try PatternMatcher(patterns: ["x"])
        XCTAssertThrowsError(try other.matchesUsingParentResults("x/y", parentInfo: info)) {
            XCTAssertEqual($0 as? PatternMatcherError, .wrongNumberOfParentResults)
        }
    }

    func testFlagWalkWithoutExceptions() throws {
        let matcher = try PatternMatcher(patterns: ["node_modules", "*.log", "build/**"])
        XCTAssertTrue(try matcher.matchesUsingParentResults("node_modules", parentMatched: false))
        XCTAssertTrue(try matcher.matchesUsingParentResults("node_modules/x/y.js", parentMatched: true))
        XCTAssertTrue(try matcher.matchesUsingParentResults("debug.log", parentMatched: false))
        XCTAssertFalse(try matcher.matchesUsingParentResults("src/debug.log", parentMatched: false))
        XCTAssertFalse(try matcher.matchesUsingParentResults("build", parentMatched: false))
        XCTAssertTrue(try matcher.matchesUsingParentResults("build/out", parentMatched: false))
    }

    func testMayReincludeUnder() throws {
        let none = try PatternMatcher(patterns: ["docs", "*.md"])
        XCTAssertFalse(none.hasExclusions)
        XCTAssertFalse(none.mayReincludeUnder("docs"))

        let plain = try PatternMatcher(patterns: ["docs", "!docs/keep/README.md", "vendor", "!vendor/lib/**"])
        XCTAssertTrue(plain.hasExclusions)
        XCTAssertTrue(plain.mayReincludeUnder("docs"))
        XCTAssertTrue(plain.mayReincludeUnder("docs/keep"))
        XCTAssertFalse(plain.mayReincludeUnder("docs/other"))
        XCTAssertTrue(plain.mayReincludeUnder("vendor"))
        XCTAssertTrue(plain.mayReincludeUnder("vendor/lib"))
        XCTAssertFalse(plain.mayReincludeUnder("vendor/bin"))
        XCTAssertFalse(plain.mayReincludeUnder("doc"))           // not a prefix at a '/' boundary
        // fsutil compares prefixes only: a directory named like the exception is descended.
        XCTAssertTrue(plain.mayReincludeUnder("docs/keep/README.md"))

        // A wildcard exception could re-include anything: always descend.
        let wild = try PatternMatcher(patterns: ["**", "!**/*.go"])
        XCTAssertTrue(wild.mayReincludeUnder("any/dir"))

        // And the walk really re-includes below an excluded directory.
        let docs = try plain.matchesUsingParentResults("docs", parentInfo: .init())
        let keep = try plain.matchesUsingParentResults("docs/keep", parentInfo: docs.info)
        let readme = try plain.matchesUsingParentResults("docs/keep/README.md", parentInfo: keep.info)
        let other = try plain.matchesUsingParentResults("docs/keep/other", parentInfo: keep.info)
        XCTAssertEqual([docs.matched, keep.matched, readme.matched, other.matched], [true, true, false, true])
    }

    func testIgnoreFileReadAllDetails() {
        XCTAssertEqual(IgnoreFile.readAll("\u{FEFF}a\r\n# c\n  /b/../c/  \n!  /d\n\n e/./f "), ["a", "c", "!d", "e/f"])
        XCTAssertEqual(IgnoreFile.readAll(" # not a comment"), ["# not a comment"])
        XCTAssertEqual(IgnoreFile.readAll("/"), ["/"])
    }

    func testGoClean() {
        let cases = [("", "."), ("abc", "abc"), ("abc/", "abc"), ("a//b", "a/b"), ("./a", "a"),
                     ("a/./b", "a/b"), ("a/../b", "b"), ("../a", "../a"), ("/../a", "/a"),
                     ("a/b/../../..", ".."), ("/", "/"), ("**/", "**"), ("!docs/", "!docs"), ("//a//", "/a")]
        for (input, expected) in cases {
            XCTAssertEqual(PatternMatcher.goClean(input), expected, input)
        }
        XCTAssertEqual(PatternMatcher.goDir("file/"), "file")
        XCTAssertEqual(PatternMatcher.goDir("file"), ".")
        XCTAssertEqual(PatternMatcher.goDir("/"), "/")
        XCTAssertEqual(PatternMatcher.ancestorPrefixes(of: "a/b/c"), ["a", "a/b"])
        XCTAssertEqual(PatternMatcher.ancestorPrefixes(of: "/"), ["", "/"])
    }

    /// A 20,000-entry walk against a typical ignore file excludes exactly the `**/*.log`
    /// files (speed is measured by scripts/bench-build, not here).
    func testLargeWalkExcludesExactlyTheLogFiles() throws {
        let matcher = try PatternMatcher(patterns: IgnoreFile.readAll("""
            .git
            node_modules
            **/*.log
            *.tmp
            build/**
            docs/*.md
            !docs/README.md
            **/__pycache__
            src/**/test_*.py
            """))
        var paths: [String] = []
        for i in 0..<200 {
            for j in 0..<100 {
                paths.append("src/module\(i)/sub\(j % 7)/file\(j).\(j % 3 == 0 ? "py" : "log")")
            }
        }
        var excluded: [String] = []
        for path in paths where try matcher.matchesOrParentMatches(path) { excluded.append(path) }
        XCTAssertEqual(excluded, paths.filter { $0.hasSuffix(".log") })
    }
}
