import Foundation
import Registry

/// Mirrors that serve another registry's images (`--registry-mirror docker.io=HOST/PREFIX`,
/// the config file's `registryMirrors`): a pull-through cache such as ECR's
/// (`ACCOUNT.dkr.ecr.REGION.amazonaws.com/docker-hub`) or a `docker-registry` in proxy mode.
/// `docker.io/library/alpine:3.20` through `HOST/PREFIX` is `HOST/PREFIX/library/alpine:3.20`;
/// mirrors are tried in order, and the origin only with `fallback` (`--mirror-fallback`), so a
/// broken mirror never quietly sends a CI fleet to a rate-limited registry.
public struct RegistryMirrors: Sendable, Hashable {
    /// Registry (`docker.io`, `ghcr.io`, `HOST:PORT`) → mirrors (`HOST[:PORT][/PREFIX]`).
    public var mirrors: [String: [String]] = [:]
    public var fallback = false

    public init(mirrors: [String: [String]] = [:], fallback: Bool = false) {
        self.mirrors = mirrors
        self.fallback = fallback
    }

    public var isEmpty: Bool { mirrors.isEmpty }

    /// Adds `REGISTRY=HOST[/PREFIX]` (the flag's form) after the mirrors already known.
    public mutating func add(flag text: String) throws {
        guard let eq = text.firstIndex(of: "="), eq != text.startIndex else {
            throw PublishError.invalidArgument("--registry-mirror '\(text)': use REGISTRY=HOST[/PREFIX], e.g. docker.io=mirror.example.com/docker-hub")
        }
        let rule = try Self.rule(registry: String(text[..<eq]), mirror: String(text[text.index(after: eq)...]))
        add(rule.registry, rule.mirror)
    }

    public mutating func add(_ registry: String, _ mirror: String) {
        if !(mirrors[registry] ?? []).contains(mirror) { mirrors[registry, default: []].append(mirror) }
    }

    /// One rule checked and normalised: the registry as references name it (`index.docker.io`
    /// and `registry-1.docker.io` are `docker.io`), the mirror without scheme or trailing slash.
    static func rule(registry: String, mirror: String) throws -> (registry: String, mirror: String) {
        var origin = registry.trimmingCharacters(in: .whitespaces).lowercased()
        if ["index.docker.io", "registry-1.docker.io"].contains(origin) { origin = ImageReference.dockerHub }
        guard !origin.isEmpty, !origin.contains("/"), (try? ImageReference(registry: origin, repository: "x/probe")) != nil else {
            throw PublishError.invalidArgument("'\(registry)' is not a registry host (e.g. docker.io, ghcr.io, registry.example.com:5000)")
        }
        var target = mirror.trimmingCharacters(in: .whitespaces)
        if target.lowercased().hasPrefix("https://") { target = String(target.dropFirst("https://".count)) }
        guard !target.lowercased().hasPrefix("http://") else {
            throw PublishError.invalidArgument("mirror '\(mirror)': name it without a scheme; a mirror that speaks plain HTTP needs --insecure-registry HOST")
        }
        while target.hasSuffix("/") { target.removeLast() }
        let host = String(target.split(separator: "/", maxSplits: 1).first ?? "")
        guard let probe = try? ImageReference(parsing: target + "/probe"), probe.registry == host else {
            throw PublishError.invalidArgument("mirror '\(mirror)' for \(origin) is not HOST[:PORT][/PREFIX] (e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/docker-hub)")
        }
        guard host.lowercased() != origin else {
            throw PublishError.invalidArgument("mirror '\(mirror)' is \(origin) itself")
        }
        return (origin, target)
    }

    /// Where `reference` is looked for first: its name at each mirror, in order (empty when
    /// its registry has none).
    public func candidates(for reference: ImageReference) -> [ImageReference] {
        (mirrors[reference.registry] ?? []).compactMap { mirror in
            let host = mirror.split(separator: "/", maxSplits: 1).first.map(String.init) ?? mirror
            let prefix = mirror.count > host.count ? String(mirror.dropFirst(host.count + 1)) + "/" : ""
            return try? ImageReference(registry: host, repository: prefix + reference.repository, tag: reference.tag, digest: reference.digest)
        }
    }
}
