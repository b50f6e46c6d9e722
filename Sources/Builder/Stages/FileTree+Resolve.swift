import Layers

/// Path resolution inside a stage's file system, as BuildKit resolves COPY, ADD and WORKDIR
/// destinations: a destination is a place in the image, so symlinks on the way there are
/// followed (a usr-merged `/bin -> usr/bin` sends `COPY x /bin/` to `/usr/bin/x`) instead of
/// being replaced by directories.
extension FileTree {
    /// BuildKit's `fs.RootPath`: the key `key` names once every symlink in it (the last
    /// component too) is followed. A dangling link resolves to where it points, `..` stops at
    /// the root and a link loop ends after 255 hops, leaving the rest unresolved.
    /// `overlay` answers first for entries an instruction placed but the tree does not have yet.
    func rootPath(_ key: String, overlay: ((String) -> LayerEntry.Kind?)? = nil) -> String {
        var pending = Array(key.split(separator: "/").map(String.init).reversed())
        var resolved: [String] = []
        var hops = 0
        while let component = pending.popLast() {
            if component == "." || component.isEmpty { continue }
            if component == ".." {
                if !resolved.isEmpty { resolved.removeLast() }
                continue
            }
            let candidate = (resolved + [component]).joined(separator: "/")
            if hops < 255, let kind = overlay?(candidate) ?? node(candidate)?.kind, case .symlink(let target) = kind {
                hops += 1
                if target.hasPrefix("/") { resolved = [] }
                pending.append(contentsOf: target.split(separator: "/").map(String.init).reversed())
                continue
            }
            resolved.append(component)
        }
        return resolved.joined(separator: "/")
    }

    /// Whether the entry at `key` itself (not following a final symlink) is a directory:
    /// `lstat`'s answer, which decides whether COPY merges into it or must refuse.
    func isRealDirectory(_ key: String) -> Bool {
        if key.isEmpty { return true }
        if let entry = node(key), case .directory = entry.kind { return true }
        return false
    }

    /// The names directly inside a directory key, sorted bytewise.
    func childNames(of key: String) -> [String] {
        let prefix = key.isEmpty ? "" : key + "/"
        return subtree(key).compactMap { entry in
            guard entry.path != key, entry.path.hasPrefix(prefix) else { return nil }
            let rest = entry.path.dropFirst(prefix.count)
            return rest.contains("/") ? nil : String(rest)
        }
    }
}
