import CSandbox
import Foundation
import Layers
import OCI

/// Writes file trees into a directory in place, as BuildKit's local exporter does: what the
/// directory already holds stays unless the output has the same path (`dest=.` must not wipe
/// a project). A file, symlink or link of the output replaces what is at its path, through a
/// temporary sibling renamed over it; a directory is merged into an existing one. A failed
/// export may leave part of the output written, never anything of the user's removed.
///
/// Every path is walked component by component from the destination's descriptor without
/// following symlinks: a link already in the destination is replaced, never written through,
/// so nothing lands outside it. Names go to the system as bytes (`RawName`).
final class DirectoryWriter {
    private let destination: String
    private let root: Int32
    /// Root of the host only: root of slipway's own user namespace (subordinate IDs) writes
    /// the output as the invoking user, as a rootless BuildKit client does.
    private let canChown = geteuid() == 0 && !RootlessNamespace.entered
    /// The directory of the last entry, kept open (a descriptor of its own): entries come
    /// sorted, so siblings share it.
    private var cached: (path: String, fd: Int32)?

    /// Creates the destination (and its parents) when missing; a symlink naming it is followed,
    /// as the user gave that name.
    init(destination: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: destination, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw BuildError("--output dest '\(destination)' exists and is not a directory")
        }
        do { try FileManager.default.createDirectory(atPath: destination, withIntermediateDirectories: true) } catch {
            throw BuildError("cannot create --output dest '\(destination)': \(error.localizedDescription)")
        }
        let fd = open(destination, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw BuildError("cannot open --output dest '\(destination)': \(errnoText())") }
        self.destination = destination
        root = fd
    }

    deinit {
        if let cached { close(cached.fd) }
        close(root)
    }

    /// Writes trees, each below a prefix ("" for the destination itself). Conflicts that would
    /// remove the user's files are found before anything is written.
    func write(_ trees: [(prefix: String, tree: FileTree)]) throws {
        // The root entry is the destination itself: its mode and owner stay the user's.
        let planned = trees.map { item in
            item.tree.allEntries.filter { !$0.path.isEmpty }.map { entry -> LayerEntry in
                var placed = entry
                placed.path = ContextPath.join(item.prefix, entry.path)
                if case .hardlink(let target) = entry.kind { placed.kind = .hardlink(target: ContextPath.join(item.prefix, target)) }
                return placed
            }
        }
        for entries in planned {
            for entry in entries { try checkClean(entry.path) }
            try checkConflicts(entries)
        }
        var directories: [(path: String, mode: UInt32)] = []
        for entries in planned {
            var links: [LayerEntry] = []
            var files: [String: LayerEntry] = [:]
            for entry in entries {
                switch entry.kind {
                case .directory:
                    try makeDirectory(entry)
                    directories.append((entry.path, entry.mode))
                case .regularFile(let source):
                    try writeFile(entry, source)
                    files[entry.path] = entry
                case .symlink(let target): try writeSymlink(entry, target)
                case .special(let special): try writeSpecial(entry, special)
                case .hardlink:
                    links.append(entry)
                    files[entry.path] = entry
                }
            }
            // After every file: a link may sort before the file it names.
            for link in links { try writeHardlink(link, files: files) }
        }
        // Modes last, so a read-only directory does not stop its own contents; after the
        // owner, because changing the owner clears setgid.
        for (path, mode) in directories.reversed() {
            let fd = try walk(to: path, create: false)
            defer { close(fd) }
            guard fchmod(fd, mode_t(mode)) == 0 else { throw failure("cannot set the mode of", path) }
        }
    }

    // MARK: Entries

    private func makeDirectory(_ entry: LayerEntry) throws {
        let (parent, name) = try locate(entry.path)
        let fd = try openOrReplaceDirectory(parent, name, path: entry.path)
        defer { close(fd) }
        if canChown { fchown(fd, uid_t(entry.uid), gid_t(entry.gid)) }
    }

    private func writeFile(_ entry: LayerEntry, _ source: LayerEntry.FileSource) throws {
        let (parent, name) = try locate(entry.path)
        try replace(parent, name, path: entry.path) { temporary in
            let fd = RawName.withCString(temporary) { openat(parent, $0, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600) }
            guard fd >= 0 else { throw failure("cannot create", entry.path) }
            defer { close(fd) }
            switch source {
            case .path(let file):
                let input = RawName.withCString(file) { open($0, O_RDONLY | O_CLOEXEC) }
                guard input >= 0 else { throw BuildError("cannot read \(file) for \(entry.path): \(errnoText())") }
                defer { close(input) }
                do { try FileCopy.contents(from: input, to: fd, what: file) } catch { throw BuildError("cannot write \(entry.path): \(error)") }
            case .bytes(let bytes):
                var rest = bytes[...]
                while !rest.isEmpty {
                    let n = rest.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
                    if n < 0 && errno == EINTR { continue }
                    guard n > 0 else { throw failure("cannot write", entry.path) }
                    rest = rest.dropFirst(n)
                }
            }
            // Owner before mode: changing the owner clears setuid and setgid.
            if canChown { fchown(fd, uid_t(entry.uid), gid_t(entry.gid)) }
            guard fchmod(fd, mode_t(entry.mode & 0o7777)) == 0 else { throw failure("cannot set the mode of", entry.path) }
        }
    }

    private func writeSymlink(_ entry: LayerEntry, _ target: String) throws {
        let (parent, name) = try locate(entry.path)
        try replace(parent, name, path: entry.path) { temporary in
            let made = RawName.withCString(target) { target in RawName.withCString(temporary) { symlinkat(target, parent, $0) } }
            guard made == 0 else { throw failure("cannot create the symlink", entry.path) }
            if canChown {
                _ = RawName.withCString(temporary) { fchownat(parent, $0, uid_t(entry.uid), gid_t(entry.gid), AT_SYMLINK_NOFOLLOW) }
            }
        }
    }

    /// A FIFO or device node of a RUN layer; a device only where the process may make one
    /// (root): elsewhere it is left out, as an unprivileged tar extraction leaves it out.
    private func writeSpecial(_ entry: LayerEntry, _ special: LayerEntry.SpecialFile) throws {
        let (parent, name) = try locate(entry.path)
        let mode = mode_t(entry.mode & 0o7777)
        let (type, device): (mode_t, dev_t)
        switch special {
        case .fifo: (type, device) = (S_IFIFO, 0)
        case .characterDevice(let major, let minor): (type, device) = (S_IFCHR, slipway_make_device(major, minor))
        case .blockDevice(let major, let minor): (type, device) = (S_IFBLK, slipway_make_device(major, minor))
        }
        try replace(parent, name, path: entry.path) { temporary in
            let made = RawName.withCString(temporary) { mknodat(parent, $0, type | mode, device) }
            if made != 0 && errno == EPERM && type != S_IFIFO { return }
            guard made == 0 else { throw failure("cannot create the special file", entry.path) }
            _ = RawName.withCString(temporary) { fchmodat(parent, $0, mode, 0) }
            if canChown {
                _ = RawName.withCString(temporary) { fchownat(parent, $0, uid_t(entry.uid), gid_t(entry.gid), AT_SYMLINK_NOFOLLOW) }
            }
        }
    }

    /// A second name for a file of the output. The target is followed through the tree's chain
    /// of links to the file that holds the content.
    private func writeHardlink(_ entry: LayerEntry, files byPath: [String: LayerEntry]) throws {
        guard case .hardlink(var target) = entry.kind else { return }
        var hops = 0
        while case .hardlink(let next)? = byPath[target]?.kind, hops < 40 { target = next; hops += 1 }
        guard case .regularFile? = byPath[target]?.kind else {
            throw BuildError("cannot export the hard link \(entry.path): its target \(target) is not a regular file of the output")
        }
        let (targetParent, targetName) = try locateUncached(target)
        defer { close(targetParent) }
        let (parent, name) = try locate(entry.path)
        try replace(parent, name, path: entry.path) { temporary in
            let made = RawName.withCString(targetName) { old in RawName.withCString(temporary) { linkat(targetParent, old, parent, $0, 0) } }
            guard made == 0 else { throw failure("cannot create the hard link", entry.path) }
        }
    }

    // MARK: Placing

    /// Creates the new object under a temporary name next to `name`, then renames it over
    /// whatever is there (a rename replaces a symlink itself, never what it points to). An empty
    /// directory in the way is removed; a non-empty one was refused by `checkConflicts`.
    private func replace(_ parent: Int32, _ name: String, path: String, create: (String) throws -> Void) throws {
        let temporary = ".slipway-\(UUID().uuidString.prefix(12))"
        do {
            try create(temporary)
            var renamed = RawName.withCString(temporary) { old in RawName.withCString(name) { renameat(parent, old, parent, $0) } }
            if renamed != 0 && (errno == EISDIR || errno == ENOTEMPTY || errno == EEXIST) {
                guard RawName.withCString(name, { unlinkat(parent, $0, AT_REMOVEDIR) }) == 0 else {
                    throw failure("cannot replace the directory", path)
                }
                renamed = RawName.withCString(temporary) { old in RawName.withCString(name) { renameat(parent, old, parent, $0) } }
            }
            guard renamed == 0 else { throw failure("cannot write", path) }
        } catch {
            _ = RawName.withCString(temporary) { unlinkat(parent, $0, 0) }
            throw error
        }
    }

    /// Opens `name` in `parent` as a directory, creating it, or replacing a non-directory
    /// (file or symlink) in its way.
    private func openOrReplaceDirectory(_ parent: Int32, _ name: String, path: String) throws -> Int32 {
        for attempt in 0..<3 {
            let fd = RawName.withCString(name) { openat(parent, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
            if fd >= 0 { return fd }
            let code = errno
            if attempt == 2 { break }
            switch code {
            case ENOENT:
                if RawName.withCString(name, { mkdirat(parent, $0, 0o755) }) != 0 && errno != EEXIST {
                    throw failure("cannot create the directory", path)
                }
            case ENOTDIR, ELOOP:
                // A file or a symlink where the output has a directory: the link is replaced,
                // never followed.
                guard RawName.withCString(name, { unlinkat(parent, $0, 0) }) == 0 else { throw failure("cannot replace", path) }
            default:
                errno = code
                throw failure("cannot open the directory", path)
            }
        }
        throw failure("cannot create the directory", path)
    }

    /// The open directory holding `path` (created as needed) and the last component.
    private func locate(_ path: String) throws -> (Int32, String) {
        let parentPath = ContextPath.dirname(path)
        if let cached, cached.path == parentPath { return (cached.fd, ContextPath.basename(path)) }
        if let cached { close(cached.fd) }
        cached = nil
        let fd = try walk(to: parentPath, create: true)
        cached = (parentPath, fd)
        return (fd, ContextPath.basename(path))
    }

    /// Like `locate`, with a descriptor of its own for the caller to close.
    private func locateUncached(_ path: String) throws -> (Int32, String) {
        (try walk(to: ContextPath.dirname(path), create: true), ContextPath.basename(path))
    }

    /// Walks to a directory below the destination without following symlinks; with `create`,
    /// missing directories are made and non-directories in the way replaced. The caller closes
    /// the result unless it is `root` (returned as a duplicate, so it may always be closed).
    private func walk(to path: String, create: Bool) throws -> Int32 {
        var current = dup(root)
        guard current >= 0 else { throw failure("cannot open", destination) }
        for component in path.split(separator: "/").map(String.init) {
            let next: Int32
            if create {
                do { next = try openOrReplaceDirectory(current, component, path: path) } catch { close(current); throw error }
            } else {
                next = RawName.withCString(component) { openat(current, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
                if next < 0 { let error = failure("cannot open the directory", path); close(current); throw error }
            }
            close(current)
            current = next
        }
        return current
    }

    // MARK: Checks

    /// Tree paths are clean already; this keeps a `..` from ever reaching `openat`, where it
    /// would climb out of the destination.
    private func checkClean(_ path: String) throws {
        for component in path.split(separator: "/", omittingEmptySubsequences: false) where component.isEmpty || component == "." || component == ".." {
            throw BuildError("cannot export '\(path)': not a clean path inside the output")
        }
    }

    /// Refuses, before anything is written, an output file, symlink or link whose path is a
    /// non-empty directory of the destination: replacing it would remove files the output
    /// does not have.
    private func checkConflicts(_ entries: [LayerEntry]) throws {
        for entry in entries {
            if case .directory = entry.kind { continue }
            guard let parent = try? walk(to: ContextPath.dirname(entry.path), create: false) else { continue }
            defer { close(parent) }
            let fd = RawName.withCString(ContextPath.basename(entry.path)) { openat(parent, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
            guard fd >= 0 else { continue }
            guard let stream = fdopendir(fd) else { close(fd); continue }
            defer { closedir(stream) }
            while let item = readdir(stream) {
                let name = withUnsafeBytes(of: item.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
                if name != [0x2E] && name != [0x2E, 0x2E] {
                    throw BuildError("--output dest '\(destination)': the output has a file at \(entry.path), where the destination has a directory with files in it; move that directory away first (nothing was written)")
                }
            }
        }
    }

    private func failure(_ what: String, _ path: String) -> BuildError {
        BuildError("\(what) \(destination)/\(path): \(errnoText())")
    }
}

private func errnoText() -> String { String(cString: strerror(errno)) }
