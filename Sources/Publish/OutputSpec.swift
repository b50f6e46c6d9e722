import Builder

/// Parses buildx's `--output` syntax: `type=oci,dest=PATH[,tar=false]`, `type=docker,dest=F`,
/// `type=local,dest=DIR`, or a bare path (local).
public enum OutputSpec {
    /// nil means "push to the registry" (`type=registry`, or `type=image,push=true`).
    public static func parse(_ text: String) throws -> BuildOutput? {
        var fields: [String: String] = [:]
        if !text.contains("=") {
            return text == "-" ? .oci(destination: "-", tar: true) : .local(destination: text)
        }
        for part in text.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2 else { throw PublishError.invalidArgument("--output '\(text)': expected key=value pairs such as type=oci,dest=image.tar") }
            fields[pair[0]] = pair[1]
        }
        guard let type = fields["type"] else { throw PublishError.invalidArgument("--output '\(text)': missing type= (oci, docker, local)") }
        let destination = fields["dest"]
        switch type {
        case "oci":
            guard let destination else { throw PublishError.invalidArgument("--output type=oci needs dest=PATH") }
            let tar = fields["tar"].map { $0 != "false" } ?? true
            return .oci(destination: destination, tar: tar)
        case "docker":
            guard let destination else { throw PublishError.invalidArgument("--output type=docker needs dest=FILE.tar (slipway has no daemon to load into)") }
            return .docker(destination: destination)
        case "local":
            guard let destination else { throw PublishError.invalidArgument("--output type=local needs dest=DIR") }
            return .local(destination: destination)
        case "tar":
            throw PublishError.invalidArgument("--output type=tar is not supported; use type=local,dest=DIR or type=oci")
        case "registry":
            return nil
        case "image":
            guard fields["push"] == "true" else {
                throw PublishError.invalidArgument("--output type=image without push=true would only load into a daemon's image store, which slipway has none of; use type=registry or type=oci")
            }
            return nil
        default:
            throw PublishError.invalidArgument("--output type=\(type) is unknown; use oci, docker or local")
        }
    }
}

/// `--build-context NAME=DIR|oci-layout://PATH[:TAG|@sha256:…]`.
public enum NamedContextSpec {
    public static func parse(_ text: String) throws -> (String, BuildRequest.NamedContext) {
        let pair = text.split(separator: "=", maxSplits: 1).map(String.init)
        guard pair.count == 2, !pair[0].isEmpty, !pair[1].isEmpty else {
            throw PublishError.invalidArgument("--build-context '\(text)': expected NAME=DIR or NAME=oci-layout://PATH[:TAG|@sha256:…]")
        }
        let value = pair[1]
        if value.hasPrefix("oci-layout://") {
            var path = String(value.dropFirst("oci-layout://".count))
            var reference: String?
            if let at = path.range(of: "@sha256:") {
                reference = String(path[path.index(after: at.lowerBound)...])
                path = String(path[..<at.lowerBound])
            } else if let colon = path.lastIndex(of: ":"), !path[colon...].contains("/") {
                reference = String(path[path.index(after: colon)...])
                path = String(path[..<colon])
            }
            return (pair[0], .ociLayout(path: path, reference: reference))
        }
        if value.contains("://") {
            throw PublishError.invalidArgument("--build-context '\(text)': only directories and oci-layout:// are supported")
        }
        return (pair[0], .directory(value))
    }
}
