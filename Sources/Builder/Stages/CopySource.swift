import Dockerfile
import Layers

/// One thing a COPY source names, in a form common to the build context and a stage's
/// file system, so COPY has one set of semantics whatever `--from` says.
struct SourceNode: Sendable {
    /// The path it was matched by, relative to the source root (used for `--parents`).
    var matchedPath: String
    var kind: LayerEntry.Kind
    var mode: UInt32
    var uid: Int
    var gid: Int
    /// (device, inode) when the file has other hard links, to keep links as links.
    var linkIdentity: [UInt64]?
    /// Where to find its children when it is a directory (context path or tree key).
    var location: String
}

/// One COPY source's hard links. BuildKit copies each source with a copier of its own, so a
/// file becomes a hard link only to an earlier-placed file of the same source.
struct SourceLinks {
    private var firstPath: [[UInt64]: String] = [:]

    /// What to place at `key` for `node`: a hard link to the first path this source placed the
    /// same file at, else the node's own kind (and `key` becomes that first path).
    mutating func kind(of node: SourceNode, at key: String) -> LayerEntry.Kind {
        guard let identity = node.linkIdentity else { return node.kind }
        if let first = firstPath[identity] { return .hardlink(target: first) }
        firstPath[identity] = key
        return node.kind
    }
}

protocol CopySource {
    /// Names the source's content for the plan cache: equal identities list equal files.
    var identity: String { get }
    /// How messages name the source ("build context 'context'", "stage 'build'").
    var displayName: String { get }
    /// Owner of copied files when no `--chown` is given: 0 for a context, the recorded owner
    /// for a stage (as BuildKit does).
    func resolve(_ source: String, instruction: String) throws -> [SourceNode]
    /// Every entry below a directory, paths relative to it, parents before children.
    func forEachDescendant(of node: SourceNode, excludes: [String], _ body: (_ relative: Substring, SourceNode) throws -> Void) throws
}

/// `COPY --exclude` patterns, compiled once per instruction.
func excludeMatcher(_ patterns: [String]) throws -> PatternMatcher? {
    guard !patterns.isEmpty else { return nil }
    do { return try PatternMatcher(patterns: patterns) } catch {
        throw BuildError("invalid --exclude pattern: \(error)")
    }
}

/// Reads COPY sources from a build context directory.
struct ContextSource: CopySource {
    let context: BuildContext

    var identity: String { "context:" + context.name }
    var displayName: String { "build context '\(context.name)'" }

    func resolve(_ source: String, instruction: String) throws -> [SourceNode] {
        try context.resolveSource(source, instruction: instruction).map { name, info in
            try node(for: info, matchedPath: name)
        }
    }

    func forEachDescendant(of node: SourceNode, excludes: [String], _ body: (_ relative: Substring, SourceNode) throws -> Void) throws {
        let root = try context.info(node.location)
        let prefixLength = node.location.isEmpty ? 0 : node.location.utf8.count + 1
        try context.walk(root, exclude: try excludeMatcher(excludes)) { info in
            let path = info.relativePath
            let start = path.utf8.index(path.startIndex, offsetBy: prefixLength)
            try body(path[start...], try self.node(for: info, matchedPath: path))
        }
    }

    private func node(for info: FileInfo, matchedPath: String) throws -> SourceNode {
        let kind: LayerEntry.Kind
        switch info.kind {
        case .regular: kind = .regularFile(.path(info.absolutePath))
        case .directory: kind = .directory
        case .symlink: kind = .symlink(target: info.linkTarget ?? "")
        case .other("socket"): kind = .regularFile(.bytes([]))
        case .other(let what):
            throw BuildError("'\(info.relativePath)' in \(context.phrase) is a \(what), which cannot be copied into an image; add it to .dockerignore")
        }
        let identity = info.kind == .regular && info.linkCount > 1 ? [info.device, info.inode] : nil
        return SourceNode(matchedPath: matchedPath, kind: kind, mode: info.mode, uid: 0, gid: 0,
                          linkIdentity: identity, location: info.relativePath)
    }
}

/// Reads COPY sources from another stage's (or an image's) file system.
struct TreeSource: CopySource {
    let tree: FileTree
    let name: String

    var identity: String { "tree:" + tree.lineage }
    var displayName: String { name }

    /// Like the context: symlinks in the source path are followed (the last one too); a
    /// wildcard component matches names of directories on the way and ignores non-directories.
    func resolve(_ source: String, instruction: String) throws -> [SourceNode] {
        let key = FileTree.key(source)
        var matches: [String] = []
        if ContextPath.hasGlobMeta(key) {
            var candidates = [""]
            for component in key.split(separator: "/").map(String.init) {
                var next: [String] = []
                for base in candidates {
                    guard ContextPath.hasGlobMeta(component) else {
                        next.append(ContextPath.join(base, component))
                        continue
                    }
                    let directory = tree.rootPath(base)
                    guard tree.isRealDirectory(directory) else { continue }
                    for name in tree.childNames(of: directory) {
                        let isMatch: Bool
                        do { isMatch = try Glob.match(component, name) } catch {
                            throw BuildError("\(instruction) source '\(source)' is not a valid pattern: \(error)")
                        }
                        if isMatch { next.append(ContextPath.join(base, name)) }
                    }
                }
                candidates = next
            }
            matches = candidates.filter { $0.isEmpty || tree.node(tree.rootPath($0)) != nil }
        } else if key.isEmpty || tree.node(tree.rootPath(key)) != nil {
            matches = [key]
        } else {
            throw BuildError("\(instruction) source '\(source)' not found in \(name)")
        }
        return try matches.map { path in
            let resolved = tree.rootPath(path)
            guard var entry = resolved.isEmpty ? LayerEntry(path: "", kind: .directory, mode: 0o755, uid: 0, gid: 0) : tree.node(resolved) else {
                throw BuildError("\(instruction) source '\(source)' is a dangling symlink in \(name)")
            }
            if !entry.path.isEmpty, case .hardlink(let target) = entry.kind, let linked = tree.resolve(target) {
                entry.kind = linked.kind
            }
            return SourceNode(matchedPath: path, kind: entry.kind, mode: entry.mode, uid: entry.uid, gid: entry.gid,
                              linkIdentity: nil, location: resolved)
        }
    }

    func forEachDescendant(of node: SourceNode, excludes: [String], _ body: (_ relative: Substring, SourceNode) throws -> Void) throws {
        let exclude = try excludeMatcher(excludes)
        let prefix = node.location.isEmpty ? "" : node.location + "/"
        for entry in tree.subtree(node.location) where entry.path != node.location {
            let relative = entry.path.dropFirst(prefix.count)
            if let exclude, try exclude.matchesOrParentMatches(String(relative)) { continue }
            var kind = entry.kind
            if case .hardlink(let target) = kind, let linked = tree.resolve(target) { kind = linked.kind }
            try body(relative, SourceNode(matchedPath: entry.path, kind: kind, mode: entry.mode, uid: entry.uid,
                                          gid: entry.gid, linkIdentity: nil, location: entry.path))
        }
    }
}

import Foundation
