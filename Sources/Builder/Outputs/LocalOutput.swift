import Foundation
import Layers
import OCI

/// `--output type=local`: the final stage's files written into a directory (one
/// subdirectory per platform, `linux_amd64`, when there are several, as buildx does), in
/// place and without removing anything the output does not replace (see `DirectoryWriter`).
enum LocalOutput {
    static func write(_ result: BuildResult, to destination: String) throws {
        let writer = try DirectoryWriter(destination: destination)
        try writer.write(try trees(result))
    }

    /// `type=tar`: the entries `write` would make, as one uncompressed tar in canonical
    /// order (the layer writer's: deterministic, streamed from the files), written next to
    /// `destination` and renamed over it, or streamed to standard output for `-`.
    static func writeTar(_ result: BuildResult, to destination: String, mtime: Int64) throws {
        var entries: [LayerEntry] = []
        for (prefix, tree) in try trees(result) {
            if !prefix.isEmpty { entries.append(.directory(prefix)) }
            for entry in tree.allEntries where !entry.path.isEmpty {
                var placed = entry
                placed.path = ContextPath.join(prefix, entry.path)
                if case .hardlink(let target) = entry.kind { placed.kind = .hardlink(target: ContextPath.join(prefix, target)) }
                entries.append(placed)
            }
        }
        let toStandardOutput = destination == "-"
        let directory = toStandardOutput ? FileManager.default.temporaryDirectory.path
            : URL(fileURLWithPath: destination).deletingLastPathComponent().path
        let scratch = directory + "/.slipway-tar-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let blob: LayerBlob
        let store: ContentStore
        do {
            store = try ContentStore(root: URL(fileURLWithPath: scratch))
            blob = try LayerWriter.write(entries, options: LayerOptions(mtime: mtime, compression: .uncompressed, jobs: 1), into: store)
        } catch let error as LayerError {
            throw BuildError("--output type=tar: \(error)")
        } catch {
            throw BuildError("--output type=tar,dest=\(destination): \(error)")
        }
        let written = store.blobURL(blob.digest).path
        if toStandardOutput {
            let input = open(written, O_RDONLY | O_CLOEXEC)
            guard input >= 0 else { throw BuildError("cannot read the tar output: \(String(cString: strerror(errno)))") }
            defer { close(input) }
            do { try FileCopy.contents(from: input, to: 1, what: "the tar output") } catch { throw BuildError("cannot write the tar to standard output: \(error)") }
        } else {
            // The blob is read-only in the store; the output is an ordinary file.
            chmod(written, 0o644)
            guard rename(written, destination) == 0 else {
                throw BuildError("cannot write --output type=tar,dest=\(destination): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Each platform's tree and where it goes, with its attestation files (`LocalAttestations`).
    static func trees(_ result: BuildResult) throws -> [(prefix: String, tree: FileTree)] {
        try result.images.map { image in
            var tree = image.tree
            let predicates = result.attestations.first { $0.subject.digest == image.manifest.digest }?.predicates ?? []
            tree.apply(try LocalAttestations.entries(for: image.tree, predicates: predicates))
            return (prefix: result.images.count > 1 ? image.platform.directoryName : "", tree: tree)
        }
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
    /// The same files as `local`, as one tar (BuildKit's tar exporter); `-` is standard output.
    case tar(destination: String)
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
        case .tar(let destination):
            try LocalOutput.writeTar(result, to: destination, mtime: sourceDateEpoch)
        }
    }
}
