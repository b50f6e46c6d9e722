/// Choosing one platform's manifest out of an index (OCI index or Docker manifest list) the
/// way containerd does: both sides normalised (`aarch64` = `arm64` = `arm64/v8`, `arm` =
/// `arm/v7`), then OS, architecture and variant compared; `arm/v7` never takes `arm/v6`.
extension Platform {
    /// The same platform in containerd's normal form; index entries and configs are decoded as
    /// written (`arm64/v8`, `aarch64`), so compare through this.
    public var normalized: Platform {
        var p = Platform(os: os, architecture: architecture, variant: variant)
        p.osVersion = osVersion
        p.osFeatures = osFeatures
        return p
    }

    /// `unknown/unknown`: what BuildKit puts on attestation manifests; not a runnable platform.
    public var isUnknown: Bool { os == "unknown" || architecture == "unknown" }
}

extension Index {
    /// The image manifests of this index with a runnable platform (attestations and other
    /// artifacts excluded), in index order.
    public var platformManifests: [Descriptor] {
        manifests.filter { entry in
            guard MediaType.isManifest(entry.mediaType) || MediaType.isIndex(entry.mediaType) else { return false }
            return !(entry.platform?.isUnknown ?? false)
        }
    }

    /// The manifest serving `wanted`: an entry whose normalised platform equals it (variant
    /// included) wins over one that only matches because it names no variant; with equal
    /// matches the first in index order is taken. A single entry without any platform is taken
    /// as the image (some single-image indexes omit it). Nil when nothing matches.
    public func manifest(for wanted: Platform) -> Descriptor? {
        let wanted = wanted.normalized
        let candidates = platformManifests
        if let exact = candidates.first(where: { $0.platform.map { p in
            let n = p.normalized
            return n.os == wanted.os && n.architecture == wanted.architecture && n.variant == wanted.variant
        } ?? false }) {
            return exact
        }
        if let loose = candidates.first(where: { $0.platform.map { wanted.matches($0.normalized) } ?? false }) {
            return loose
        }
        if candidates.count == 1, let only = candidates.first, only.platform == nil { return only }
        return nil
    }

    /// The runnable platforms this index offers (`linux/amd64, linux/s390x`), for error messages.
    public var availablePlatforms: [String] {
        var seen: [String] = []
        for entry in platformManifests {
            let name = entry.platform?.normalized.description ?? "unknown platform"
            if !seen.contains(name) { seen.append(name) }
        }
        return seen
    }
}
