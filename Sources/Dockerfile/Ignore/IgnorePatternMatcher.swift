/// The .dockerignore (and `COPY --exclude`) matcher: a faithful port of moby/patternmatcher
/// v0.6.x, which BuildKit uses for both. Users' ignore files were written against its exact
/// behaviour — including oddities such as `**/` prefixes matching by suffix and `abc/**` not
/// matching `abc` itself — so the translation rules are reproduced rather than redesigned.
///
/// Paths are slash-separated and relative to the context root (`dir/file.txt`); they are not
/// cleaned (except by ``legacyMatches(_:patterns:)``). `true` means "excluded".
///
/// Evaluation walks the patterns in order, keeping a `matched` flag: a pattern is only
/// consulted when it could change the flag (an exception `!p` only while matched, a normal
/// pattern only while unmatched), and a hit sets `matched = !pattern.isExclusion`.
///
/// The value is immutable after `init` (every pattern is compiled there), so it is
/// `Sendable` and safe to share between concurrent walkers.
public struct PatternMatcher: Sendable {
    /// One cleaned pattern of the list.
    public struct Pattern: Sendable, CustomStringConvertible {
        /// The pattern after `TrimSpace`, `filepath.Clean` and removal of the leading `!`.
        public let cleanedPattern: String
        /// Whether the pattern was written `!pattern` (re-includes what earlier ones excluded).
        public let isExclusion: Bool

        enum Kind: Sendable {
            case exact([UInt8])
            case prefix([UInt8])
            case suffix([UInt8])
            case regexp(Regexp)
            /// The derived regexp does not compile: every match reports a bad pattern
            /// (`New()` accepted it, as upstream does; e.g. `[Local-Only]`).
            case invalid
        }

        let kind: Kind
        /// Number of `/`-separated segments (used by the legacy `Matches`).
        let segmentCount: Int

        public var description: String { cleanedPattern }

        init(cleaned: String, isExclusion: Bool) {
            cleanedPattern = cleaned
            self.isExclusion = isExclusion
            segmentCount = cleaned.utf8.lazy.filter { $0 == UInt8(ascii: "/") }.count + 1
            kind = Pattern.compile(cleaned)
        }

        /// patternmatcher's `compile`: pick the cheapest match type and build the regexp.
        static func compile(_ pattern: String) -> Kind {
            enum Detected { case exact, prefix, suffix, regexp }
            var regex = "^"
            var detected = Detected.exact
            var scalars = Array(pattern.unicodeScalars)
            // Go's text/scanner skips a byte-order mark at the very start.
            if scalars.first == "\u{FEFF}" { scalars.removeFirst() }
            var k = 0
            var iteration = 0
            while k < scalars.count {
                defer { iteration += 1 }
                let ch = scalars[k]
                k += 1
                let peek: Unicode.Scalar? = k < scalars.count ? scalars[k] : nil
                switch ch {
                case "*":
                    if peek == "*" {
                        // Some flavour of "**"; "**/" is treated as "**".
                        k += 1
                        if k < scalars.count && scalars[k] == "/" { k += 1 }
                        if k == scalars.count {
                            // "**" at the end: accept everything below (like .gitignore).
                            if detected == .exact {
                                detected = .prefix
                            } else {
                                regex += ".*"
                                detected = .regexp
                            }
                        } else {
                            // Any number of leading directories, including none.
                            regex += "(.*/)?"
                            detected = .regexp
                        }
                        if iteration == 0 { detected = .suffix }
                    } else {
                        regex += "[^/]*"
                        detected = .regexp
                    }
                case "?":
                    regex += "[^/]"
                    detected = .regexp
                case ".", "+", "(", ")", "|", "{", "}", "$":
                    regex += "\\" + String(ch)
                case "\\":
                    if let next = peek {
                        regex += "\\" + String(next)
                        k += 1
                        detected = .regexp
                    } else {
                        regex += "\\"
                    }
                case "[", "]":
                    regex.unicodeScalars.append(ch)
                    detected = .regexp
                default:
                    regex.unicodeScalars.append(ch)
                }
            }
            let bytes = Array(pattern.utf8)
            switch detected {
            case .exact:
                return .exact(bytes)
            case .prefix:
                return .prefix(Array(bytes.dropLast(2)))   // strip trailing "**"
            case .suffix:
                return .suffix(Array(bytes.dropFirst(2)))  // strip leading "**"
            case .regexp:
                regex += "$"
                guard let compiled = try? Regexp(regex) else { return .invalid }
                return .regexp(compiled)
            }
        }

