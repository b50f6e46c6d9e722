/// Lexical path cleaning (Go's `path.Clean` rules) for paths that come from Dockerfiles, so
/// `a/./b/../c` and `/a//c` name the same thing and an escape (`..` past the root) is visible.
enum ContextPath {
    /// Cleans a slash path. Keeps a leading "/" if present; returns "." for empty.
    static func clean(_ path: String) -> String {
        let absolute = path.hasPrefix("/")
        var parts: [Substring] = []
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            if component == "." { continue }
            if component == ".." {
                if let last = parts.last, last != ".." { parts.removeLast(); continue }
                if absolute { continue }
            }
            parts.append(component)
        }
        let joined = parts.joined(separator: "/")
        if absolute { return "/" + joined }
        return joined.isEmpty ? "." : joined
    }

    /// A source path of COPY/ADD relative to the context root ("" = the root), or nil when it
    /// would leave the context.
    static func contextRelative(_ source: String) -> String? {
        let trimmed = source.hasPrefix("/") ? String(source.drop(while: { $0 == "/" })) : source
        let cleaned = clean(trimmed)
        if cleaned == "." { return "" }
        if cleaned == ".." || cleaned.hasPrefix("../") { return nil }
        return cleaned
    }

    /// Joins an image path to a working directory and cleans it into an absolute path.
    static func resolve(_ path: String, workdir: String) -> String {
        if path.hasPrefix("/") { return clean(path) }
        return clean((workdir.isEmpty ? "/" : workdir) + "/" + path)
    }

    static func join(_ a: String, _ b: String) -> String {
        if a.isEmpty { return b }
        if b.isEmpty { return a }
        return a + "/" + b
    }

    static func basename(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    static func dirname(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return String(path[..<slash])
    }

    static func hasGlobMeta(_ s: String) -> Bool {
        s.contains { $0 == "*" || $0 == "?" || $0 == "[" || $0 == "\\" }
    }
}
