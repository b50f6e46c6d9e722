import Dockerfile
import Layers

/// `COPY --parents` as BuildKit runs it: the source splits at its first `/./` into a directory
/// to copy from (the source root when there is no pivot) and a pattern below it; what the
/// pattern matches is copied with its path from that directory, and the directories on the
/// way are created with the source's metadata only when something below them is copied.
/// A path without wildcards must exist; a pattern that matches nothing copies nothing.
extension CopyPlanner {
    static func placeParents(_ raw: String, request: CopyRequest, from source: CopySource, into destinationKey: String,
                             placement: inout CopyPlacement) throws {
        let root: String
        let rawPattern: String
        if let pivot = raw.range(of: "/./") {
            root = raw[..<pivot.lowerBound].isEmpty ? "/" : String(raw[..<pivot.lowerBound])
            rawPattern = String(raw[pivot.upperBound...])
        } else {
            root = "/"
            rawPattern = raw
        }
        let pattern = String(ContextPath.clean("/" + rawPattern).dropFirst())
        try placement.makeDirectories(destinationKey)
        let roots = try source.resolve(root, instruction: request.instruction)
        if !ContextPath.hasGlobMeta(root) && !ContextPath.hasGlobMeta(pattern) {
            // BuildKit's RequiredPaths: the named path must exist.
            guard (try? source.resolve(ContextPath.join(FileTree.key(root), pattern), instruction: request.instruction)) != nil else {
                throw BuildError("\(request.instruction) source '\(raw)' not found in \(source.displayName)")
            }
        }
        guard !pattern.isEmpty else {
            for node in roots { try placeAll(node, prefix: "", request: request, source: source, into: destinationKey, placement: &placement) }
            return
        }
        let matcher: PatternMatcher
        do { matcher = try PatternMatcher(patterns: [pattern]) } catch {
            throw BuildError("\(request.instruction) --parents source '\(raw)' is not a valid pattern: \(error)")
        }
        // Walk from the literal directories the pattern starts with (unless --exclude, whose
        // patterns are relative to the copy root, needs the whole walk).
        var components = pattern.split(separator: "/").map(String.init)
        components.removeLast()
        let literal = request.excludes.isEmpty ? Array(components.prefix { !ContextPath.hasGlobMeta($0) }) : []
        for rootNode in roots {
            guard case .directory = rootNode.kind else { continue }
            var pending: [String: SourceNode] = [:]
            var prefix = ""
            for component in literal {
                prefix = ContextPath.join(prefix, component)
                guard let node = try? source.resolve(ContextPath.join(rootNode.matchedPath, prefix), instruction: request.instruction).first else {
                    prefix = ""
                    break
                }
                pending[prefix] = node
            }
            if !literal.isEmpty && prefix.isEmpty { continue }
            let start = prefix.isEmpty ? rootNode : pending[prefix] ?? rootNode
            var links = SourceLinks()
            try source.forEachDescendant(of: start, excludes: request.excludes) { relative, child in
                let path = ContextPath.join(prefix, String(relative))
                guard try matcher.matchesOrParentMatches(path) else {
                    if case .directory = child.kind { pending[path] = child }
                    return
                }
                // The directories on the way, outermost first, once.
                var ancestors: [String] = []
                var parent = ContextPath.dirname(path)
                while !parent.isEmpty, pending[parent] != nil {
                    ancestors.append(parent)
                    parent = ContextPath.dirname(parent)
                }
                for ancestor in ancestors.reversed() {
                    if let node = pending.removeValue(forKey: ancestor) {
                        try placement.placeDirectory(ContextPath.join(destinationKey, ancestor), from: node, top: false)
                    }
                }
                let key = ContextPath.join(destinationKey, path)
                if case .directory = child.kind {
                    try placement.placeDirectory(key, from: child, top: false)
                    return
                }
                try placement.placeFile(key, kind: links.kind(of: child, at: key), from: child)
            }
        }
    }

    /// `--parents` with nothing after the pivot: the whole directory, like a plain COPY of it.
    private static func placeAll(_ node: SourceNode, prefix: String, request: CopyRequest, source: CopySource, into destinationKey: String,
                                 placement: inout CopyPlacement) throws {
        guard case .directory = node.kind else {
            try placement.placeFile(ContextPath.join(destinationKey, ContextPath.basename(node.matchedPath)), kind: node.kind, from: node)
            return
        }
        try source.forEachDescendant(of: node, excludes: request.excludes) { relative, child in
            let key = ContextPath.join(destinationKey, String(relative))
            if case .directory = child.kind {
                try placement.placeDirectory(key, from: child, top: false)
            } else {
                try placement.placeFile(key, kind: child.kind, from: child)
            }
        }
    }
}
