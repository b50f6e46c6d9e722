#if canImport(Glibc)
import Glibc
#endif
import Dockerfile
import Foundation
import Layers
import OCI

/// The `--mount`s of one RUN made ready on the host, as BuildKit's dockerfile2llb and
/// executor make them: targets relative to WORKDIR, cache directories leased from the
/// `RunCacheStore`, bind sources from the context, a stage or an image (a private copy when
/// `rw`, so writes are discarded), tmpfs, secrets as in-memory files or variables. Mount
/// points the RUN had to create are BuildKit's mount stubs: removed afterwards when still
/// empty, so they never reach the layer; what is mounted never does either (the diff walks
/// the root after the sandbox's mounts are gone).
struct RunMounts {
    var sandbox: [SandboxMount] = []
    /// `NAME=value` for `env=` secrets, given to the command only.
    var environment: [String] = []
    /// The secret values in use, to mask in output.
    var secrets: [SecretValue] = []
    /// Host paths of mount points that did not exist (deepest first per mount).
    private var stubs: [String] = []
    private var leases: [RunCacheStore.Lease] = []
    private var scratchCopies: [String] = []

    /// Where a `from=` reads: a stage, an image, a named context, or the main context (nil).
    typealias SourceFinder = (_ from: String?, _ target: String) throws -> CopySource

    static func prepare(_ mounts: [RunMount], state: StageState, root: RunRoot, context: RunContext,
                        findSource: SourceFinder) throws -> RunMounts {
        var prepared = RunMounts()
        do {
            for mount in mounts { try prepared.add(mount, state: state, root: root, context: context, findSource: findSource) }
        } catch {
            prepared.finish()
            throw error
        }
        // BuildKit sorts an exec's mounts by target, so a parent is mounted before a child.
        prepared.sandbox = prepared.sandbox.enumerated().sorted { a, b in
            a.element.target == b.element.target ? a.offset < b.offset : a.element.target.utf8.lexicographicallyPrecedes(b.element.target.utf8)
        }.map(\.element)
        return prepared
    }

