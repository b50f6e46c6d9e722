import Layers
import OCI

/// The file system of a stage as metadata: what each path is and where its bytes come from.
/// COPY planning reads it (does the destination exist? is it a directory?), `COPY --from`
/// copies out of it, `--chown NAME` looks users up in it and `--output type=local` writes it.
/// Contents stay where they are (the context, a scratch extraction): nothing is read twice.
struct FileTree: Sendable {
    /// Keys are image paths without the leading "/" ("" is the root).
    private(set) var nodes: [String: LayerEntry] = [:]
    /// What produced this tree (a base image and the layer jobs applied in order): two trees
    /// with the same lineage are equal, which lets platforms share planning work. A hash of
    /// the chain, so its size (and every plan key holding it) stays constant however many
    /// instructions the stage has.
    var lineage = "scratch"

    init() {}

    func node(_ path: String) -> LayerEntry? { nodes[FileTree.key(path)] }

    func isDirectory(_ path: String) -> Bool {
        let key = FileTree.key(path)
        if key.isEmpty { return true }
        guard let entry = resolve(key) else { return false }
        if case .directory = entry.kind { return true }
        return false
    }

    /// Follows symlinks (within the image root) to the entry a path names.
    func resolve(_ key: String, depth: Int = 0) -> LayerEntry? {
        guard depth < 40, let entry = nodes[key] else { return nil }
        if case .symlink(let target) = entry.kind {
            let base = target.hasPrefix("/") ? target : "/" + ContextPath.join(ContextPath.dirname(key), target)
            return resolve(FileTree.key(ContextPath.clean(base)), depth: depth + 1)
        }
        return entry
    }

    /// The lineage after layer job `job` is applied.
    mutating func advanceLineage(job: Int) {
        let hasher = SHA256Hasher()
        hasher.update(Array("\(lineage)|\(job)".utf8))
        lineage = "jobs:" + hasher.finalize().hex
    }

    /// Applies one layer's entries on top (later entries replace earlier ones; a directory
    /// replaced by a non-directory drops its children).
    mutating func apply(_ entries: [LayerEntry]) {
        for entry in entries {
            if let existing = nodes[entry.path], case .directory = existing.kind, case .directory = entry.kind {
                nodes[entry.path] = entry
                continue
            }
            if let existing = nodes[entry.path], case .directory = existing.kind {
                removeSubtree(entry.path)
            }
            nodes[entry.path] = entry
        }
    }

    /// Applies an OCI whiteout: `.wh.NAME` removes NAME, `.wh..wh..opq` empties its directory.
    mutating func whiteout(_ path: String) {
        let dir = ContextPath.dirname(path)
        let name = ContextPath.basename(path)
        if name == ".wh..wh..opq" {
            let prefix = dir.isEmpty ? "" : dir + "/"
            for key in nodes.keys where key.hasPrefix(prefix) && key != dir { nodes.removeValue(forKey: key) }
        } else if name.hasPrefix(".wh.") {
            removeSubtree(ContextPath.join(dir, String(name.dropFirst(4))))
        }
    }

    /// Removes a path and, when it was a directory, everything below it. Only a directory
    /// can have descendants (every layer lists its entries' parents), so removing a file does
    /// not scan the tree.
    mutating func removeSubtree(_ path: String) {
        guard let removed = nodes.removeValue(forKey: path), case .directory = removed.kind else { return }
        let prefix = path + "/"
        for key in nodes.keys where key.hasPrefix(prefix) { nodes.removeValue(forKey: key) }
    }

    /// Entries at or below a path, sorted bytewise.
    func subtree(_ path: String) -> [LayerEntry] {
        let key = FileTree.key(path)
        let prefix = key.isEmpty ? "" : key + "/"
        return nodes.values.filter { $0.path == key || $0.path.hasPrefix(prefix) }
            .sorted { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
    }

    var allEntries: [LayerEntry] { subtree("") }

    /// Reads a small file of the tree (e.g. /etc/passwd) for name look-ups.
    func readSmallFile(_ path: String) -> String? {
        guard let entry = resolve(FileTree.key(path)), case .regularFile(let source) = entry.kind else { return nil }
        switch source {
        case .bytes(let bytes): return String(decoding: bytes, as: UTF8.self)
        case .path(let file):
            guard let handle = fopen(file, "r") else { return nil }
            defer { fclose(handle) }
            var data: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while data.count < 4 << 20 {
                let n = fread(&buffer, 1, buffer.count, handle)
                if n <= 0 { break }
                data.append(contentsOf: buffer[0..<n])
            }
            return String(decoding: data, as: UTF8.self)
        }
    }

    static func key(_ path: String) -> String {
        let cleaned = ContextPath.clean(path.hasPrefix("/") ? path : "/" + path)
        return String(cleaned.dropFirst())
    }
}

#if canImport(Glibc)
import Glibc
#endif