        /// patternmatcher's `Pattern.match`.
        func matches(_ path: String) throws(PatternMatcherError) -> Bool {
            var candidate = Candidate(path)
            return try matches(&candidate)
        }

        func matches(_ candidate: inout Candidate) throws(PatternMatcherError) -> Bool {
            switch kind {
            case .exact(let literal):
                return candidate.path.utf8.elementsEqual(literal)
            case .prefix(let prefix):
                return candidate.path.utf8.starts(with: prefix)
            case .suffix(let suffix):
                let bytes = candidate.path.utf8
                if bytes.count >= suffix.count && bytes.suffix(suffix.count).elementsEqual(suffix) { return true }
                // "**/foo" also matches "foo" itself.
                return suffix.first == UInt8(ascii: "/") && bytes.elementsEqual(suffix.dropFirst())
            case .regexp(let regexp):
                return regexp.matches(&candidate)
            case .invalid:
                throw .badPattern
            }
        }

        /// Whether the pattern matches `path` or one of its `ancestors`; errors while
        /// checking the ancestors are ignored, as upstream does.
        func matchesSelfOrAncestor(_ path: inout Candidate, _ ancestors: inout [Candidate]) throws(PatternMatcherError) -> Bool {
            if try matches(&path) { return true }
            for i in ancestors.indices where (try? matches(&ancestors[i])) == true { return true }
            return false
        }
    }

    /// A path being matched, with its scalar values computed once for all regexp patterns.
    struct Candidate {
        let path: String
        private var cachedScalars: [UInt32]?

        init(_ path: String) { self.path = path }

        mutating func scalars() -> [UInt32] {
            if let cachedScalars { return cachedScalars }
            let values = path.unicodeScalars.map(\.value)
            cachedScalars = values
            return values
        }

        static func ancestors(of path: String) -> [Candidate] {
            PatternMatcher.ancestorPrefixes(of: path).map(Candidate.init)
        }
    }

    /// Per-pattern results for a directory, passed down to its entries during a walk
    /// (patternmatcher's `MatchInfo`). The empty value means "no information": matching then
    /// falls back to checking every ancestor, like ``matchesOrParentMatches(_:)``.
    public struct MatchInfo: Sendable, Equatable {
        var parentMatched: [Bool]

        /// No parent information (use for entries at the root of the walk).
        public init() { parentMatched = [] }

        init(_ values: [Bool]) { parentMatched = values }
    }

    /// The cleaned patterns, in order.
    public let patterns: [Pattern]
    /// Whether any pattern is an exception (`!pattern`). Without exceptions an excluded
    /// directory can be skipped wholesale during a walk.
    public let hasExclusions: Bool
    /// fsutil's `onlyPrefixExcludeExceptions`: every exception is a plain path (after
    /// dropping a trailing `/**` or `/*`), so it can only re-include below its own prefix.
    let exceptionsArePlainPrefixes: Bool

    /// patternmatcher's `New`: each pattern is `TrimSpace`d (empty ones dropped),
    /// `filepath.Clean`ed, split from a leading `!`, and syntax-checked with Go's
    /// `filepath.Match(pattern, ".")`.
    /// - Throws: ``PatternMatcherError/illegalExclusionPattern`` for a lone `!`,
    ///   ``PatternMatcherError/badPattern`` for glob syntax errors.
    public init(patterns: [String]) throws {
        var result: [Pattern] = []
        result.reserveCapacity(patterns.count)
        var exclusions = false
        for raw in patterns {
            var p = PatternMatcher.goTrimSpace(raw)
            if p.isEmpty { continue }
            p = PatternMatcher.goClean(p)
            var exclusion = false
            if p.utf8.first == UInt8(ascii: "!") {
                if p.utf8.count == 1 { throw PatternMatcherError.illegalExclusionPattern }
                exclusion = true
                p = String(p.unicodeScalars.dropFirst())
                exclusions = true
            }
            _ = try Glob.match(p, ".")
            result.append(Pattern(cleaned: p, isExclusion: exclusion))
        }
        self.patterns = result
        hasExclusions = exclusions
        let patternChars = Set("*[]?^\\".utf8)
        exceptionsArePlainPrefixes = result.allSatisfy { pattern in
            !pattern.isExclusion || !PatternMatcher.withoutTrailingGlob(pattern.cleanedPattern).utf8.contains(where: patternChars.contains)
        }
    }