    /// Removes the stubs that stayed empty, releases cache leases, removes private copies.
    func finish() {
        for path in stubs {
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }
            if info.st_mode & S_IFMT == S_IFDIR {
                if rmdir(path) != 0 { continue }
            } else if info.st_size == 0 {
                unlink(path)
            }
        }
        leases.forEach { $0.release() }
        for copy in scratchCopies { try? RunRoot.removeTree(copy) }
    }

    private mutating func add(_ mount: RunMount, state: StageState, root: RunRoot, context: RunContext,
                              findSource: SourceFinder) throws {
        switch mount.type {
        case .ssh:
            throw BuildError("RUN --mount=type=ssh: slipway does not forward SSH agents into RUN; fetch private sources before the build, or pass a deploy key as a secret (--secret id=key,src=… with --mount=type=secret,id=key)")
        case .secret:
            try addSecret(mount, state: state, root: root, context: context)
            return
        default:
            break
        }
        let target = try RunMounts.absoluteTarget(mount.target, workdir: state.workdir)
        switch mount.type {
        case .tmpfs:
            let key = try point(target, state: state, root: root)
            sandbox.append(SandboxMount(kind: .tmpfs(options: mount.sizeLimit > 0 ? "size=\(mount.sizeLimit)" : nil), target: key, readOnly: mount.readOnly))
        case .cache:
            try addCache(mount, target: target, state: state, root: root, context: context, findSource: findSource)
        case .bind:
            let source = try findSource(mount.from.isEmpty ? nil : mount.from, target)
            let (host, isFile) = try RunMounts.sourcePath(source, path: mount.source, writable: !mount.readOnly, context: context,
                                                          copies: &scratchCopies)
            let key = try point(target, state: state, root: root)
            sandbox.append(SandboxMount(kind: .bind(source: host), target: key, readOnly: mount.readOnly, targetIsFile: isFile))
        case .secret, .ssh:
            break
        }
    }

    /// BuildKit: a relative target is below WORKDIR; "/" is refused.
    static func absoluteTarget(_ target: String, workdir: String) throws -> String {
        let joined = target.hasPrefix("/") ? target : "/" + ContextPath.join(FileTree.key(workdir), target)
        let cleaned = "/" + FileTree.key(joined)
        guard cleaned != "/" else { throw BuildError("invalid mount target \"\(cleaned)\"") }
        return cleaned
    }

    /// The target as a root key through the stage's symlinks; records the stubs it needs.
    private mutating func point(_ target: String, state: StageState, root: RunRoot) throws -> String {
        let key = state.tree.rootPath(FileTree.key(target))
        guard !key.isEmpty else { throw BuildError("invalid mount target \"\(target)\"") }
        var current = key
        while !current.isEmpty {
            var info = stat()
            let path = root.host(current)
            guard lstat(path, &info) != 0, errno == ENOENT || errno == ENOTDIR else { break }
            stubs.append(path)
            current = ContextPath.dirname(current)
        }
        return key
    }

    private mutating func addCache(_ mount: RunMount, target: String, state: StageState, root: RunRoot, context: RunContext,
                                   findSource: SourceFinder) throws {
        let id = mount.id.isEmpty ? target : mount.id
        var key = context.settings.cacheNamespace + "/" + id
        var base: (source: CopySource, path: String)?
        if !mount.from.isEmpty {
            let source = try findSource(mount.from, target)
            base = (source, mount.source)
            key += ":" + (try RunMounts.contentIdentity(source, path: mount.source))
        } else if mount.uid != nil || mount.gid != nil || mount.mode != nil {
            key += ":owner=\(mount.uid ?? 0):\(mount.gid ?? 0):\(String(mount.mode ?? 0o755, radix: 8))"
        }
        let store = RunCacheStore(directory: context.settings.cacheMountDirectory ?? context.scratch + "/run-cache")
        let scratch = context.scratch
        let lease = try store.acquire(key: key, sharing: mount.sharing ?? .shared) { directory in
            guard let base else { return }
            var copies: [String] = []
            let (host, isFile) = try RunMounts.sourcePath(base.source, path: base.path, writable: true, context: RunContext(scratch: scratch, settings: RunSettings(), progress: nil), copies: &copies)
            defer { for copy in copies { try? RunRoot.removeTree(copy) } }
            guard !isFile else { throw BuildError("cache mount source '\(base.path)' is a file; a cache mount needs a directory") }
            try RunMounts.copyTree(host, to: directory)
        }
        leases.append(lease)
        var mountedPath = lease.path
        if base == nil, !mount.source.isEmpty {
            // A subdirectory of the cache (BuildKit's selector), which must stay inside it.
            mountedPath = try RunMounts.insideCache(lease.path, mount.source)
        }
        let pointKey = try point(target, state: state, root: root)
        var entry = SandboxMount(kind: .bind(source: mountedPath), target: pointKey, readOnly: mount.readOnly)
        if base == nil, mount.source.isEmpty, mount.uid != nil || mount.gid != nil || mount.mode != nil {
            entry.owner = (mount.uid ?? 0, mount.gid ?? 0, mount.mode ?? 0o755)
        }
        sandbox.append(entry)
    }

    /// `source=` of a cache mount, resolved inside the cache directory without following any
    /// symlink (BuildKit's testCacheMountSourceEscape: a link in the cache must not lead out).
    static func insideCache(_ cache: String, _ source: String) throws -> String {
        var path = cache
        for component in FileTree.key(source).split(separator: "/") {
            path += "/" + component
            var info = stat()
            if lstat(path, &info) != 0 {
                guard mkdir(path, 0o755) == 0 else { throw RunRoot.failure("mkdir", path) }
                continue
            }
            guard info.st_mode & S_IFMT == S_IFDIR else {
                throw BuildError("cache mount source '\(source)' is not a directory inside the cache (a symlink in the cache is not followed)")
            }
        }
        return path
    }

    private mutating func addSecret(_ mount: RunMount, state: StageState, root: RunRoot, context: RunContext) throws {
        var id = mount.id
        if !mount.source.isEmpty { id = mount.source }
        if id.isEmpty {
            guard !mount.target.isEmpty else { throw BuildError("one of source, target required") }
            id = ContextPath.basename(FileTree.key(mount.target))
        }
        var target: String? = mount.target.isEmpty ? nil : mount.target
        if mount.env == nil && target == nil { target = "/run/secrets/" + ContextPath.basename(id) }
        guard let value = context.settings.secrets[id] else {
            if mount.required { throw BuildError("secret \(id): not found (pass it with --secret id=\(id),src=FILE or --secret id=\(id),env=VARIABLE)") }
            return
        }
        secrets.append(value)
        if let env = mount.env {
            environment.append(env + "=" + String(decoding: value.bytes, as: UTF8.self))
        }
        guard let target else { return }
        let key = try point(try RunMounts.absoluteTarget(target, workdir: state.workdir), state: state, root: root)
        var entry = SandboxMount(kind: .file(value.bytes), target: key, readOnly: true, targetIsFile: true)
        if mount.uid != nil || mount.gid != nil || mount.mode != nil {
            entry.owner = (mount.uid ?? 0, mount.gid ?? 0, mount.mode ?? 0o400)
        }
        sandbox.append(entry)
    }

    /// A host path holding `path` of `source`: the context's own directory when it can be
    /// bound read-only as it is (no .dockerignore), else a copy in the scratch directory.
    static func sourcePath(_ source: CopySource, path: String, writable: Bool, context: RunContext,
                           copies: inout [String]) throws -> (String, Bool) {
        let word = path.isEmpty ? "/" : path
        let nodes = try source.resolve(word, instruction: "RUN --mount")
        guard nodes.count == 1, let node = nodes.first else {
            throw BuildError("RUN --mount source '\(path)' matches \(nodes.count) paths in \(source.displayName); name one")
        }
        if case .symlink = node.kind {
            // Sources follow their links inside the source; one left is never bound (the
            // kernel would follow it on the host).
            throw BuildError("RUN --mount source '\(path)' is a symlink in \(source.displayName) that cannot be followed there")
        }
        if !writable, let contextSource = source as? ContextSource, !contextSource.context.hasIgnorePatterns {
            if case .directory = node.kind { return (contextSource.context.absolute(node.location), false) }
            if case .regularFile(.path(let file)) = node.kind { return (file, true) }
        }
        let copy = context.scratch + "/run-mount-\(UUID().uuidString)"
        copies.append(copy)
        switch node.kind {
        case .directory:
            guard mkdir(copy, 0o755) == 0 else { throw RunRoot.failure("mkdir", copy) }
            var directories: [(String, SourceNode)] = [(copy, node)]
            try source.forEachDescendant(of: node, excludes: []) { relative, child in
                let target = copy + "/" + relative
                try write(child, to: target)
                if case .directory = child.kind { directories.append((target, child)) }
            }
            for (target, directory) in directories.reversed() { try attributes(directory, target) }
            return (copy, false)
        default:
            guard mkdir(copy, 0o700) == 0 else { throw RunRoot.failure("mkdir", copy) }
            let file = copy + "/" + (ContextPath.basename(node.matchedPath).isEmpty ? "file" : ContextPath.basename(node.matchedPath))
            try write(node, to: file)
            return (file, true)
        }
    }

    private static func write(_ node: SourceNode, to path: String) throws {
        switch node.kind {
        case .directory:
            guard mkdir(path, 0o700) == 0 else { throw RunRoot.failure("mkdir", path) }
        case .regularFile(let source):
            try RunRoot.copy(source, to: path)
            try attributes(node, path)
        case .symlink(let target):
            guard symlink(target, path) == 0 else { throw RunRoot.failure("symlink", path) }
            if geteuid() == 0 { lchown(path, uid_t(node.uid), gid_t(node.gid)) }
        case .hardlink:
            // Tree sources resolve links to their target's kind; nothing to place otherwise.
            break
        case .special(let special):
            // A device node rootless cannot be made: the mount goes without it.
            if try RunSpecialFiles.make(special, at: path, mode: mode_t(node.mode & 0o7777)) { try attributes(node, path) }
        }
    }

    private static func attributes(_ node: SourceNode, _ path: String) throws {
        if geteuid() == 0, lchown(path, uid_t(node.uid), gid_t(node.gid)) != 0 { throw RunRoot.failure("chown", path) }
        guard chmod(path, mode_t(node.mode & 0o7777)) == 0 else { throw RunRoot.failure("chmod", path) }
    }

    /// Copies a host directory's contents into an existing directory (a new cache instance).
    static func copyTree(_ from: String, to: String) throws {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: from)) ?? [] {
            let source = from + "/" + name
            let target = to + "/" + name
            var info = stat()
            guard lstat(source, &info) == 0 else { continue }
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                guard mkdir(target, 0o700) == 0 else { throw RunRoot.failure("mkdir", target) }
                try copyTree(source, to: target)
            case S_IFREG:
                try RunRoot.copy(.path(source), to: target)
            case S_IFLNK:
                var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
                let n = readlink(source, &buffer, buffer.count - 1)
                guard n >= 0 else { throw RunRoot.failure("readlink", source) }
                buffer[n] = 0
                guard symlink(buffer, target) == 0 else { throw RunRoot.failure("symlink", target) }
            default:
                continue
            }
            if info.st_mode & S_IFMT != S_IFLNK {
                if geteuid() == 0 { lchown(target, info.st_uid, info.st_gid) }
                chmod(target, info.st_mode & 0o7777)
            } else if geteuid() == 0 {
                lchown(target, info.st_uid, info.st_gid)
            }
        }
    }

    /// What a `from=` cache starts from, by content (paths, kinds, modes, owners, bytes), so
    /// a changed base gives another cache, as BuildKit's key by the base's ref does.
    static func contentIdentity(_ source: CopySource, path: String) throws -> String {
        let hasher = SHA256Hasher()
        let nodes = try source.resolve(path.isEmpty ? "/" : path, instruction: "RUN --mount")
        hasher.update(Array(source.displayName.utf8))
        for node in nodes {
            func add(_ relative: Substring, _ node: SourceNode) throws {
                hasher.update(Array("\(relative)\u{0}\(node.mode)\u{0}\(node.uid)\u{0}\(node.gid)\u{0}".utf8))
                switch node.kind {
                case .directory: hasher.update([0x64])
                case .symlink(let target): hasher.update(Array(("l" + target).utf8))
                case .hardlink(let target): hasher.update(Array(("h" + target).utf8))
                case .special(let special): hasher.update(Array("s\(special)".utf8))
                case .regularFile(.bytes(let bytes)): hasher.update(bytes)
                case .regularFile(.path(let file)):
                    guard let handle = FileHandle(forReadingAtPath: file) else { throw RunRoot.failure("open", file) }
                    defer { try? handle.close() }
                    while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update([UInt8](chunk)) }
                }
            }
            try add("", node)
            if case .directory = node.kind {
                try source.forEachDescendant(of: node, excludes: []) { relative, child in try add(relative, child) }
            }
        }
        return hasher.finalize().hex
    }
}

