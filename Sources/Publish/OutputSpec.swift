import Builder
import Foundation

/// One `--output` as buildx spells it: `type=oci|docker|registry|image|local` with buildx's
/// image-exporter keys, or a bare path (local) or `-` (an OCI tar on standard output). Keys
/// slipway cannot honour are refused by name, so a build never silently differs from what
/// was asked.
public struct OutputSpec: Equatable, Sendable {
    /// What to write; nil when the output only pushes (`type=registry`, `type=image,push=true`).
    public var output: BuildOutput?
    /// `push=true` (or `type=registry`).
    public var push = false
    /// `name=`: image names, like `-t`.
    public var names: [String] = []
    /// `compression=` / `compression-level=`: nil when not given (the `--compression` flags apply).
    public var compression: String?
    public var compressionLevel: Int?
    /// `force-compression=true`: base layers are recompressed to the requested compression too.
    public var forceCompression = false
    /// `push-by-digest=true`: push untagged, by digest only (`name-canonical=true` is accepted:
    /// the metadata's `image.name` is always the canonical `REPO@sha256:…` then).
    public var pushByDigest = false
    /// `oci-mediatypes=`: nil when not given (OCI types).
    public var ociMediaTypes: Bool?
    /// `annotation*.KEY=VALUE`, rewritten into `--annotation`'s `[index:|manifest:…]KEY=VALUE`.
    public var annotations: [String] = []

    static let imageKeys = ["name", "compression", "compression-level", "force-compression", "oci-mediatypes"]
    static let knownKeys: [String: [String]] = [
        "oci": ["type", "dest", "tar"] + imageKeys,
        "docker": ["type", "dest", "tar"] + imageKeys,
        "registry": ["type", "push", "push-by-digest", "name-canonical"] + imageKeys,
        "image": ["type", "push", "push-by-digest", "name-canonical"] + imageKeys,
        "local": ["type", "dest"],
        "tar": ["type", "dest"],
    ]