    /// patternmatcher's `MatchesOrParentMatches`: a pattern hits when it matches `path` or
    /// any of its ancestor directories (`a`, `a/b`, ... of `filepath.Dir(path)`). This is
    /// what BuildKit uses for single lookups and `COPY --exclude`.
    /// - Throws: ``PatternMatcherError/badPattern`` when a consulted pattern's regexp is invalid.
    public func matchesOrParentMatches(_ path: String) throws -> Bool {
        var candidate = Candidate(path)
        var ancestors = Candidate.ancestors(of: path)
        var matched = false
        for pattern in patterns where pattern.isExclusion == matched {
            if try pattern.matchesSelfOrAncestor(&candidate, &ancestors) {
                matched = !pattern.isExclusion
            }
        }
        return matched
    }

    /// patternmatcher's `MatchesUsingParentResults`, the form fsutil's context walk uses:
    /// pass the `info` returned for the entry's parent directory (or an empty
    /// ``MatchInfo`` at the root); keep the returned `info` for a directory's children.
    /// Patterns that matched the parent are not re-evaluated, so each entry costs one
    /// match per consulted pattern.
    public func matchesUsingParentResults(_ path: String, parentInfo: MatchInfo) throws -> (matched: Bool, info: MatchInfo) {
        let parent = parentInfo.parentMatched
        if !parent.isEmpty && parent.count != patterns.count {
            throw PatternMatcherError.wrongNumberOfParentResults
        }
        var candidate = Candidate(path)
        var ancestors: [Candidate]?
        var matched = false
        var info = [Bool](repeating: false, count: patterns.count)
        for (i, pattern) in patterns.enumerated() {
            var hit = parent.isEmpty ? false : parent[i]
            if !hit {
                if pattern.isExclusion != matched { continue }
                hit = try pattern.matches(&candidate)
                if !hit && parent.isEmpty {
                    // No parent context: behave like MatchesOrParentMatches.
                    if ancestors == nil { ancestors = Candidate.ancestors(of: path) }
                    for k in ancestors!.indices where (try? pattern.matches(&ancestors![k])) == true {
                        hit = true
                        break
                    }
                }
            }
            info[i] = hit
            if hit { matched = !pattern.isExclusion }
        }
        return (matched, MatchInfo(info))
    }

    /// Walk helper for callers that only keep one flag per directory.
    ///
    /// A single flag cannot carry per-pattern state, so this is exact only when there are
    /// no exception patterns (then "parent excluded" implies "excluded", and otherwise only
    /// `path` itself needs checking). With exceptions it falls back to
    /// ``matchesOrParentMatches(_:)``, which agrees with the fsutil walk on every upstream
    /// test case; prefer ``matchesUsingParentResults(_:parentInfo:)`` for BuildKit-exact
    /// results and for speed.
    public func matchesUsingParentResults(_ path: String, parentMatched: Bool) throws -> Bool {
        if hasExclusions { return try matchesOrParentMatches(path) }
        if parentMatched { return true }
        var candidate = Candidate(path)
        for pattern in patterns where try pattern.matches(&candidate) { return true }
        return false
    }

    /// patternmatcher's deprecated `MatchesUsingParentResult` (single flag, no fallback);
    /// known to be wrong with exceptions (docker/buildx#850). Kept for conformance checks.
    public func legacyMatchesUsingParentResult(_ path: String, parentMatched: Bool) throws -> Bool {
        var matched = parentMatched
        var candidate = Candidate(path)
        for pattern in patterns where pattern.isExclusion == matched {
            if try pattern.matches(&candidate) { matched = !pattern.isExclusion }
        }
        return matched
    }

