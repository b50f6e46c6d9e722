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
    var chmod: ChmodSpec?
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
                     owner.map { "\($0.uid):\($0.gid)" } ?? "-", chmod?.text ?? "-"]
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
/// directory", "into a directory when the destination is one", destinations resolved through
/// the stage's symlinks, `--parents`, `--exclude`, `--chown`, `--chmod`, hard links kept
/// among the files of one source, and the parent directories a layer needs. Each source is
/// placed in turn, as BuildKit runs one copy per source. No bytes are read here.
enum CopyPlanner {
    static func plan(_ request: CopyRequest, from source: CopySource, onto tree: FileTree) throws -> [LayerEntry] {
        let destinationPath = ContextPath.resolve(request.destination, workdir: request.workdir)
        // BuildKit's pathRelativeToWorkingDir: "" and "." are "./"; a trailing "/" or "/." is kept.
        let endsLikeDirectory = request.destination.hasSuffix("/") || request.destination.hasSuffix("/.")
            || request.destination == "." || request.destination.isEmpty
        let unresolvedKey = FileTree.key(destinationPath)
        // BuildKit's fs.RootPath: symlinks on the way (and at the end) are followed.
        let destinationKey = tree.rootPath(unresolvedKey)

        if request.parents && request.generated.isEmpty {
            var placement = CopyPlacement(tree: tree, owner: request.owner, chmod: request.chmod, trackFiles: true)
            for raw in request.sources {
                try placeParents(raw, request: request, from: source, into: destinationKey, placement: &placement)
            }
            return layerOrder(placement.entries, tree: tree)
        }
        var items: [SourceNode] = []
        for raw in request.sources {
            // A wildcard that matches nothing adds nothing (BuildKit's AllowEmptyWildcard).
            items.append(contentsOf: try source.resolve(raw, instruction: request.instruction))
        }
        let count = items.count + request.generated.count
        if count == 0 {
            let names = request.sources.map { "'\($0)'" }.joined(separator: ", ")
            throw BuildError("\(request.instruction) source \(names) matched no files in \(source.displayName)")
        }
        var placement = CopyPlacement(tree: tree, owner: request.owner, chmod: request.chmod, trackFiles: count > 1)
        // BuildKit copies each source in turn, so a first directory source (or archive) makes
        // the destination a directory for the rest; a file that would land where the
        // destination should be a directory is refused rather than silently replaced.
        let severalSources = count > 1 && !endsLikeDirectory
        func refuseSeveralSourcesToAFile() throws {
            guard severalSources, placement.existing(destinationKey) != .directory else { return }
            throw BuildError("when using \(request.instruction) with more than one source file, the destination must be a directory and end with a /")
        }

        // The directory part of the destination exists before anything is copied.
        let ensured = endsLikeDirectory ? destinationKey : tree.rootPath(ContextPath.dirname(unresolvedKey))
        func ensureDestination() throws { try placement.makeDirectories(ensured) }

        for item in items {
            if let extract = request.extractArchive, case .regularFile(.path(let file)) = item.kind,
               let extracted = try extract(file) {
                // BuildKit unpacks into a 0755 directory, whatever --chmod says, with the
                // archive's own modes.
                try placement.makeDirectories(destinationKey, mode: 0o755)
                placement.reserveCapacity(extracted.count)
                for entry in extracted {
                    var placed = entry
                    placed.path = ContextPath.join(destinationKey, entry.path)
                    if case .hardlink(let linkTarget) = entry.kind {
                        placed.kind = .hardlink(target: ContextPath.join(destinationKey, linkTarget))
                    }
                    placement.placeExtracted(placed)
                }
                continue
            }
            try ensureDestination()
            // Hard links are kept among the files of one source only, as BuildKit copies each
            // source with a copier of its own.
            var links = SourceLinks()
            func place(_ key: String, _ node: SourceNode, top: Bool) throws {
                guard !key.isEmpty || node.kind == .directory else {
                    throw BuildError("cannot replace to directory / with file")
                }
                if case .directory = node.kind {
                    try placement.placeDirectory(key, from: node, top: top)
                    return
                }
                try placement.placeFile(key, kind: links.kind(of: node, at: key), from: node)
            }
            let destinationIsDirectory = placement.existing(destinationKey) == .directory
            switch item.kind {
            case .directory:
                var target = destinationKey
                if request.parents {
                    target = ContextPath.join(destinationKey, item.matchedPath)
                    try placement.makeDirectories(ContextPath.dirname(target))
                } else if placement.existing(destinationKey) == .none {
                    // Created like a parent (0755, root or --chown), not with the source's metadata.
                    try placement.makeDirectories(destinationKey)
                }
                try place(target, item, top: true)
                let prefix = target.isEmpty ? "" : target + "/"
                try source.forEachDescendant(of: item, excludes: request.excludes) { relative, child in
                    try place(prefix + relative, child, top: false)
                }
            default:
                try refuseSeveralSourcesToAFile()
                let target: String
                if request.parents {
                    target = ContextPath.join(destinationKey, item.matchedPath)
                } else if destinationIsDirectory {
                    target = ContextPath.join(destinationKey, ContextPath.basename(item.matchedPath))
                } else {
                    target = destinationKey
                }
                try placement.makeDirectories(ContextPath.dirname(target))
                try place(target, item, top: true)
            }
        }
        for file in request.generated {
            try refuseSeveralSourcesToAFile()
            try ensureDestination()
            let target = placement.existing(destinationKey) == .directory ? ContextPath.join(destinationKey, file.name) : destinationKey
            try placement.makeDirectories(ContextPath.dirname(target))
            let node = SourceNode(matchedPath: file.name, kind: .regularFile(file.source), mode: file.mode,
                                  uid: 0, gid: 0, linkIdentity: nil, location: "")
            try placement.placeFile(target, kind: node.kind, from: node)
        }
        return layerOrder(placement.entries, tree: tree)
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
                if let existing = tree.node(parent), case .directory = existing.kind {
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
