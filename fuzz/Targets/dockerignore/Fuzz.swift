import Dockerfile

/// `.dockerignore` text → patterns → matcher, then matching paths derived from the input itself
/// (each pattern with its leading "!" and slashes removed) and a few fixed ones.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let patterns = IgnoreFile.readAll(text)
    guard let matcher = try? PatternMatcher(patterns: patterns) else { return 0 }
    var paths = ["a", "a/b", "a/b/c.txt", ".git", "Dockerfile", "x/.dockerignore"]
    for p in patterns.prefix(16) {
        let bare = p.drop { $0 == "!" || $0 == "/" }
        paths.append(String(bare))
        paths.append(String(bare) + "/child")
    }
    for path in paths {
        _ = try? matcher.matchesOrParentMatches(path)
        _ = try? PatternMatcher.legacyMatches(path, patterns: Array(patterns.prefix(16)))
    }
    return 0
}
