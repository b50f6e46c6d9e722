/// Character classes and string helpers with the exact semantics of the Go functions the
/// reference parser (BuildKit) uses. Dockerfiles are parsed the same way everywhere only if
/// "whitespace", "trim" and "quote" mean the same thing, so these are spelled out here instead
/// of relying on Foundation's similar-but-different notions.
///
/// Everything works on Unicode scalars. (BuildKit treats a few inputs byte-wise, e.g. flag words;
/// the results differ only for non-ASCII text inside `--flags`, which we keep intact.)
enum GoStringRules {
    /// Go `unicode.IsSpace`: the Unicode White_Space property.
    static func isSpace(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    /// The class `[\t\v\f\r ]` of BuildKit's `reWhitespace` (note: no `\n`, ASCII only).
    static func isSplitSpace(_ c: Unicode.Scalar) -> Bool {
        switch c {
        case "\t", "\u{0B}", "\u{0C}", "\r", " ": return true
        default: return false
        }
    }

    /// Go regexp `\s` (RE2 Perl class): `[\t\n\f\r ]`.
    static func isRegexSpace(_ c: Unicode.Scalar) -> Bool {
        switch c {
        case "\t", "\n", "\u{0C}", "\r", " ": return true
        default: return false
        }
    }

    static func scalars(_ s: String) -> [Unicode.Scalar] { Array(s.unicodeScalars) }

    static func string<C: Collection>(_ scalars: C) -> String where C.Element == Unicode.Scalar {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }

    /// Go `strings.TrimSpace`.
    static func trimSpace(_ s: String) -> String {
        let u = scalars(s)
        var start = 0, end = u.count
        while start < end, isSpace(u[start]) { start += 1 }
        while end > start, isSpace(u[end - 1]) { end -= 1 }
        return string(u[start..<end])
    }

    /// Go `strings.TrimLeftFunc(s, unicode.IsSpace)`.
    static func trimLeftSpace(_ s: String) -> String {
        let u = s.unicodeScalars
        guard let first = u.firstIndex(where: { !isSpace($0) }) else { return "" }
        return string(u[first...])
    }

    /// Go `bytes.TrimRight(s, "\r\n")`.
    static func trimNewline(_ s: String) -> String {
        let u = s.unicodeScalars
        guard let last = u.lastIndex(where: { $0 != "\r" && $0 != "\n" }) else { return "" }
        return string(u[...last])
    }

    /// Go `regexp.MustCompile("[\t\v\f\r ]+").Split(s, n)` (n < 0: all pieces).
    static func splitWhitespace(_ s: String, limit: Int = -1) -> [String] {
        let u = scalars(s)
        if u.isEmpty { return [""] }
        var pieces: [String] = []
        var begin = 0
        var i = 0
        while i < u.count {
            if limit > 0 && pieces.count == limit - 1 { break }
            if isSplitSpace(u[i]) {
                var j = i
                while j < u.count, isSplitSpace(u[j]) { j += 1 }
                pieces.append(string(u[begin..<i]))
                begin = j
                i = j
            } else {
                i += 1
            }
        }
        pieces.append(string(u[begin...]))
        return pieces
    }

    /// Byte-exact equality (Swift's `==` on strings uses canonical equivalence; Go compares bytes).
    static func same(_ a: String, _ b: String) -> Bool {
        a.unicodeScalars.elementsEqual(b.unicodeScalars)
    }

    /// Go `strings.Contains`, scalar-exact (no grapheme clustering).
    static func contains(_ s: String, _ needle: String) -> Bool {
        let u = scalars(s), n = scalars(needle)
        if n.isEmpty { return true }
        if u.count < n.count { return false }
        for start in 0...(u.count - n.count) where u[start] == n[0] {
            if u[start..<(start + n.count)].elementsEqual(n) { return true }
        }
        return false
    }

    /// Go `strings.Cut` at the first `separator`: (before, after), or nil when absent.
    static func cut(_ s: String, at separator: Unicode.Scalar) -> (String, String)? {
        let u = s.unicodeScalars
        guard let i = u.firstIndex(of: separator) else { return nil }
        return (string(u[..<i]), string(u[u.index(after: i)...]))
    }

    /// Go `strconv.IsPrint`.
    static func isPrint(_ c: Unicode.Scalar) -> Bool {
        if c.value < 0x80 { return c.value >= 0x20 && c.value < 0x7F }
        switch c.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
             .nonspacingMark, .spacingMark, .enclosingMark,
             .decimalNumber, .letterNumber, .otherNumber,
             .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation,
             .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol:
            return true
        default:
            return false
        }
    }

    /// Go `strconv.Quote`: the quoting used by BuildKit's `Node.Dump()`.
    static func quote(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default:
                if isPrint(c) {
                    out.unicodeScalars.append(c)
                    continue
                }
                switch c.value {
                case 0x07: out += "\\a"
                case 0x08: out += "\\b"
                case 0x0C: out += "\\f"
                case 0x0A: out += "\\n"
                case 0x0D: out += "\\r"
                case 0x09: out += "\\t"
                case 0x0B: out += "\\v"
                case 0..<0x20, 0x7F: out += "\\x" + hex(c.value, width: 2)
                case 0..<0x10000: out += "\\u" + hex(c.value, width: 4)
                default: out += "\\U" + hex(c.value, width: 8)
                }
            }
        }
        return out + "\""
    }

    private static func hex(_ v: UInt32, width: Int) -> String {
        let digits = String(v, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
