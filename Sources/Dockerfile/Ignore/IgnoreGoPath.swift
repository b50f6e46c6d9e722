/// The few Go `path/filepath` and `strings` helpers the ignore machinery needs, with Go's
/// exact (byte-wise, lexical, Unix) semantics. They live inside `PatternMatcher` so their
/// names cannot clash with other helpers of the module.
extension PatternMatcher {
    /// Go's `filepath.Clean` on Unix: collapse `//`, drop `.` elements, resolve `..`
    /// lexically, no trailing slash; `""` becomes `"."`.
    static func goClean(_ path: String) -> String {
        let bytes = Array(path.utf8)
        if bytes.isEmpty { return "." }
        let slash = UInt8(ascii: "/"), dot = UInt8(ascii: ".")
        let rooted = bytes[0] == slash
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        if rooted { out.append(slash) }
        // `dotdot` is the length of the prefix of `out` that `..` may not remove.
        var dotdot = out.count
        var r = 0
        let n = bytes.count
        while r < n {
            if bytes[r] == slash {
                r += 1
            } else if bytes[r] == dot && (r + 1 == n || bytes[r + 1] == slash) {
                r += 1
            } else if bytes[r] == dot && r + 1 < n && bytes[r + 1] == dot && (r + 2 == n || bytes[r + 2] == slash) {
                r += 2
                if out.count > dotdot {
                    // Back up to the previous slash.
                    var w = out.count - 1
                    while w > dotdot && out[w] != slash { w -= 1 }
                    out.removeSubrange(w...)
                } else if !rooted {
                    if !out.isEmpty { out.append(slash) }
                    out.append(dot)
                    out.append(dot)
                    dotdot = out.count
                }
            } else {
                if (rooted && out.count != 1) || (!rooted && !out.isEmpty) { out.append(slash) }
                while r < n && bytes[r] != slash {
                    out.append(bytes[r])
                    r += 1
                }
            }
        }
        if out.isEmpty { return "." }
        return String(decoding: out, as: UTF8.self)
    }

    /// Go's `filepath.Dir` on Unix: everything before the last `/`, cleaned.
    static func goDir(_ path: String) -> String {
        let bytes = Array(path.utf8)
        var i = bytes.count - 1
        while i >= 0 && bytes[i] != UInt8(ascii: "/") { i -= 1 }
        return goClean(String(decoding: bytes[0..<(i + 1)], as: UTF8.self))
    }

    /// Go's `strings.Split(s, "/")`.
    static func goSplitSlash(_ s: String) -> [String] {
        s.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
    }

    /// Go's `strings.TrimSpace`: strips leading/trailing Unicode white space (the same set
    /// as Go's `unicode.IsSpace`, i.e. the Unicode White_Space property).
    static func goTrimSpace(_ s: String) -> String {
        let scalars = s.unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(scalars[first...last])
    }

    /// The ancestors Go's matchers test for `path`: `a`, `a/b`, ... of `filepath.Dir(path)`
    /// (nothing when the directory is `.`).
    static func ancestorPrefixes(of path: String) -> [String] {
        let parent = goDir(path)
        if parent == "." { return [] }
        let parts = goSplitSlash(parent)
        var result: [String] = []
        result.reserveCapacity(parts.count)
        var current = ""
        for (i, part) in parts.enumerated() {
            current = i == 0 ? part : current + "/" + part
            result.append(current)
        }
        return result
    }
}