    /// patternmatcher's deprecated method `Matches`: like ``matchesOrParentMatches(_:)``
    /// but a pattern of N segments is only tried against the first N segments of the
    /// parent directory.
    func legacyMatches(_ path: String) throws -> Bool {
        let parentPath = PatternMatcher.goDir(path)
        let parentDirs = PatternMatcher.goSplitSlash(parentPath)
        var matched = false
        for pattern in patterns where pattern.isExclusion == matched {
            var hit = try pattern.matches(path)
            if !hit && parentPath != "." && pattern.segmentCount <= parentDirs.count {
                let prefix = parentDirs[0..<pattern.segmentCount].joined(separator: "/")
                hit = (try? pattern.matches(prefix)) ?? false
            }
            if hit { matched = !pattern.isExclusion }
        }
        return matched
    }

    /// patternmatcher's deprecated package-level `Matches(file, patterns)`: `New`, then the
    /// path is `filepath.Clean`ed (`.` never matches) and checked with the legacy method.
    /// Kept for its conformance cases (glob syntax and errors); not used for contexts.
    public static func legacyMatches(_ path: String, patterns: [String]) throws -> Bool {
        let matcher = try PatternMatcher(patterns: patterns)
        let cleaned = goClean(path)
        if cleaned == "." { return false }
        return try matcher.legacyMatches(cleaned)
    }

    /// For a directory walk: after `dir` (context-relative, no trailing slash) was found
    /// excluded, must it still be descended because an exception could re-include
    /// something below it? Mirrors fsutil's skip logic: `false` without exceptions; when
    /// every exception is a plain path (optionally ending in `/*` or `/**`), `true` only if
    /// one of them lies below `dir`; otherwise (wildcard exceptions) conservatively `true`.
    public func mayReincludeUnder(_ dir: String) -> Bool {
        if !hasExclusions { return false }
        if !exceptionsArePlainPrefixes { return true }
        let dirSlash = Array((dir + "/").utf8)
        for pattern in patterns where pattern.isExclusion {
            let candidate = Array((PatternMatcher.withoutTrailingGlob(pattern.cleanedPattern) + "/").utf8)
            if candidate.starts(with: dirSlash) { return true }
        }
        return false
    }

    /// fsutil's `patternWithoutTrailingGlob`: drop one trailing `/**`, then one `/*`.
    static func withoutTrailingGlob(_ pattern: String) -> String {
        var bytes = Array(pattern.utf8)
        for suffix in ["/**", "/*"] {
            let s = Array(suffix.utf8)
            if bytes.count >= s.count && bytes.suffix(s.count).elementsEqual(s) {
                bytes.removeLast(s.count)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Reading a .dockerignore file the way BuildKit does (moby/patternmatcher `ignorefile`).
public enum IgnoreFile {
    /// `ignorefile.ReadAll`: one pattern per line; a UTF-8 BOM is dropped; lines starting
    /// with `#` (in column 0) are comments; lines are `TrimSpace`d and empty ones skipped;
    /// a leading `!` is split off and the rest trimmed again; the path is `filepath.Clean`ed
    /// and one leading `/` removed (patterns are context-relative); then `!` is re-attached.
    /// A bare `!` is kept (``PatternMatcher/init(patterns:)`` rejects it).
    public static func readAll(_ text: String) -> [String] {
        var result: [String] = []
        var lines = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            .map { Array($0) }
        // bufio.ScanLines: no empty token after a final newline, and "\r\n" endings.
        if lines.last?.isEmpty == true { lines.removeLast() }
        for (index, var line) in lines.enumerated() {
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            if index == 0 && line.starts(with: [0xEF, 0xBB, 0xBF]) { line.removeFirst(3) }
            if line.first == UInt8(ascii: "#") { continue }
            var pattern = PatternMatcher.goTrimSpace(String(decoding: line, as: UTF8.self))
            if pattern.isEmpty { continue }
            let invert = pattern.utf8.first == UInt8(ascii: "!")
            if invert {
                pattern = PatternMatcher.goTrimSpace(String(pattern.unicodeScalars.dropFirst()))
            }
            if !pattern.isEmpty {
                pattern = PatternMatcher.goClean(pattern)
                if pattern.utf8.count > 1 && pattern.utf8.first == UInt8(ascii: "/") {
                    pattern = String(pattern.unicodeScalars.dropFirst())
                }
            }
            result.append(invert ? "!" + pattern : pattern)
        }
        return result
    }
}
