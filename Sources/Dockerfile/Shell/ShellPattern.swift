/// The glob patterns of `${name#pat}`, `${name%pat}` and `${name/pat/repl}`.
///
/// BuildKit converts them to Go regexps (`*` → `.*` or `.*?`, `?` → `.`, everything else
/// literal, `\*` `\?` `\\` escapes, `\}` and `\/` meaning `}` and `/`) and uses Go's
/// leftmost-first match semantics. Since the only operators are literals, "any character"
/// and "any run", a small backtracking matcher with memoisation gives exactly the same
/// match positions without a regexp engine. Like Go's `.`, `?` and `*` do not match a
/// newline.
enum ShellPattern {
    /// An escape other than `\*`, `\?`, `\\`, `\}`, `\/` (Go: `invalid escape '\x'`).
    struct InvalidEscape: Error, CustomStringConvertible {
        var character: Unicode.Scalar?
        var description: String { "invalid escape '\\\(character.map { String($0) } ?? "")'" }
    }

    enum Element: Equatable {
        case literal(Unicode.Scalar)
        case anyChar
        case anyRun
    }

    /// BuildKit's `convertShellPatternToRegex`, producing elements instead of a regexp.
    static func compile(_ pattern: [Unicode.Scalar]) throws -> [Element] {
        var elements: [Element] = []
        var i = 0
        // Go's text/scanner skips a leading byte-order mark.
        if pattern.first == "\u{FEFF}" { i = 1 }
        while i < pattern.count {
            let c = pattern[i]
            i += 1
            switch c {
            case "*":
                elements.append(.anyRun)
            case "?":
                elements.append(.anyChar)
            case "\\":
                // `}` and `/` had to be escaped to fit in ${}; the escape is not part of
                // the pattern, the character is then taken as a literal.
                if i < pattern.count && (pattern[i] == "}" || pattern[i] == "/") { continue }
                let escaped: Unicode.Scalar? = i < pattern.count ? pattern[i] : nil
                if i < pattern.count { i += 1 }
                guard let escaped, escaped == "*" || escaped == "?" || escaped == "\\" else {
                    throw InvalidEscape(character: escaped)
                }
                elements.append(.literal(escaped))
            default:
                elements.append(.literal(c))
            }
        }
        return elements
    }

    /// A compiled pattern bound to one subject string, answering "where does the
    /// leftmost-first match starting at `start` end?" with memoised backtracking.
    struct Matcher {
        let elements: [Element]
        let greedy: Bool
        let subject: [Unicode.Scalar]
        /// memo[e * (n + 1) + pos]: -2 unknown, -1 no match, else the match end.
        var memo: [Int]

        init(_ elements: [Element], greedy: Bool, subject: [Unicode.Scalar]) {
            self.elements = elements
            self.greedy = greedy
            self.subject = subject
            memo = [Int](repeating: -2, count: (elements.count + 1) * (subject.count + 1))
        }

        /// The end of the first match (in Go's preference order) of elements[e...] at pos.
        mutating func end(_ e: Int, _ pos: Int) -> Int? {
            if e == elements.count { return pos }
            let key = e * (subject.count + 1) + pos
            if memo[key] != -2 { return memo[key] >= 0 ? memo[key] : nil }
            var result: Int?
            switch elements[e] {
            case .literal(let c):
                if pos < subject.count && subject[pos] == c { result = end(e + 1, pos + 1) }
            case .anyChar:
                if pos < subject.count && subject[pos] != "\n" { result = end(e + 1, pos + 1) }
            case .anyRun:
                var limit = pos
                while limit < subject.count && subject[limit] != "\n" { limit += 1 }
                if greedy {
                    var k = limit
                    while k >= pos {
                        if let r = end(e + 1, k) { result = r; break }
                        k -= 1
                    }
                } else {
                    for k in pos...limit {
                        if let r = end(e + 1, k) { result = r; break }
                    }
                }
            }
            memo[key] = result ?? -1
            return result
        }

        /// Go's `FindStringIndex` from `from`: leftmost start, then first-preference end.
        mutating func find(from: Int) -> (start: Int, end: Int)? {
            var start = from
            while start <= subject.count {
                if let e = end(0, start) { return (start, e) }
                start += 1
            }
            return nil
        }
    }

