import Foundation
import Registry

/// One `--cache-from` / `--cache-to` as buildx spells it. slipway knows `type=registry`
/// (`ref=`), `type=local` (`src=` / `dest=`) and `type=inline`; any other type or key is
/// refused with the ones it knows. A bare `--cache-from REF` is `type=registry,ref=REF`, as in
/// buildx.
public enum CacheSpec: Equatable, Sendable {
    case registry(ref: String, options: ExportOptions)
    case local(directory: String, options: ExportOptions)
    /// `--cache-to type=inline`: each layer descriptor of the image carries its key.
    case inline

    /// What an export does with failures, and buildx's keys slipway accepts for compatibility.
    public struct ExportOptions: Equatable, Sendable {
        /// `ignore-error=true`: a failed export is a warning, not a failed build (buildx).
        public var ignoreError = false
        /// `type=local` `tag=` (buildx): which cache of the directory an export replaces (nil:
        /// `latest`) or an import reads (nil: every one).
        public var tag: String?
        public init(ignoreError: Bool = false, tag: String? = nil) {
            self.ignoreError = ignoreError
            self.tag = tag
        }
    }

    public enum Direction: String, Sendable {
        case from = "--cache-from"
        case to = "--cache-to"
    }

    static let knownTypes = "type=registry,ref=REPO:TAG, type=local,\("src|dest")=DIR or type=inline"

    /// Keys slipway accepts per type and direction. `mode` is accepted (min and max write the
    /// same: slipway only writes the layers the image uses), `image-manifest` and
    /// `oci-mediatypes` too (slipway always writes the image-manifest form with OCI media types,
    /// which every registry, ECR included, accepts).
    static func knownKeys(_ type: String, _ direction: Direction) -> [String]? {
        let export = ["mode", "ignore-error", "image-manifest", "oci-mediatypes"]
        switch (type, direction) {
        case ("registry", .from): return ["type", "ref"]
        case ("registry", .to): return ["type", "ref"] + export
        case ("local", .from): return ["type", "src", "tag"]
        case ("local", .to): return ["type", "dest", "tag"] + export
        case ("inline", .to): return ["type"]
        default: return nil
        }
    }

    public static func parse(_ text: String, _ direction: Direction) throws -> CacheSpec {
        let flag = direction.rawValue
        if !text.contains("=") {
            guard direction == .from, !text.isEmpty else {
                throw PublishError.invalidArgument("\(flag) '\(text)': expected key=value pairs such as \(knownTypes)")
            }
            return .registry(ref: try checkedReference(text, flag: flag), options: ExportOptions())
        }
        var values: [String: String] = [:]
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2, !pair[0].isEmpty else {
                throw PublishError.invalidArgument("\(flag) '\(text)': expected key=value pairs such as \(knownTypes)")
            }
            values[pair[0]] = pair[1]
        }
        guard let type = values["type"] else {
            throw PublishError.invalidArgument("\(flag) '\(text)': missing type=; slipway knows \(knownTypes)")
        }
        guard let known = knownKeys(type, direction) else {
            if type == "inline" {
                throw PublishError.invalidArgument("--cache-from type=inline is not a source: import an inline cache with --cache-from type=registry,ref=IMAGE")
            }
            let hint = type == "gha" ? " (in GitHub Actions, restore a directory with actions/cache and use type=local)" : ""
            throw PublishError.invalidArgument("\(flag) type=\(type) is not supported; slipway knows \(knownTypes)\(hint)")
        }
        for key in values.keys.sorted() where !known.contains(key) {
            throw PublishError.invalidArgument("\(flag) type=\(type): unknown key '\(key)'; known keys: \(known.joined(separator: ", "))")
        }
        var options = ExportOptions()
        if let mode = values["mode"], !["min", "max"].contains(mode) {
            throw PublishError.invalidArgument("\(flag) mode=\(mode): use mode=min or mode=max")
        }
        for key in ["ignore-error", "image-manifest", "oci-mediatypes"] {
            guard let value = values[key] else { continue }
            guard let flagValue = Bool(value) else { throw PublishError.invalidArgument("\(flag) \(key)=\(value): use true or false") }
            if key == "ignore-error" { options.ignoreError = flagValue }
        }
        switch type {
        case "registry":
            guard let ref = values["ref"], !ref.isEmpty else {
                throw PublishError.invalidArgument("\(flag) type=registry needs ref=REPO:TAG, e.g. type=registry,ref=registry.example.com/app:buildcache")
            }
            return .registry(ref: try checkedReference(ref, flag: flag), options: options)
        case "local":
            let key = direction == .from ? "src" : "dest"
            guard let directory = values[key], !directory.isEmpty else {
                throw PublishError.invalidArgument("\(flag) type=local needs \(key)=DIR")
            }
            if let tag = values["tag"] {
                // A file-name-safe word, as an OCI layout's ref names are usually tags.
                guard !tag.isEmpty, tag.count <= 128, tag.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) else {
                    throw PublishError.invalidArgument("\(flag) tag=\(tag): use letters, digits, '.', '_' and '-' (at most 128)")
                }
                options.tag = tag
            }
            return .local(directory: directory, options: options)
        default:
            return .inline
        }
    }

    private static func checkedReference(_ text: String, flag: String) throws -> String {
        do { return try ImageReference(parsing: text).description } catch {
            throw PublishError.invalidArgument("\(flag) ref '\(text)': \(error)")
        }
    }
}
