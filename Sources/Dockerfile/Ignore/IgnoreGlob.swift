/// Go's `path/filepath.Match` (Unix flavour: `/` separator, `\` escapes).
///
/// BuildKit uses it directly for COPY/ADD source wildcards (where `*` must not cross `/`),
/// and the .dockerignore matcher uses it to reject malformed patterns up front. The
/// semantics are reproduced byte for byte — including Go's quirks — because users'
/// existing Dockerfiles and .dockerignore files were written against them:
///
/// * `*` matches any run of non-`/` bytes, `?` one non-`/` character;
/// * `[...]`/`[^...]` classes with `lo-hi` ranges and `\`-escapes; a class must be
///   non-empty, `-` and `]` must be escaped inside it, `[a-b-c]` is an error;
/// * a trailing lone `\` is an error;
/// * a syntax error is reported even when the name has already failed to match, as long
///   as the matcher reaches the malformed part (Go ≥ 1.16 behaviour); e.g. `a[` is an
///   error for every name, but `x*[` is not for a name not starting with `x`.
public enum Glob {
    /// Reports whether `name` matches the shell file-name `pattern` (whole-string match).
    /// Throws ``PatternMatcherError/badPattern`` when the pattern is malformed.
    public static func match(_ pattern: String, _ name: String) throws -> Bool {
        try matchBytes(Array(pattern.utf8)[...], Array(name.utf8)[...])
    }

    static let slash = UInt8(ascii: "/")
    static let backslash = UInt8(ascii: "\\")

    static func matchBytes(_ patternIn: ArraySlice<UInt8>, _ nameIn: ArraySlice<UInt8>) throws(PatternMatcherError) -> Bool {
        var pattern = patternIn
        var name = nameIn
        nextChunk: while !pattern.isEmpty {
            let (star, chunk, rest) = scanChunk(pattern)
            pattern = rest
            if star && chunk.isEmpty {
                // A trailing * matches the rest of the name unless it has a '/'.
                return !name.contains(slash)
            }
            // Look for a match at the current position. If this is the last chunk it must
            // consume the whole name, otherwise the star could still make it match.
            if let t = try matchChunk(chunk, name), t.isEmpty || !pattern.isEmpty {
                name = t
                continue
            }
            if star {
                // Let the star swallow 1, 2, ... bytes (never a '/').
                var i = name.startIndex
                while i < name.endIndex && name[i] != slash {
                    if let t = try matchChunk(chunk, name[(i + 1)...]) {
                        if pattern.isEmpty && !t.isEmpty {
                            i += 1
                            continue
                        }
                        name = t
                        continue nextChunk
                    }
                    i += 1
                }
            }
            return false
        }
        return name.isEmpty
    }

    /// The next segment of the pattern: a run of non-star items, possibly preceded by stars.
    static func scanChunk(_ patternIn: ArraySlice<UInt8>) -> (star: Bool, chunk: ArraySlice<UInt8>, rest: ArraySlice<UInt8>) {
        var pattern = patternIn
        var star = false
        while pattern.first == UInt8(ascii: "*") {
            pattern = pattern.dropFirst()
            star = true
        }
        var inRange = false
        var i = pattern.startIndex
        while i < pattern.endIndex {
            switch pattern[i] {
            case backslash:
                // Error checking is left to matchChunk.
                if i + 1 < pattern.endIndex { i += 1 }
            case UInt8(ascii: "["):
                inRange = true
            case UInt8(ascii: "]"):
                inRange = false
            case UInt8(ascii: "*"):
                if !inRange { return (star, pattern[..<i], pattern[i...]) }
            default:
                break
            }
            i += 1
        }
        return (star, pattern, pattern[pattern.endIndex...])
    }

