import Foundation
import OCI
import Registry

/// The files of an exported image, described once and written either as a directory or as
/// a tar: an OCI layout (`oci-layout`, `index.json`, `blobs/`) and, for a docker archive,
/// also Docker's `manifest.json`.
struct ImageFiles {
    enum Content {
        case bytes([UInt8])
        case blob(Digest)
    }

    var files: [(name: String, content: Content)] = []

    /// Tags recorded the way buildx records them: `org.opencontainers.image.ref.name` holds
    /// the tag part, `io.containerd.image.name` the full name normalised as BuildKit's OCI
    /// exporter does (`org/repo:tag1` → `docker.io/org/repo:tag1`), so containerd and
    /// `docker load` name the image the same either way.
    static func indexEntries(root: Descriptor, tags: [String]) -> [Descriptor] {
        guard !tags.isEmpty else { return [root] }
        var seen: Set<String> = []
        var entries: [Descriptor] = []
        for tag in tags {
            let refName = ImageFiles.tagPart(tag)
            guard seen.insert(refName).inserted else { continue }
            var entry = root
            entry.annotations = [AnnotationKey.refName: refName, "io.containerd.image.name": normalizedName(tag)]
            entries.append(entry)
        }
        return entries
    }

    /// `alpine` → `docker.io/library/alpine:latest`; a name that does not parse (the command
    /// line checks them before a build) is kept as given.
    static func normalizedName(_ tag: String) -> String {
        (try? ImageReference(parsing: tag))?.description ?? tag
    }

    static func tagPart(_ reference: String) -> String {
        let withoutDigest = reference.split(separator: "@", maxSplits: 1).first.map(String.init) ?? reference
        let lastSlash = withoutDigest.lastIndex(of: "/").map { withoutDigest.index(after: $0) } ?? withoutDigest.startIndex
        if let colon = withoutDigest[lastSlash...].lastIndex(of: ":") {
            return String(withoutDigest[withoutDigest.index(after: colon)...])
        }
        return "latest"
    }

