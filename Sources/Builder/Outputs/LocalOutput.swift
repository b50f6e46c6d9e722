import Foundation
import Layers

/// `--output type=local`: the final stage's files written into a directory (one
/// subdirectory per platform, `linux_amd64`, when there are several, as buildx does), in
/// place and without removing anything the output does not replace (see `DirectoryWriter`).
enum LocalOutput {
    static func write(_ result: BuildResult, to destination: String) throws {
        let writer = try DirectoryWriter(destination: destination)
        try writer.write(try trees(result))
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