    /// Whether `chunk` matches the beginning of `s`; returns the rest of `s` if so. After a
    /// mismatch the chunk is still walked to the end to report syntax errors.
    static func matchChunk(_ chunkIn: ArraySlice<UInt8>, _ sIn: ArraySlice<UInt8>) throws(PatternMatcherError) -> ArraySlice<UInt8>? {
        var chunk = chunkIn
        var s = sIn
        var failed = false
        while let c0 = chunk.first {
            failed = failed || s.isEmpty
            switch c0 {
            case UInt8(ascii: "["):
                var r: UInt32 = 0
                if !failed {
                    let (rune, n) = decodeRune(s)
                    r = rune
                    s = s.dropFirst(n)
                }
                chunk = chunk.dropFirst()
                var negated = false
                if chunk.first == UInt8(ascii: "^") {
                    negated = true
                    chunk = chunk.dropFirst()
                }
                var matched = false
                var ranges = 0
                while true {
                    if chunk.first == UInt8(ascii: "]") && ranges > 0 {
                        chunk = chunk.dropFirst()
                        break
                    }
                    let lo: UInt32
                    (lo, chunk) = try classChar(chunk)
                    var hi = lo
                    if chunk.first == UInt8(ascii: "-") {
                        (hi, chunk) = try classChar(chunk.dropFirst())
                    }
                    matched = matched || (lo <= r && r <= hi)
                    ranges += 1
                }
                failed = failed || matched == negated
            case UInt8(ascii: "?"):
                if !failed {
                    failed = s.first == slash
                    s = s.dropFirst(decodeRune(s).width)
                }
                chunk = chunk.dropFirst()
            default:
                if c0 == backslash {
                    chunk = chunk.dropFirst()
                    if chunk.isEmpty { throw .badPattern }
                }
                if !failed {
                    failed = chunk.first != s.first
                    s = s.dropFirst()
                }
                chunk = chunk.dropFirst()
            }
        }
        return failed ? nil : s
    }

    /// A possibly escaped character of a character class (Go's `getEsc`).
    static func classChar(_ chunkIn: ArraySlice<UInt8>) throws(PatternMatcherError) -> (UInt32, ArraySlice<UInt8>) {
        var chunk = chunkIn
        guard let c0 = chunk.first, c0 != UInt8(ascii: "-"), c0 != UInt8(ascii: "]") else { throw .badPattern }
        if c0 == backslash {
            chunk = chunk.dropFirst()
            if chunk.isEmpty { throw .badPattern }
        }
        let (r, n) = decodeRune(chunk)
        if r == 0xFFFD && n == 1 { throw .badPattern }
        let rest = chunk.dropFirst(n)
        if rest.isEmpty { throw .badPattern }
        return (r, rest)
    }

    /// Go's `utf8.DecodeRune`: invalid or truncated input yields (U+FFFD, 1), empty (U+FFFD, 0).
    /// Needed because the star loop advances byte by byte and can land inside a character.
    static func decodeRune(_ s: ArraySlice<UInt8>) -> (value: UInt32, width: Int) {
        guard let b0 = s.first else { return (0xFFFD, 0) }
        if b0 < 0x80 { return (UInt32(b0), 1) }
        let bad: (UInt32, Int) = (0xFFFD, 1)
        let need: Int
        var value: UInt32
        var minimum: UInt32
        switch b0 {
        case 0xC2...0xDF: need = 1; value = UInt32(b0 & 0x1F); minimum = 0x80
        case 0xE0...0xEF: need = 2; value = UInt32(b0 & 0x0F); minimum = 0x800
        case 0xF0...0xF4: need = 3; value = UInt32(b0 & 0x07); minimum = 0x10000
        default: return bad
        }
        var i = s.startIndex + 1
        for _ in 0..<need {
            guard i < s.endIndex, s[i] & 0xC0 == 0x80 else { return bad }
            value = value << 6 | UInt32(s[i] & 0x3F)
            i += 1
        }
        if value < minimum || value > 0x10FFFF || (0xD800...0xDFFF).contains(value) { return bad }
        return (value, need + 1)
    }
}

/// Errors of the .dockerignore pattern matcher and of ``Glob/match(_:_:)``; the
/// descriptions are Go's messages, so diagnostics read like BuildKit's.
public enum PatternMatcherError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Go's `filepath.ErrBadPattern`: the pattern is malformed (reported by `init` for
    /// glob syntax errors, or at match time when the derived regexp does not compile).
    case badPattern
    /// A pattern consisting of a lone `!`.
    case illegalExclusionPattern
    /// A ``PatternMatcher/MatchInfo`` from a different matcher was passed in.
    case wrongNumberOfParentResults

    public var description: String {
        switch self {
        case .badPattern: return "syntax error in pattern"
        case .illegalExclusionPattern: return "illegal exclusion pattern: \"!\""
        case .wrongNumberOfParentResults: return "wrong number of values in parentMatched"
        }
    }
}