    static func ociLayout(_ result: BuildResult, tags: [String]) throws -> ImageFiles {
        var files = ImageFiles()
        files.files.append(("oci-layout", .bytes(Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8))))
        let index = Index(manifests: indexEntries(root: result.root, tags: tags))
        files.files.append(("index.json", .bytes(Array(try CanonicalJSON.encode(index)))))
        var blobs: [Digest] = []
        var seen: Set<Digest> = []
        func add(_ digest: Digest) { if seen.insert(digest).inserted { blobs.append(digest) } }
        for image in result.images {
            image.layers.forEach { add($0.digest) }
            add(image.config.digest)
            add(image.manifest.digest)
        }
        // Attestations in the index travel with it; referrers only go where the image is pushed.
        for attestation in result.attestations where attestation.storage == .index {
            attestation.blobs.forEach { add($0.digest) }
            add(attestation.manifest.digest)
        }
        add(result.root.digest)
        files.files.append(("blobs", .bytes([])))
        for digest in blobs.sorted() {
            files.files.append(("blobs/\(digest.algorithm.rawValue)/\(digest.hex)", .blob(digest)))
        }
        return files
    }

    static func dockerArchive(_ result: BuildResult, tags: [String]) throws -> ImageFiles {
        guard result.images.count == 1, let image = result.images.first else {
            throw BuildError("--output type=docker holds one platform, but this build has \(result.images.count); use type=oci for several or pick one with --platform")
        }
        var files = try ociLayout(result, tags: tags)
        struct Entry: Encodable {
            var Config: String
            var RepoTags: [String]
            var Layers: [String]
        }
        let repoTags = tags.map { tag -> String in
            let hasTag = ImageFiles.tagPart(tag) != "latest" || tag.hasSuffix(":latest")
            return hasTag ? tag : tag + ":latest"
        }
        let entry = Entry(Config: "blobs/sha256/\(image.config.digest.hex)", RepoTags: repoTags,
                          Layers: image.layers.map { "blobs/sha256/\($0.digest.hex)" })
        files.files.insert(("manifest.json", .bytes(Array(try CanonicalJSON.encode([entry])))), at: 1)
        return files
    }

    /// Writes the files as a tar (`-` for stdout), through a temporary sibling renamed at the end.
    func writeTar(to destination: String, store: ContentStore, mtime: Int64) throws {
        try AtomicOutput.file(destination) { temporary in
            let tar = try TarFileWriter(path: temporary, mtime: mtime)
            var directories: Set<String> = []
            for (name, content) in files {
                var parent = ContextPath.dirname(name)
                var missing: [String] = []
                while !parent.isEmpty, !directories.contains(parent) { missing.append(parent); parent = ContextPath.dirname(parent) }
                for directory in missing.reversed() {
                    try tar.addDirectory(directory)
                    directories.insert(directory)
                }
                switch content {
                case .bytes(let bytes) where name == "blobs":
                    _ = bytes
                    if directories.insert(name).inserted { try tar.addDirectory(name) }
                case .bytes(let bytes): try tar.addBytes(name, bytes)
                case .blob(let digest): try tar.addFile(name, from: store.blobURL(digest).path)
                }
            }
            try tar.close()
        }
    }

    /// Writes (or adds to) an OCI layout directory: blobs first, then `index.json` by rename,
    /// so a reader never sees an index that names a missing blob.
    func writeDirectory(to destination: String, store: ContentStore) throws {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        let exists = fm.fileExists(atPath: destination, isDirectory: &isDirectory)
        if exists && !isDirectory.boolValue {
            throw BuildError("--output dest '\(destination)' exists and is not a directory")
        }
        let isLayout = exists && fm.fileExists(atPath: destination + "/oci-layout")
        if exists && !isLayout, let contents = try? fm.contentsOfDirectory(atPath: destination), !contents.isEmpty {
            throw BuildError("--output dest '\(destination)' is a non-empty directory that is not an OCI layout; choose a new or empty directory")
        }
        if !exists {
            try AtomicOutput.directory(destination) { temporary in try writeFiles(into: temporary, store: store, merging: nil) }
            return
        }
        try writeFiles(into: destination, store: store, merging: isLayout ? destination : nil)
    }

    private func writeFiles(into directory: String, store: ContentStore, merging existing: String?) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: directory + "/blobs/sha256", withIntermediateDirectories: true)
        for (name, content) in files {
            let target = directory + "/" + name
            switch content {
            case .blob(let digest):
                if fm.fileExists(atPath: target) { continue }
                // A copy, never a hard link: editing the output must not reach the store.
                let temporary = target + ".tmp-\(UUID().uuidString)"
                do { try store.export(digest, toNewFile: temporary) } catch {
                    throw BuildError("cannot write \(target): \(error)")
                }
                guard rename(temporary, target) == 0 else {
                    let message = String(cString: strerror(errno))
                    unlink(temporary)
                    throw BuildError("cannot write \(target): \(message)")
                }
            case .bytes(let bytes):
                if name == "blobs" { continue }
                var data = Data(bytes)
                if name == "index.json", let existing, let merged = try? merge(index: bytes, into: existing) { data = merged }
                let temporary = target + ".tmp-\(UUID().uuidString)"
                do { try data.write(to: URL(fileURLWithPath: temporary)) } catch {
                    throw BuildError("cannot write \(target): \(error.localizedDescription)")
                }
                rename(temporary, target)
            }
        }
    }

    /// Adds our entries to an existing layout's index, replacing entries with the same tag.
    private func merge(index bytes: [UInt8], into layout: String) throws -> Data {
        let ours = try JSONDecoder().decode(Index.self, from: Data(bytes))
        guard let data = FileManager.default.contents(atPath: layout + "/index.json") else { return Data(bytes) }
        var theirs = try JSONDecoder().decode(Index.self, from: data)
        let ourNames = Set(ours.manifests.compactMap { $0.annotations?[AnnotationKey.refName] })
        theirs.manifests.removeAll { entry in
            guard let name = entry.annotations?[AnnotationKey.refName] else { return ours.manifests.contains { $0.digest == entry.digest } }
            return ourNames.contains(name)
        }
        theirs.manifests.append(contentsOf: ours.manifests)
        return try CanonicalJSON.encode(theirs)
    }
}

/// Outputs appear whole or not at all: everything is written to a temporary sibling and
/// renamed into place only after it is complete.
enum AtomicOutput {
    static func file(_ destination: String, write: (String) throws -> Void) throws {
        if destination == "-" { try write("-"); return }
        let temporary = sibling(destination)
        do {
            try write(temporary)
            guard rename(temporary, destination) == 0 else {
                throw BuildError("cannot move output into place at \(destination): \(String(cString: strerror(errno)))")
            }
        } catch {
            unlink(temporary)
            throw error
        }
    }

    /// For a destination that does not exist yet: the rename fails rather than replace a
    /// directory that appeared meanwhile with content (nothing of the user's is ever removed).
    static func directory(_ destination: String, write: (String) throws -> Void) throws {
        let temporary = sibling(destination)
        do {
            try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true)
            try write(temporary)
            guard rename(temporary, destination) == 0 else {
                throw BuildError("cannot move output into place at \(destination): \(String(cString: strerror(errno)))")
            }
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
    }

    static func sibling(_ destination: String) -> String {
        let url = URL(fileURLWithPath: destination)
        let parent = url.deletingLastPathComponent().path
        try? FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        return parent + "/.\(url.lastPathComponent).slipway-\(UUID().uuidString.prefix(8))"
    }
}