    public static func parse(_ text: String) throws -> OutputSpec {
        if !text.contains("=") {
            return OutputSpec(output: text == "-" ? .oci(destination: "-", tar: true) : .local(destination: text))
        }
        var fields: [(key: String, value: String)] = []
        for part in text.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2 else { throw PublishError.invalidArgument("--output '\(text)': expected key=value pairs such as type=oci,dest=image.tar") }
            fields.append((pair[0], pair[1]))
        }
        guard let type = fields.last(where: { $0.key == "type" })?.value else {
            throw PublishError.invalidArgument("--output '\(text)': missing type= (oci, docker, registry, image, local or tar)")
        }
        guard let known = knownKeys[type] else {
            throw PublishError.invalidArgument("--output type=\(type) is unknown; use oci, docker, registry, image, local or tar")
        }
        var spec = OutputSpec()
        var values: [String: String] = [:]
        for (key, value) in fields {
            if key.hasPrefix("annotation"), known.contains("name") {
                spec.annotations.append(try annotation(key: key, value: value))
            } else if known.contains(key) {
                values[key] = value
            } else {
                let annotationHelp = known.contains("name") ? ", annotation.KEY, annotation-index.KEY, annotation-manifest.KEY, annotation-manifest[os/arch].KEY" : ""
                throw PublishError.invalidArgument("--output type=\(type): unknown key '\(key)'; known keys: \(known.joined(separator: ", "))\(annotationHelp)")
            }
        }
        try spec.readImageKeys(values, type: type)
        try spec.readDestination(values, type: type)
        return spec
    }

    private mutating func readImageKeys(_ values: [String: String], type: String) throws {
        if let name = values["name"] {
            names = name.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        if let value = values["compression"] {
            guard ["gzip", "zstd", "uncompressed"].contains(value) else {
                throw PublishError.invalidArgument("--output compression=\(value): use gzip, zstd or uncompressed")
            }
            compression = value
        }
        if let value = values["compression-level"] {
            guard let level = Int(value) else { throw PublishError.invalidArgument("--output compression-level=\(value): expected a number") }
            compressionLevel = level
        }
        forceCompression = try Self.bool(values["force-compression"], key: "force-compression") ?? false
        pushByDigest = try Self.bool(values["push-by-digest"], key: "push-by-digest") ?? false
        _ = try Self.bool(values["name-canonical"], key: "name-canonical")
        ociMediaTypes = try Self.bool(values["oci-mediatypes"], key: "oci-mediatypes")
        if let pushValue = try Self.bool(values["push"], key: "push") {
            guard pushValue else {
                throw PublishError.invalidArgument("--output type=\(type),push=false would only keep the image in a daemon's image store, which slipway has none of; use type=oci or type=docker with dest=")
            }
            push = true
        }
    }

    private mutating func readDestination(_ values: [String: String], type: String) throws {
        let destination = values["dest"]
        switch type {
        case "oci":
            guard let destination else { throw PublishError.invalidArgument("--output type=oci needs dest=PATH ('-' for standard output)") }
            let tar = try Self.bool(values["tar"], key: "tar") ?? true
            if !tar && destination == "-" { throw PublishError.invalidArgument("--output type=oci,tar=false writes a directory; it cannot go to standard output") }
            output = .oci(destination: destination, tar: tar)
        case "docker":
            guard let destination else { throw PublishError.invalidArgument("--output type=docker needs dest=FILE.tar (slipway has no daemon to load into; then: docker load -i FILE.tar)") }
            if try Self.bool(values["tar"], key: "tar") == false { throw PublishError.invalidArgument("--output type=docker,tar=false is not supported; use type=oci,tar=false for a directory") }
            output = .docker(destination: destination)
        case "local":
            guard let destination else { throw PublishError.invalidArgument("--output type=local needs dest=DIR") }
            if destination == "-" { throw PublishError.invalidArgument("--output type=local,dest=- (a tar of the files) is not supported; use dest=DIR, or '-o -' for an OCI tar on standard output") }
            output = .local(destination: destination)
        case "tar":
            guard let destination else { throw PublishError.invalidArgument("--output type=tar needs dest=FILE.tar ('-' for standard output)") }
            output = .tar(destination: destination)
        case "registry":
            push = true
        default: // image
            guard push else {
                throw PublishError.invalidArgument("--output type=image without push=true would only load into a daemon's image store, which slipway has none of; use type=registry or type=oci")
            }
        }
    }

    private static func bool(_ value: String?, key: String) throws -> Bool? {
        guard let value else { return nil }
        switch value {
        case "true": return true
        case "false": return false
        default: throw PublishError.invalidArgument("--output \(key)=\(value): expected true or false")
        }
    }

    /// buildx's exporter annotation keys, in `--annotation`'s syntax.
    private static func annotation(key: String, value: String) throws -> String {
        let prefixes: [(String, String)] = [
            ("annotation-index-descriptor.", "index-descriptor:"), ("annotation-manifest-descriptor.", "manifest-descriptor:"),
            ("annotation-index.", "index:"), ("annotation-manifest.", "manifest:"), ("annotation.", ""),
        ]
        if key.hasPrefix("annotation-manifest["), let close = key.firstIndex(of: "]"), key[key.index(after: close)...].hasPrefix(".") {
            let platform = key[key.index(key.startIndex, offsetBy: "annotation-manifest[".count)..<close]
            let name = key[key.index(close, offsetBy: 2)...]
            if !name.isEmpty { return "manifest[\(platform)]:\(name)=\(value)" }
        }
        for (prefix, replacement) in prefixes where key.hasPrefix(prefix) && key.count > prefix.count {
            return replacement + key.dropFirst(prefix.count) + "=" + value
        }
        throw PublishError.invalidArgument("--output \(key): expected annotation.KEY, annotation-index.KEY, annotation-manifest.KEY or annotation-manifest[os/arch].KEY")
    }
}

/// `--build-context NAME=DIR|oci-layout://PATH[:TAG|@sha256:…]`.
public enum NamedContextSpec {
    /// Relative paths are taken from `workingDirectory` (the current directory), as buildx does.
    public static func parse(_ text: String, workingDirectory: String = FileManager.default.currentDirectoryPath) throws -> (String, BuildRequest.NamedContext) {
        let pair = text.split(separator: "=", maxSplits: 1).map(String.init)
        guard pair.count == 2, !pair[0].isEmpty, !pair[1].isEmpty else {
            throw PublishError.invalidArgument("--build-context '\(text)': expected NAME=DIR, NAME=oci-layout://PATH[:TAG|@sha256:…] or NAME=docker-image://REF")
        }
        func absolute(_ path: String) -> String {
            let url = path.hasPrefix("/") ? URL(fileURLWithPath: path) : URL(fileURLWithPath: workingDirectory).appendingPathComponent(path)
            return url.standardizedFileURL.path
        }
        let value = pair[1]
        if value.hasPrefix("oci-layout://") {
            let (path, reference) = LayoutPath.split(String(value.dropFirst("oci-layout://".count)))
            return (pair[0], .ociLayout(path: absolute(path), reference: reference))
        }
        if value.hasPrefix("docker-image://") {
            let reference = String(value.dropFirst("docker-image://".count))
            guard !reference.isEmpty else { throw PublishError.invalidArgument("--build-context '\(text)': docker-image:// needs an image reference") }
            return (pair[0], .dockerImage(reference))
        }
        if value.contains("://") {
            throw PublishError.invalidArgument("--build-context '\(text)': only directories, oci-layout:// and docker-image:// are supported")
        }
        return (pair[0], .directory(absolute(value)))
    }
}