extension RunMounts {
    /// The `--mount` values read with the stage's variables, as BuildKit expands them.
    static func parse(_ values: [String], state: StageState) throws -> [RunMount] {
        try values.map { value in
            try RunMount.parse(value) { word in
                do { return try state.variables.expand(word, line: 0, file: "") } catch var error as BuildError {
                    // The dispatcher names the Dockerfile and line.
                    error.file = nil
                    error.line = nil
                    throw error
                }
            }
        }
    }

    /// The command's environment with `env=` secrets, replacing a variable of the same name.
    static func environment(_ base: [String], adding extra: [String]) -> [String] {
        guard !extra.isEmpty else { return base }
        let names = Set(extra.map { String($0.prefix { $0 != "=" }) })
        return base.filter { !names.contains(String($0.prefix { $0 != "=" })) } + extra
    }

    /// `RUN <<EOF` whose body starts with `#!`: BuildKit writes it to `/dev/pipes/EOF` (mode
    /// 0755) and runs that file through SHELL, so the kernel uses the script's interpreter.
    static func shebangScript(_ command: RunCommand) -> (name: String, content: String)? {
        guard command.command.prependShell, command.heredocs.count == 1, let only = command.heredocs.first else { return nil }
        let trimmed = command.command.args.joined(separator: " ").trimmingCharacters(in: .whitespaces)
        guard ["<<\(only.name)", "<<-\(only.name)", "<<\"\(only.name)\"", "<<'\(only.name)'"].contains(trimmed) else { return nil }
        let content = only.chomp ? only.content.split(separator: "\n", omittingEmptySubsequences: false)
            .map { String($0.drop { $0 == "\t" }) }.joined(separator: "\n") : only.content
        guard content.hasPrefix("#!"), !only.name.contains("/") else { return nil }
        return (only.name, content)
    }
}
