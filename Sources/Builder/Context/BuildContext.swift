import Foundation
import Dockerfile
import Layers

/// A directory that COPY and ADD read from (the main context or a named `--build-context`),
/// with its `.dockerignore` applied and every path kept inside the root: nothing a
/// Dockerfile says can make slipway read a file outside the directory it was given.
final class BuildContext: Sendable {
    let root: String
    let name: String
    private let ignore: PatternMatcher?

    init(root: String, name: String, ignorePatterns: [String]) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw BuildError("build context '\(root)' is not a directory")
        }
        let trimmed = root.count > 1 && root.hasSuffix("/") ? String(root.dropLast()) : root
        // Paths below the root are RawName-decoded; the root is too, so the whole path encodes back.
        self.root = RawName.decode(Array(trimmed.utf8))
        self.name = name
        do {
            ignore = ignorePatterns.isEmpty ? nil : try PatternMatcher(patterns: ignorePatterns)
        } catch {
            throw BuildError("invalid .dockerignore pattern in context '\(name)': \(error)")
        }
    }

    /// Whether a .dockerignore filters the directory (RUN --mount binds it as it is otherwise).
    var hasIgnorePatterns: Bool { ignore != nil }

    func absolute(_ relative: String) -> String {
        relative.isEmpty ? root : root + "/" + relative
    }

    /// Whether `relative` is excluded by .dockerignore (parents decide for their children).
    func isIgnored(_ relative: String) throws -> Bool {
        guard let ignore, !relative.isEmpty else { return false }
        return try ignore.matchesOrParentMatches(relative)
    }

    func info(_ relative: String) throws -> FileInfo {
        try FileInfo.lstat(absolutePath: absolute(relative), relativePath: relative)
    }

    /// Follows a symlink chain inside the context; a link that resolves outside, or a loop, is
    /// refused with the path named.
    func followSymlinks(_ start: FileInfo) throws -> FileInfo {
        var current = start
        var hops = 0
        while current.kind == .symlink, let target = current.linkTarget {
            hops += 1
            if hops > 40 { throw BuildError("too many levels of symbolic links at '\(start.relativePath)' in context '\(name)'") }
            let joined = target.hasPrefix("/") ? target : ContextPath.join(ContextPath.dirname(current.relativePath), target)
            let cleaned = ContextPath.clean(target.hasPrefix("/") ? joined : joined)
            // An absolute target is outside the context (it names the host's file system).
            guard !target.hasPrefix("/"), cleaned != "..", !cleaned.hasPrefix("../") else {
                throw BuildError("'\(start.relativePath)' is a symlink to '\(target)', which is outside the build context '\(name)'; copy the file into the context instead")
            }
            let relative = cleaned == "." ? "" : cleaned
            // Resolve symlinked parents too: each prefix must itself stay inside.
            let resolvedParent = try resolveParents(of: relative, origin: start.relativePath)
            current = try info(resolvedParent)
        }
        return current
    }

    /// Resolves symlinks in the directory part of a context path.
    func resolveParents(of relative: String, origin: String) throws -> String {
        let components = relative.split(separator: "/").map(String.init)
        guard components.count > 1 else { return relative }
        var resolved = ""
        for component in components.dropLast() {
            let candidate = try info(ContextPath.join(resolved, component))
            let followed = candidate.kind == .symlink ? try followSymlinks(candidate) : candidate
            guard followed.kind == .directory else {
                throw BuildError("'\(origin)': '\(ContextPath.join(resolved, component))' is not a directory in context '\(name)'")
            }
            resolved = followed.relativePath
        }
        return ContextPath.join(resolved, components[components.count - 1])
    }

    /// The entries a COPY source names: one path, or every match of a wildcard pattern. Each
    /// comes with the name it was matched by and what it is once symlinks are followed.
    func resolveSource(_ source: String, instruction: String) throws -> [(name: String, info: FileInfo)] {
        guard let relative = ContextPath.contextRelative(source) else {
            throw BuildError("\(instruction) source '\(source)' is outside the build context; only files under '\(root)' can be copied")
        }
        var candidates: [String] = [""]
        if ContextPath.hasGlobMeta(relative) {
            for component in relative.split(separator: "/").map(String.init) {
                var next: [String] = []
                for base in candidates {
                    guard ContextPath.hasGlobMeta(component) else {
                        next.append(ContextPath.join(base, component))
                        continue
                    }
                    for name in DirectoryNames.list(absolute(base)) ?? [] {
                        let isMatch: Bool
                        do { isMatch = try Glob.match(component, name) } catch {
                            throw BuildError("\(instruction) source '\(source)' is not a valid pattern: \(error)")
                        }
                        if isMatch { next.append(ContextPath.join(base, name)) }
                    }
                }
                candidates = next
            }
        } else {
            candidates = [relative]
        }
        var results: [(name: String, info: FileInfo)] = []
        for path in candidates {
            if try isIgnored(path) {
                if candidates.count == 1 {
                    throw BuildError("\(instruction) source '\(source)' is excluded by .dockerignore in context '\(name)'")
                }
                continue
            }
            let resolvedPath: String
            if ContextPath.hasGlobMeta(relative) {
                // A wildcard level that met a file (not a directory) matches nothing there.
                guard let parents = try? resolveParents(of: path, origin: source) else { continue }
                resolvedPath = parents
            } else {
                resolvedPath = try resolveParents(of: path, origin: source)
            }
            guard let found = try? info(resolvedPath) else {
                if candidates.count == 1 && !ContextPath.hasGlobMeta(relative) {
                    throw BuildError("\(instruction) source '\(source)' not found in build context '\(name)'")
                }
                continue
            }
            results.append((path, found.kind == .symlink ? try followSymlinks(found) : found))
        }
        // A wildcard that matches nothing adds nothing (BuildKit's AllowEmptyWildcard); the
        // instruction fails only when none of its sources matched.
        if results.isEmpty && !ContextPath.hasGlobMeta(relative) {
            throw BuildError("\(instruction) source '\(source)' matched no files in build context '\(name)'")
        }
        return results
    }

    /// Every entry below a directory (not the directory itself), in bytewise path order,
    /// without ignored entries; `exclude` adds COPY --exclude patterns relative to `dir`.
    /// Visits every entry below a directory, streaming: nothing of the walk is kept, so a
    /// context of 100,000 files costs only what the caller keeps of it.
    func walk(_ dir: FileInfo, exclude: PatternMatcher?, visit: (FileInfo) throws -> Void) throws {
        // The ignore state of the directory itself, as BuildKit's walker carries it.
        var ignoreInfo = PatternMatcher.MatchInfo()
        if let ignore, !dir.relativePath.isEmpty {
            for prefix in ancestors(of: dir.relativePath) {
                ignoreInfo = try ignore.matchesUsingParentResults(prefix, parentInfo: ignoreInfo).info
            }
        }
        try walk(relative: dir.relativePath, below: "", ignoreInfo: ignoreInfo, excludeInfo: PatternMatcher.MatchInfo(),
                 exclude: exclude, visit: visit)
    }

    private func ancestors(of path: String) -> [String] {
        var result: [String] = []
        var current = ""
        for component in path.split(separator: "/") {
            current = ContextPath.join(current, String(component))
            result.append(current)
        }
        return result
    }

    private func walk(relative: String, below: String, ignoreInfo: PatternMatcher.MatchInfo, excludeInfo: PatternMatcher.MatchInfo,
                      exclude: PatternMatcher?, visit: (FileInfo) throws -> Void) throws {
        guard let names = DirectoryNames.list(absolute(relative)) else {
            throw BuildError("cannot list '\(relative.isEmpty ? "." : relative)' in context '\(name)': \(String(cString: strerror(errno)))")
        }
        for name in names {
            let child = ContextPath.join(relative, name)
            let childBelow = ContextPath.join(below, name)
            let ignoreResult = try ignore.map { try $0.matchesUsingParentResults(child, parentInfo: ignoreInfo) }
            let excludeResult = try exclude.map { try $0.matchesUsingParentResults(childBelow, parentInfo: excludeInfo) }
            let ignored = ignoreResult?.matched ?? false
            let excluded = excludeResult?.matched ?? false
            let info = try FileInfo.lstat(absolutePath: absolute(child), relativePath: child)
            if info.kind == .directory {
                let descend = (!ignored || ignore?.mayReincludeUnder(child) == true)
                    && (!excluded || exclude?.mayReincludeUnder(childBelow) == true)
                if !ignored && !excluded { try visit(info) }
                if descend {
                    try walk(relative: child, below: childBelow, ignoreInfo: ignoreResult?.info ?? ignoreInfo,
                             excludeInfo: excludeResult?.info ?? excludeInfo, exclude: exclude, visit: visit)
                }
                continue
            }
            if ignored || excluded { continue }
            // A socket is sent as an empty regular file (BuildKit's testCopySocket).
            if case .other(let what) = info.kind, what != "socket" {
                throw BuildError("'\(child)' in \(phrase) is a \(what), which cannot be copied into an image; add it to .dockerignore")
            }
            try visit(info)
        }
    }
}
