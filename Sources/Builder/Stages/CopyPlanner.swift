import Layers
import OCI

/// A COPY or ADD with every word expanded, ready to turn into layer entries.
struct CopyRequest {
    /// A source that is not a path: a heredoc body or a downloaded URL.
    struct GeneratedFile {
        var name: String
        var source: LayerEntry.FileSource
        var mode: UInt32
    }

    var instruction: String
    var sources: [String]
    var generated: [GeneratedFile]
    var destination: String
    var workdir: String
    var owner: (uid: Int, gid: Int)?
    var chmod: UInt32?
    var parents: Bool
    var excludes: [String]
    /// For ADD: returns the entries of a local archive (paths relative to the destination),
    /// or nil when the file is not an archive.
    var extractArchive: ((String) throws -> [LayerEntry]?)?
}

extension CopyRequest {
    /// Everything that decides the planned entries, so equal fingerprints on equal trees and
    /// sources plan equal layers.
    var fingerprint: String {
        var parts = [instruction, destination, workdir, parents ? "parents" : "", extractArchive == nil ? "" : "unpack",
                     owner.map { "\($0.uid):\($0.gid)" } ?? "-", chmod.map { String($0, radix: 8) } ?? "-"]
        parts += sources.map { "src:" + $0 }
        parts += excludes.map { "exclude:" + $0 }
        for file in generated {
            switch file.source {
            case .path(let path): parts.append("gen:\(file.name):\(file.mode):path:\(path)")
            case .bytes(let bytes): parts.append("gen:\(file.name):\(file.mode):bytes:\(Digest.sha256(of: bytes))")
            }
        }
        return parts.joined(separator: "\u{1}")
    }
}

/// COPY's semantics as BuildKit implements them: wildcards, "copy the contents of a
/// directory", "into a directory when the destination is one", `--parents`, `--exclude`,
/// `--chown`, `--chmod`, hard links kept within the layer, and the parent directories a
/// layer needs. The output is the layer's entries; no bytes are read here.
enum CopyPlanner {
    static func plan(_ request: CopyRequest, from source: CopySource, onto tree: FileTree) throws -> [LayerEntry] {
        let destinationPath = ContextPath.resolve(request.destination, workdir: request.workdir)
        let destinationKey = FileTree.key(destinationPath)
        let endsLikeDirectory = request.destination.hasSuffix("/") || request.destination.hasSuffix("/.")
            || request.destination == "." || request.destination == ".."

        var items: [SourceNode] = []
        var usedWildcard = false
        for raw in request.sources {
            if ContextPath.hasGlobMeta(raw) { usedWildcard = true }
            items.append(contentsOf: try source.resolve(raw, instruction: request.instruction))
        }
        let count = items.count + request.generated.count
        let destinationIsDirectory = endsLikeDirectory || tree.isDirectory(destinationKey)
        if (count > 1 || (usedWildcard && count > 1)) && !destinationIsDirectory {
            throw BuildError("when using \(request.instruction) with more than one source file, the destination must be a directory and end with a /")
        }
        let intoDirectory = destinationIsDirectory || count > 1

        // Appended in walk order; `layerOrder` sorts, de-duplicates and adds parents. An array
        // (not a dictionary) keeps memory at one slot per entry for 100,000-file contexts.
        var entries: [LayerEntry] = []
        var firstPathOfLink: [[UInt64]: String] = [:]

        func owner(_ node: SourceNode) -> (Int, Int) { request.owner ?? (node.uid, node.gid) }
        func mode(_ node: SourceNode) -> UInt32 {
            guard let chmod = request.chmod else { return node.mode }
            return chmod
        }
        func add(_ path: String, _ node: SourceNode) {
            guard !path.isEmpty else { return }
            var kind = node.kind
            if let identity = node.linkIdentity {
                if let first = firstPathOfLink[identity] { kind = .hardlink(target: first) } else { firstPathOfLink[identity] = path }
            }
            let (uid, gid) = owner(node)
            entries.append(LayerEntry(path: path, kind: kind, mode: mode(node), uid: uid, gid: gid))
        }

        for item in items {
            switch item.kind {
            case .directory:
                let target = request.parents ? ContextPath.join(destinationKey, item.matchedPath) : destinationKey
                add(target, item)
                let prefix = target.isEmpty ? "" : target + "/"
                try source.forEachDescendant(of: item, excludes: request.excludes) { relative, child in
                    add(prefix + relative, child)
                }
            default:
                let target: String
                if request.parents {
                    target = ContextPath.join(destinationKey, item.matchedPath)
                } else if intoDirectory {
                    target = ContextPath.join(destinationKey, ContextPath.basename(item.matchedPath))
                } else {
                    target = destinationKey
                }
                if let extract = request.extractArchive, case .regularFile(.path(let file)) = item.kind,
                   let extracted = try extract(file) {
                    entries.reserveCapacity(entries.count + extracted.count)
                    for entry in extracted {
                        var placed = entry
                        placed.path = ContextPath.join(destinationKey, entry.path)
                        if case .hardlink(let linkTarget) = entry.kind {
                            placed.kind = .hardlink(target: ContextPath.join(destinationKey, linkTarget))
                        }
                        if let (uid, gid) = request.owner { placed.uid = uid; placed.gid = gid }
                        if let chmod = request.chmod { placed.mode = chmod }
                        entries.append(placed)
                    }
                    continue
                }
                add(target, item)
            }
        }
        for file in request.generated {
            let target = intoDirectory ? ContextPath.join(destinationKey, file.name) : destinationKey
            let node = SourceNode(matchedPath: file.name, kind: .regularFile(file.source), mode: file.mode,
                                  uid: 0, gid: 0, linkIdentity: nil, location: "")
            add(target, node)
        }
        return layerOrder(entries, tree: tree)
    }