    /// `${name#pat}` / `${name##pat}`: remove the shortest/longest matching prefix.
    static func trimPrefix(pattern: String, value: String, greedy: Bool) throws -> String {
        let subject = Array(value.unicodeScalars)
        var matcher = Matcher(try compile(Array(pattern.unicodeScalars)), greedy: greedy, subject: subject)
        guard let end = matcher.end(0, 0) else { return value }
        return String(String.UnicodeScalarView(subject[end...]))
    }

    /// `${name%pat}` / `${name%%pat}`: like BuildKit, reverse the pattern (keeping `\x`
    /// pairs in order) and the value, and trim a prefix.
    static func trimSuffix(pattern: String, value: String, greedy: Bool) throws -> String {
        let reversedValue = String(String.UnicodeScalarView(value.unicodeScalars.reversed()))
        let trimmed = try trimPrefix(pattern: reversePattern(pattern), value: reversedValue, greedy: greedy)
        return String(String.UnicodeScalarView(trimmed.unicodeScalars.reversed()))
    }

    /// BuildKit's `reversePattern`: `a\*c` → `c\*a`.
    static func reversePattern(_ pattern: String) -> String {
        let p = Array(pattern.unicodeScalars)
        guard !p.isEmpty else { return pattern }
        var out = p
        let last = p.count - 1
        var i = 0
        while i <= last {
            let tok = p[i]
            let outIndex = last - i
            if tok == "\\" && i != last {
                out[outIndex - 1] = tok
                out[outIndex] = p[i + 1]
                i += 2
            } else {
                out[outIndex] = tok
                i += 1
            }
        }
        return String(String.UnicodeScalarView(out))
    }

    /// `${name/pat/repl}` (first match, replacement inserted verbatim) and
    /// `${name//pat/repl}` (Go's `ReplaceAllString`: every non-overlapping match, where
    /// `$0`/`${0}` in the replacement stand for the match and `$$` for `$`).
    static func replace(pattern: String, in value: String, with replacement: String, all: Bool) throws -> String {
        let subject = Array(value.unicodeScalars)
        var matcher = Matcher(try compile(Array(pattern.unicodeScalars)), greedy: true, subject: subject)
        var out = String.UnicodeScalarView()
        if !all {
            guard let (start, end) = matcher.find(from: 0) else { return value }
            out.append(contentsOf: subject[..<start])
            out.append(contentsOf: replacement.unicodeScalars)
            out.append(contentsOf: subject[end...])
            return String(out)
        }
        let template = Array(replacement.unicodeScalars)
        var lastMatchEnd = 0
        var searchPos = 0
        while searchPos <= subject.count {
            guard let (start, end) = matcher.find(from: searchPos) else { break }
            out.append(contentsOf: subject[lastMatchEnd..<start])
            // No replacement for an empty match right after the previous match.
            if end > lastMatchEnd || start == 0 {
                expand(template, match: subject[start..<end], into: &out)
            }
            lastMatchEnd = end
            // Advance past the match, by at least one character.
            if searchPos + 1 > end {
                searchPos += 1
            } else {
                searchPos = end
            }
        }
        out.append(contentsOf: subject[lastMatchEnd...])
        return String(out)
    }

    /// Go's `Regexp.expand` for a regexp without capture groups: only group 0 exists.
    static func expand(_ template: [Unicode.Scalar], match: ArraySlice<Unicode.Scalar>, into out: inout String.UnicodeScalarView) {
        var i = 0
        while i < template.count {
            let c = template[i]
            i += 1
            if c != "$" {
                out.append(c)
                continue
            }
            if i < template.count && template[i] == "$" {
                out.append("$")
                i += 1
                continue
            }
            // $name or ${name}; a malformed reference leaves the `$` as text.
            var j = i
            let braced = j < template.count && template[j] == "{"
            if braced { j += 1 }
            let nameStart = j
            while j < template.count, ShellWordState.isLetter(template[j]) || ShellWordState.isDigit(template[j]) || template[j] == "_" {
                j += 1
            }
            if j == nameStart || (braced && (j >= template.count || template[j] != "}")) {
                out.append("$")
                continue
            }
            let name = template[nameStart..<j]
            i = braced ? j + 1 : j
            if name.count == 1 && name.first == "0" {
                out.append(contentsOf: match)
            }
            // Any other group number or name does not exist: expands to nothing.
        }
    }
}
