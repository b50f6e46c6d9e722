/// The one way an image reference becomes one platform's image, whatever the source: bases
/// (registry or `oci-layout://`), `COPY --from=IMAGE`, `inspect` and `copy` all come here, so
/// the same image gives the same manifest everywhere. The platform rule itself is
/// `Index.manifest(for:)` (PlatformSelection.swift).
public enum ImageResolver {
    /// Indexes followed below a root before the image counts as malformed.
    public static let maxIndexDepth = 4

    /// Follows indexes from `root` to the manifest serving `platform`. The manifest's
    /// descriptor carries the platform of the index entry that listed it (nil for a root
    /// that is itself a manifest). `name` only labels messages.
    public static func platformManifest<Source: ImageSource>(_ root: FetchedManifest, platform: Platform, in source: Source,
                                                             _ reference: Source.Reference, name: String? = nil) async throws -> PlatformManifest {
        var current = root
        var indexDigest: Digest?
        for _ in 0..<maxIndexDepth where current.isIndex {
            let index = try CanonicalJSON.decode(Index.self, from: current.data, what: "index \(label(name, current.descriptor.digest))")
            indexDigest = indexDigest ?? current.descriptor.digest
            guard let entry = index.manifest(for: platform) else {
                throw ImageSelectionError.platformNotFound(wanted: platform.normalized.description, available: index.availablePlatforms)
            }
            current = try await source.manifest(entry, from: reference)
            current.descriptor.platform = entry.platform
        }
        guard !current.isIndex else { throw ImageSelectionError.nestingTooDeep(levels: maxIndexDepth) }
        return PlatformManifest(manifest: current, indexDigest: indexDigest)
    }

    /// Resolves a reference for one platform: root, the platform's manifest and its config,
    /// checked to be a container image of that platform whose config lists one diff_id per
    /// layer. Reads no layer. A manifest picked from an index must agree with its index entry
    /// on OS and architecture; a manifest named directly must match the platform (variant
    /// included), since its config is all that says what it is.
    public static func resolve<Source: ImageSource>(_ source: Source, _ reference: Source.Reference, platform: Platform,
                                                    name: String? = nil) async throws -> SelectedImage {
        let root = try await source.resolveRoot(reference)
        let found = try await platformManifest(root, platform: platform, in: source, reference, name: name)
        let fetched = found.manifest
        let digest = fetched.descriptor.digest
        let manifest = try CanonicalJSON.decode(Manifest.self, from: fetched.data, what: "manifest \(label(name, digest))")
        guard [MediaType.imageConfig, MediaType.dockerConfig].contains(manifest.config.mediaType) else {
            throw ImageSelectionError.notAContainerImage(configMediaType: manifest.config.mediaType)
        }
        let configData = try await source.smallBlob(manifest.config, from: reference)
        let config = try CanonicalJSON.decode(ImageConfig.self, from: configData,
                                              what: "image config \(manifest.config.digest)\(name.map { " of \($0)" } ?? "")")
        let configPlatform = config.platform.normalized
        let wanted = platform.normalized
        if found.indexDigest == nil {
            guard wanted.matches(configPlatform) || configPlatform.matches(wanted) else {
                throw ImageSelectionError.platformNotFound(wanted: wanted.description, available: [configPlatform.description])
            }
        } else if configPlatform.os != wanted.os || configPlatform.architecture != wanted.architecture {
            throw ImageSelectionError.platformContradiction(manifest: digest, listedAs: fetched.descriptor.platform?.description ?? "?",
                                                            config: configPlatform.description)
        }
        guard config.rootfs.diffIDs.count == manifest.layers.count else {
            throw ImageSelectionError.layerCountMismatch(manifest: digest, layers: manifest.layers.count, diffIDs: config.rootfs.diffIDs.count)
        }
        var manifestDescriptor = fetched.descriptor
        manifestDescriptor.platform = fetched.descriptor.platform ?? configPlatform
        return SelectedImage(root: root.descriptor, indexDigest: found.indexDigest, manifestDescriptor: manifestDescriptor,
                             manifest: manifest, config: config)
    }

    private static func label(_ name: String?, _ digest: Digest) -> String {
        name.map { "\($0)@\(digest)" } ?? digest.description
    }
}

/// A platform's manifest found below a root.
public struct PlatformManifest: Sendable, Hashable {
    /// The manifest; its descriptor's platform is the one its index entry gave.
    public var manifest: FetchedManifest
    /// The first index walked through; nil when the root is the manifest.
    public var indexDigest: Digest?
}

/// One platform's image as `ImageResolver.resolve` found it: manifest and config read and
/// checked, layers not read.
public struct SelectedImage: Sendable, Hashable {
    /// The root the reference named: an index, or the manifest itself.
    public var root: Descriptor
    /// The index digest when the reference named an index (the manifest was picked from it).
    public var indexDigest: Digest?
    /// The platform's manifest (its `platform` filled from the index entry or the config).
    public var manifestDescriptor: Descriptor
    public var manifest: Manifest
    public var config: ImageConfig

    public var configDescriptor: Descriptor { manifest.config }
    public var layers: [Descriptor] { manifest.layers }
}

/// Why an image could not serve a platform. Sources wrap it in their own error (a registry's
/// names the reference), so each case keeps its facts rather than a finished sentence.
public enum ImageSelectionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Nothing serves the platform; `available` lists the runnable platforms the image has.
    case platformNotFound(wanted: String, available: [String])
    case nestingTooDeep(levels: Int)
    case notAContainerImage(configMediaType: String)
    /// The index lists a manifest as one platform and its config names another.
    case platformContradiction(manifest: Digest, listedAs: String, config: String)
    case layerCountMismatch(manifest: Digest, layers: Int, diffIDs: Int)

    public var description: String { detail(about: nil) }

    /// The message, naming the image when `name` is given (`app:1.0: index nesting …`).
    public func detail(about name: String?) -> String {
        let prefix = name.map { "\($0): " } ?? ""
        switch self {
        case .platformNotFound(let wanted, let available):
            let has = available.isEmpty ? "none" : available.joined(separator: ", ")
            return "\(name.map { "\($0) has no" } ?? "no") \(wanted) manifest; it has: \(has)"
        case .nestingTooDeep(let levels):
            return prefix + "index nesting deeper than \(levels) levels"
        case .notAContainerImage(let type):
            return "\(name ?? "the image") is not a container image (config media type '\(type)')"
        case .platformContradiction(let manifest, let listed, let config):
            return prefix + "the index lists \(manifest) as \(listed) but its config says \(config)"
        case .layerCountMismatch(let manifest, let layers, let diffIDs):
            return prefix + "manifest \(manifest) has \(layers) layers but its config lists \(diffIDs) diff_ids"
        }
    }
}