    /// Sorts entries bytewise by path (a later entry for the same path replaces an earlier
    /// one) and adds every missing ancestor directory, as the stage has it (so the layer does
    /// not change it) or as a new root-owned 0755 directory.
    static func layerOrder(_ list: [LayerEntry], tree: FileTree) -> [LayerEntry] {
        var order = Array(list.indices)
        order.sort { a, b in
            let left = list[a].path, right = list[b].path
            if left == right { return a < b }
            return left.utf8.lexicographicallyPrecedes(right.utf8)
        }
        var sorted: [LayerEntry] = []
        sorted.reserveCapacity(list.count)
        for index in order {
            if let last = sorted.last, last.path == list[index].path {
                sorted[sorted.count - 1] = list[index]
            } else {
                sorted.append(list[index])
            }
        }
        order = []
        func contains(_ path: String) -> Bool {
            var low = 0, high = sorted.count
            while low < high {
                let mid = (low + high) / 2
                if sorted[mid].path == path { return true }
                if sorted[mid].path.utf8.lexicographicallyPrecedes(path.utf8) { low = mid + 1 } else { high = mid }
            }
            return false
        }
        var missing: [String: LayerEntry] = [:]
        for entry in sorted {
            var parent = ContextPath.dirname(entry.path)
            while !parent.isEmpty, missing[parent] == nil, !contains(parent) {
                if let existing = tree.resolve(parent), case .directory = existing.kind {
                    var copy = existing
                    copy.path = parent
                    missing[parent] = copy
                } else {
                    missing[parent] = LayerEntry(path: parent, kind: .directory, mode: 0o755, uid: 0, gid: 0)
                }
                parent = ContextPath.dirname(parent)
            }
        }
        guard !missing.isEmpty else { return sorted }
        // Merged in one pass: concatenating and sorting again held three copies of a
        // 200,000-entry layer at once.
        let parents = missing.values.sorted { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
        var merged: [LayerEntry] = []
        merged.reserveCapacity(sorted.count + parents.count)
        var next = parents.startIndex
        for entry in sorted {
            while next < parents.endIndex, parents[next].path.utf8.lexicographicallyPrecedes(entry.path.utf8) {
                merged.append(parents[next])
                next += 1
            }
            merged.append(entry)
        }
        merged.append(contentsOf: parents[next...])
        return merged
    }
}
