import Foundation

/// Compose's top-level `include:` of other local compose files (short form `- path`, or
/// `- path: file` / `- path: [file, …]`), read as buildx reads them through compose-go: each
/// included file's services become targets too, a relative path names a file next to the
/// including one, and an included service may not also be defined by the including file.
enum ComposeInclude {
    /// Includes nest at most this deep (an include cycle is reported before).
    static let maximumDepth = 16

    /// The `include:` paths of a compose root, each relative to the including file's directory.
    static func paths(_ root: YAMLNode, including file: String) throws -> [(path: String, position: SourcePosition)] {
        guard let node = root["include"] else { return [] }
        guard case .sequence(let items, _) = node else { throw BakeError("'include' must be a list of compose files", at: node.position) }
        let directory = (file as NSString).deletingLastPathComponent
        func resolved(_ path: String) -> String {
            path.hasPrefix("/") || directory.isEmpty || file == "-" ? path : directory + "/" + path
        }
        var paths: [(String, SourcePosition)] = []
        for item in items {
            switch item {
            case .scalar(let path, _, let position): paths.append((resolved(path), position))
            case .mapping(let keys, let position):
                for (key, value) in keys where key != "path" {
                    throw BakeError("include.\(key) is not supported (slipway includes local compose files by 'path' only)", at: value.position)
                }
                switch item["path"] {
                case .scalar(let path, _, _)?: paths.append((resolved(path), position))
                case .sequence(let list, _)?:
                    for entry in list {
                        guard case .scalar(let path, _, let at) = entry else { throw BakeError("an include path must be a file path", at: entry.position) }
                        paths.append((resolved(path), at))
                    }
                default: throw BakeError("an include entry needs a 'path'", at: position)
                }
            default: throw BakeError("an include entry must be a path or a mapping with 'path'", at: item.position)
            }
        }
        return paths
    }

    /// Reads one included file (bounded to 1 MiB, as env files are).
    static func file(_ path: String, at position: SourcePosition) throws -> BakeFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BakeError("included compose file '\(path)' cannot be read", at: position)
        }
        guard data.count <= 1 << 20 else { throw BakeError("included compose file '\(path)' is larger than 1 MiB", at: position) }
        guard let text = String(data: data, encoding: .utf8) else { throw BakeError("included compose file '\(path)' is not UTF-8 text", at: position) }
        return BakeFile(name: path, text: text)
    }

    /// A relative build context of an included file names a directory next to that file.
    static func rebase(_ target: inout BakeTarget, onto directory: String) {
        guard !directory.isEmpty, directory != "." else { return }
        let context = target.context ?? "."
        guard !context.hasPrefix("/"), !context.contains("://"), !context.hasPrefix("git@") else { return }
        target.context = ComposeValues.cleanPath(directory + "/" + context)
    }
}
