import Layers

/// Where one COPY/ADD writes, and what it may write there, by the rules of BuildKit's copy
/// (tonistiigi/fsutil): parent directories are created root-owned 0755 (or with `--chown` and
/// an octal `--chmod`); a directory merges into an existing directory but never replaces a
/// file or symlink ("cannot copy to non-directory"); a file replaces a file or symlink but
/// never a directory. Checks see the stage's tree plus what this instruction placed before.
struct CopyPlacement {
    let tree: FileTree
    let owner: (uid: Int, gid: Int)?
    let chmod: ChmodSpec?
    /// Whether placed non-directories are remembered: needed only when several sources can
    /// land on the same path, so a 100,000-file single-source COPY keeps no second index.
    let trackFiles: Bool
    private(set) var entries: [LayerEntry] = []
    /// Kinds this instruction placed: true for a directory.
    private var placed: [String: Bool] = [:]
    /// Symlinks extracted from an archive by this instruction, which later entries follow.
    private var links: [String: String] = [:]

    init(tree: FileTree, owner: (uid: Int, gid: Int)?, chmod: ChmodSpec?, trackFiles: Bool) {
        self.tree = tree
        self.owner = owner
        self.chmod = chmod
        self.trackFiles = trackFiles
    }

    enum Existing { case none, directory, other }

    /// Room for `count` more entries (an archive's), so a large extraction grows the list once.
    mutating func reserveCapacity(_ count: Int) {
        entries.reserveCapacity(entries.count + count)
    }

    /// `lstat` of a key in the tree as this instruction has left it so far.
    func existing(_ key: String) -> Existing {
        if key.isEmpty { return .directory }
        if let isDirectory = placed[key] { return isDirectory ? .directory : .other }
        guard let entry = tree.node(key) else { return .none }
        if case .directory = entry.kind { return .directory }
        return .other
    }

    /// BuildKit's `MkdirAll` with the instruction's owner and mode: every missing directory on
    /// the way to `key` (and `key`) is created; an existing non-directory on the way fails.
    mutating func makeDirectories(_ key: String, mode: UInt32? = nil) throws {
        var prefix = ""
        for component in key.split(separator: "/") {
            prefix = prefix.isEmpty ? String(component) : prefix + "/" + component
            switch existing(prefix) {
            case .directory: continue
            case .other: throw BuildError("mkdir /\(prefix): not a directory")
            case .none:
                let (uid, gid) = owner ?? (0, 0)
                append(LayerEntry(path: prefix, kind: .directory, mode: mode ?? chmod?.createdDirectoryMode ?? 0o755, uid: uid, gid: gid))
            }
        }
    }

    /// A directory of the source at `key`. The top of a copied directory keeps an existing
    /// directory's metadata; directories below it take the source's (as `cp -a` does).
    mutating func placeDirectory(_ key: String, from node: SourceNode, top: Bool) throws {
        switch existing(key) {
        case .other:
            throw BuildError("cannot copy to non-directory: /\(key) (the stage has a file or symlink there; copy to the directory it points to instead)")
        case .directory where top:
            return
        case .directory, .none:
            append(entry(key, kind: .directory, node: node))
        }
    }

    /// A file, symlink or hard link of the source at `key`.
    mutating func placeFile(_ key: String, kind: LayerEntry.Kind, from node: SourceNode) throws {
        if existing(key) == .directory {
            throw BuildError("cannot replace to directory /\(key) with file (the stage has a directory there; copy into it with a trailing '/')")
        }
        append(entry(key, kind: kind, node: node))
    }

    /// An entry extracted from an archive (path relative to the image root): `--chown`
    /// applies, `--chmod` does not (BuildKit untars with the archive's modes), and symlinks on
    /// the way — the stage's or the archive's own — are followed inside the image, as an
    /// untar in the image's root does. Like tar, it replaces whatever is there.
    mutating func placeExtracted(_ entry: LayerEntry) {
        var placedEntry = entry
        placedEntry.path = resolveParent(entry.path)
        if case .hardlink(let target) = entry.kind { placedEntry.kind = .hardlink(target: resolveParent(target)) }
        if let (uid, gid) = owner { placedEntry.uid = uid; placedEntry.gid = gid }
        if case .symlink(let target) = placedEntry.kind { links[placedEntry.path] = target } else { links[placedEntry.path] = nil }
        append(placedEntry)
    }

    /// A key with the symlinks of its directory part followed (not of its last component).
    func resolveParent(_ key: String) -> String {
        let parent = ContextPath.dirname(key)
        guard !parent.isEmpty else { return key }
        let resolved = tree.rootPath(parent) { candidate in
            if let target = links[candidate] { return .symlink(target: target) }
            if let isDirectory = placed[candidate] { return isDirectory ? .directory : .regularFile(.bytes([])) }
            return nil
        }
        return ContextPath.join(resolved, ContextPath.basename(key))
    }

    private func entry(_ key: String, kind: LayerEntry.Kind, node: SourceNode) -> LayerEntry {
        var isDirectory = false
        if case .directory = kind { isDirectory = true }
        var mode = node.mode & 0o7777
        if let chmod {
            // A symlink's own mode is never changed (chmod follows links, and BuildKit keeps 0777).
            if case .symlink = kind {} else { mode = chmod.apply(to: mode, isDirectory: isDirectory) }
        }
        let (uid, gid) = owner ?? (node.uid, node.gid)
        return LayerEntry(path: key, kind: kind, mode: mode, uid: uid, gid: gid)
    }

    private mutating func append(_ entry: LayerEntry) {
        guard !entry.path.isEmpty else { return }
        entries.append(entry)
        var isDirectory = false
        if case .directory = entry.kind { isDirectory = true }
        if isDirectory || trackFiles || placed[entry.path] != nil { placed[entry.path] = isDirectory }
    }
}
