import Foundation
import Layers

/// `--output type=local`: the final stage's files written to a directory (one
/// subdirectory per platform, `linux_amd64`, when there are several, as buildx does).
enum LocalOutput {
    static func write(_ result: BuildResult, to destination: String) throws {
        try AtomicOutput.directory(destination) { temporary in
            for image in result.images {
                let root = result.images.count > 1 ? temporary + "/" + image.platform.directoryName : temporary
                try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
                try materialize(image.tree, into: root)
            }
        }
    }

    private static func materialize(_ tree: FileTree, into root: String) throws {
        let fm = FileManager.default
        let canChown = geteuid() == 0
        var directories: [(String, UInt32)] = []
        for entry in tree.allEntries {
            let target = root + "/" + entry.path
            switch entry.kind {
            case .directory:
                try fm.createDirectory(atPath: target, withIntermediateDirectories: true)
                directories.append((target, entry.mode))
            case .regularFile(.path(let source)):
                do { try fm.copyItem(atPath: source, toPath: target) } catch {
                    throw BuildError("cannot write \(target): \(error.localizedDescription)")
                }
                chmod(target, mode_t(entry.mode))
            case .regularFile(.bytes(let bytes)):
                guard fm.createFile(atPath: target, contents: Data(bytes)) else { throw BuildError("cannot write \(target)") }
                chmod(target, mode_t(entry.mode))
            case .symlink(let linkTarget):
                guard symlink(linkTarget, target) == 0 else { throw BuildError("cannot create symlink \(target): \(String(cString: strerror(errno)))") }
            case .hardlink(let linkTarget):
                guard link(root + "/" + linkTarget, target) == 0 else { throw BuildError("cannot create hard link \(target): \(String(cString: strerror(errno)))") }
            }
            if canChown { lchown(target, uid_t(entry.uid), gid_t(entry.gid)) }
        }
        // Directory modes last, so a read-only directory does not stop its own contents.
        for (path, mode) in directories.reversed() { chmod(path, mode_t(mode)) }
    }
}

/// Where a build's result goes.
public enum BuildOutput: Sendable, Equatable {
    /// An OCI image layout, as a tar (buildx's default) or a directory (`tar=false`).
    case oci(destination: String, tar: Bool)
    /// A docker-archive tar that `docker load` and `podman load` accept.
    case docker(destination: String)
    /// The final stage's file system.
    case local(destination: String)
}

/// Writes a build result to an output.
public enum Exporter {
    public static func export(_ result: BuildResult, to output: BuildOutput, tags: [String], sourceDateEpoch: Int64) throws {
        switch output {
        case .oci(let destination, let tar):
            let files = try ImageFiles.ociLayout(result, tags: tags)
            if tar { try files.writeTar(to: destination, store: result.store, mtime: sourceDateEpoch) } else {
                try files.writeDirectory(to: destination, store: result.store)
            }
        case .docker(let destination):
            try ImageFiles.dockerArchive(result, tags: tags).writeTar(to: destination, store: result.store, mtime: sourceDateEpoch)
        case .local(let destination):
            try LocalOutput.write(result, to: destination)
        }
    }
}
