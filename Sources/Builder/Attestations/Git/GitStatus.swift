import Foundation

/// Whether a git work tree has anything `git status --porcelain --ignored` would list, which
/// is what buildx checks (build/git.go, with `BUILDX_GIT_CHECK_DIRTY`) before it appends
/// `-dirty` to `vcs:revision`: staged changes (the tree the index makes, as `git write-tree`
/// would compute it, is not HEAD's tree),
/// unstaged ones (a tracked file deleted, changed in type, mode, size or content — content
/// hashed as git hashes a blob when the size matches but the modification time does not), an
/// unmerged entry, or any file the index does not track, ignored ones included.
///
/// Read from `.git` directly (slipway never runs git), so what cannot be known without git
/// counts as dirty: a split index, a HEAD commit that cannot be read (an object store this
/// reader does not know, such as alternates or a multi-pack index alone). Content
/// filters (`.gitattributes` `filter=`, `eol`, `core.autocrlf`) are not applied: a file whose
/// stat data changed and whose checked-out bytes differ from the blob counts as changed.
/// Submodules are checked to be there, not looked into.
enum GitStatus {
    /// At most this many files and directories are walked looking for untracked files.
    static let walkLimit = 2_000_000

    /// nil when clean; else the first reason found (for `--debug` and tests).
    static func dirtiness(workTree root: String, gitDirectory: String, commonDirectory: String, head: String) -> String? {
        let hashLength = head.count == 64 ? 32 : 20
        let indexPath = gitDirectory + "/index"
        guard let index = GitIndex.read(indexPath, hashLength: hashLength) else {
            return FileManager.default.fileExists(atPath: indexPath) ? "the index cannot be read" : "there is no index"
        }
        if let unsupported = index.unsupported { return "the index is \(unsupported), which slipway does not read" }
        let objects = GitObjects(objectsDirectory: commonDirectory + "/objects", hashLength: hashLength)
        guard let headTree = objects.tree(ofCommit: head) else { return "HEAD's commit \(head) cannot be read" }
        if let entry = index.entries.first(where: { $0.stage != 0 }) { return "\(entry.path) is unmerged" }
        if let entry = index.entries.first(where: \.intentToAdd) { return "\(entry.path) is to be added" }
        guard GitObjects.hex(index.treeID(hashLength: hashLength)) == headTree else { return "the index differs from HEAD (staged changes)" }

        // `core.filemode = false` (a repository made where the exec bit means nothing): git ignores it.
        let fileMode = GitWorkTree.configValue("core", "filemode", configAt: commonDirectory + "/config").map { !["false", "no", "off", "0"].contains($0.lowercased()) } ?? true
        var indexTime = stat()
        guard lstat(indexPath, &indexTime) == 0 else { return "the index cannot be read" }
        var tracked: Set<String> = []
        var gitlinks: Set<String> = []
        for entry in index.entries {
            tracked.insert(entry.path)
            if entry.mode & 0o170000 == 0o160000 { gitlinks.insert(entry.path) }
            if let change = change(entry, root: root, indexTime: indexTime, hashLength: hashLength, fileMode: fileMode) { return change }
        }
        return untracked(root: root, tracked: tracked, gitlinks: gitlinks)
    }

    private static func change(_ entry: GitIndex.Entry, root: String, indexTime: stat, hashLength: Int, fileMode: Bool) -> String? {
        if entry.stage != 0 { return "\(entry.path) is unmerged" }
        if entry.intentToAdd { return "\(entry.path) is to be added" }
        if entry.skipWorktree || entry.assumeValid { return nil }
        let path = root + "/" + entry.path
        var info = stat()
        guard lstat(path, &info) == 0 else { return "\(entry.path) is deleted" }
        let type = info.st_mode & S_IFMT
        switch entry.mode & 0o170000 {
        case 0o160000:
            // A submodule: git status looks inside it; slipway only checks it is there.
            return type == S_IFDIR ? nil : "submodule \(entry.path) is missing"
        case 0o120000:
            guard type == S_IFLNK else { return "\(entry.path) changed type" }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let length = readlink(path, &buffer, buffer.count)
            guard length >= 0 else { return "\(entry.path) cannot be read" }
            return GitObjects.blobID(Array(buffer.prefix(length)), hashLength: hashLength) == entry.id ? nil : "\(entry.path) is modified"
        default:
            guard type == S_IFREG else { return "\(entry.path) changed type" }
            if fileMode, (entry.mode & 0o100 != 0) != (info.st_mode & 0o100 != 0) { return "\(entry.path) changed mode" }
            guard UInt32(truncatingIfNeeded: info.st_size) == entry.size else { return "\(entry.path) is modified" }
            // Same size and time as when git last hashed it, and older than the index (git's
            // "racy" rule): unchanged without reading it.
            let sameTime = UInt32(truncatingIfNeeded: info.st_mtim.tv_sec) == entry.mtimeSeconds
                && UInt32(truncatingIfNeeded: info.st_mtim.tv_nsec) == entry.mtimeNanoseconds
            let racy = info.st_mtim.tv_sec > indexTime.st_mtim.tv_sec
                || (info.st_mtim.tv_sec == indexTime.st_mtim.tv_sec && info.st_mtim.tv_nsec >= indexTime.st_mtim.tv_nsec)
            if sameTime && !racy { return nil }
            let id = GitObjects.blobID(streaming: path, size: Int(info.st_size), hashLength: hashLength)
            return id == entry.id ? nil : "\(entry.path) is modified"
        }
    }

    /// The first file (or nested repository) in the work tree that the index does not track.
    private static func untracked(root: String, tracked: Set<String>, gitlinks: Set<String>) -> String? {
        var pending = [""]
        var visited = 0
        while let relative = pending.popLast() {
            let directory = relative.isEmpty ? root : root + "/" + relative
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return "\(relative) cannot be read" }
            for name in names {
                visited += 1
                guard visited <= walkLimit else { return "the work tree has more than \(walkLimit) files to compare" }
                if name == ".git" { continue }
                let path = relative.isEmpty ? name : relative + "/" + name
                var info = stat()
                guard lstat(root + "/" + path, &info) == 0 else { continue }
                if info.st_mode & S_IFMT == S_IFDIR {
                    if gitlinks.contains(path) { continue }
                    if FileManager.default.fileExists(atPath: root + "/" + path + "/.git") { return "\(path)/ is another repository, not tracked" }
                    pending.append(path)
                } else if !tracked.contains(path) {
                    return "\(path) is not tracked"
                }
            }
        }
        return nil
    }
}
