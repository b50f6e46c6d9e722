import Foundation

/// The git work tree a build context lies in, read from `.git` directly (HEAD, loose refs,
/// `packed-refs`, `config`; linked work trees through `gitdir:` and `commondir`): slipway
/// never runs `git`. What buildx records as `vcs:source` / `vcs:revision` metadata.
struct GitWorkTree: Equatable {
    /// The commit HEAD names (40 or 64 hex digits).
    var revision: String
    /// The `origin` remote's URL (else the first remote's), without credentials; nil when
    /// the repository has no remote.
    var remote: String?
    /// The context directory relative to the work tree's root (`.` for the root itself).
    var contextPath: String
    /// Why the work tree counts as having uncommitted changes (`GitStatus`), when it was
    /// checked (`BUILDX_GIT_CHECK_DIRTY`, as buildx) and has some; nil otherwise.
    var dirty: String?

    /// buildx's `vcs:revision`: the commit, with `-dirty` when the tree has changes.
    var recordedRevision: String { dirty == nil ? revision : revision + "-dirty" }

    /// nil when `directory` is not inside a git work tree, or HEAD names no commit yet.
    /// `checkDirty`: compare the work tree with the index and HEAD (`GitStatus`).
    static func find(containing directory: String, checkDirty: Bool = false) -> GitWorkTree? {
        var current = URL(fileURLWithPath: directory).standardizedFileURL
        var relative: [String] = []
        for _ in 0..<256 {
            if let gitDir = gitDirectory(at: current.path) {
                guard let revision = headRevision(gitDir: gitDir) else { return nil }
                let common = commonDirectory(gitDir: gitDir)
                let dirty = checkDirty ? GitStatus.dirtiness(workTree: current.path, gitDirectory: gitDir, commonDirectory: common, head: revision) : nil
                return GitWorkTree(revision: revision, remote: remoteURL(configAt: common + "/config"),
                                   contextPath: relative.isEmpty ? "." : relative.reversed().joined(separator: "/"), dirty: dirty)
            }
            let parent = current.deletingLastPathComponent()
            if parent.path == current.path { return nil }
            relative.append(current.lastPathComponent)
            current = parent
        }
        return nil
    }

    /// `DIR/.git` as a directory, or the directory a `.git` file's `gitdir:` line names.
    private static func gitDirectory(at directory: String) -> String? {
        let dotGit = directory + "/.git"
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dotGit, isDirectory: &isDirectory) else { return nil }
        if isDirectory.boolValue { return FileManager.default.fileExists(atPath: dotGit + "/HEAD") ? dotGit : nil }
        guard let text = smallFile(dotGit), let line = text.split(separator: "\n").first, line.hasPrefix("gitdir:") else { return nil }
        let path = line.dropFirst("gitdir:".count).trimmingCharacters(in: .whitespaces)
        return path.hasPrefix("/") ? path : directory + "/" + path
    }

    /// A linked work tree keeps refs and config in the main repository (`commondir`).
    private static func commonDirectory(gitDir: String) -> String {
        guard let text = smallFile(gitDir + "/commondir")?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty else { return gitDir }
        return text.hasPrefix("/") ? text : gitDir + "/" + text
    }

    private static func headRevision(gitDir: String) -> String? {
        guard var value = smallFile(gitDir + "/HEAD")?.trimmingCharacters(in: .whitespacesAndNewlines) else { return nil }
        let common = commonDirectory(gitDir: gitDir)
        for _ in 0..<8 {
            guard value.hasPrefix("ref:") else { return isObjectName(value) ? value : nil }
            let ref = value.dropFirst(4).trimmingCharacters(in: .whitespaces)
            guard !ref.contains(".."), ref.hasPrefix("refs/") || ref == "HEAD" else { return nil }
            if let loose = smallFile(gitDir + "/" + ref) ?? smallFile(common + "/" + ref) {
                value = loose.trimmingCharacters(in: .whitespacesAndNewlines)
            } else if let packed = packedRef(ref, common: common) {
                value = packed
            } else {
                return nil
            }
        }
        return nil
    }

    private static func packedRef(_ ref: String, common: String) -> String? {
        guard let text = smallFile(common + "/packed-refs") else { return nil }
        for line in text.split(separator: "\n") where !line.hasPrefix("#") && !line.hasPrefix("^") {
            let parts = line.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[1] == ref, isObjectName(String(parts[0])) { return String(parts[0]) }
        }
        return nil
    }

    private static func isObjectName(_ text: String) -> Bool {
        (text.count == 40 || text.count == 64) && text.allSatisfy { $0.isHexDigit && !$0.isUppercase }
    }

    /// `[remote "origin"] url = …` from git's config (else the first remote's url).
    static func remoteURL(configAt path: String) -> String? {
        guard let text = smallFile(path) else { return nil }
        var section: String?
        var urls: [(remote: String, url: String)] = []
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("[") {
                let inner = line.dropFirst().prefix { $0 != "]" }
                let parts = inner.split(separator: " ", maxSplits: 1)
                if parts.first?.lowercased() == "remote", parts.count == 2 {
                    section = parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
                } else {
                    section = nil
                }
                continue
            }
            guard let remote = section, let eq = line.firstIndex(of: "=") else { continue }
            if line[..<eq].trimmingCharacters(in: .whitespaces).lowercased() == "url" {
                var value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
                if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
                urls.append((remote, value))
            }
        }
        let chosen = urls.first { $0.remote == "origin" } ?? urls.first
        return chosen.map { withoutCredentials($0.url) }
    }

    /// `[SECTION] KEY = VALUE` of git's config (the last one given; section and key
    /// case-insensitive), for simple settings such as `core.filemode`.
    static func configValue(_ section: String, _ key: String, configAt path: String) -> String? {
        guard let text = smallFile(path) else { return nil }
        var current: String?
        var value: String?
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("[") {
                current = line.dropFirst().prefix { $0 != "]" && $0 != " " }.lowercased()
                continue
            }
            guard current == section.lowercased(), let eq = line.firstIndex(of: "=") else { continue }
            if line[..<eq].trimmingCharacters(in: .whitespaces).lowercased() == key.lowercased() {
                value = line[line.index(after: eq)...].split(separator: "#").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            }
        }
        return value
    }

    /// `https://user:token@host/repo` → `https://host/repo`: a token must never reach an attestation.
    static func withoutCredentials(_ url: String) -> String {
        guard let scheme = url.range(of: "://") else { return url }
        let rest = url[scheme.upperBound...]
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        guard let at = rest[..<authorityEnd].lastIndex(of: "@") else { return url }
        return String(url[..<scheme.upperBound]) + String(rest[rest.index(after: at)...])
    }

    private static func smallFile(_ path: String) -> String? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              (attributes[.size] as? NSNumber)?.intValue ?? Int.max <= 8 << 20,
              let data = FileManager.default.contents(atPath: path) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}
