import ArgumentParser
import Foundation
import Publish

/// Per-registry AWS identities on every command that talks to registries, on top of slipway's
/// config file (`$XDG_CONFIG_HOME/slipway/config.json`, `~/.config/slipway/config.json`).
struct RegistryIdentityOptions: ParsableArguments {
    @Option(name: .customLong("registry-profile"),
            help: ArgumentHelp("Log in to this ECR registry (host or 12-digit account id) as this AWS profile or role ARN (repeatable; beats the config file's 'registries').",
                               valueName: "registry=profile|role-arn"))
    var registryProfiles: [String] = []

    func validate() throws {
        for rule in registryProfiles { _ = try validating { try RegistryIdentities.parseFlag(rule) } }
    }

    /// Reads the config file and sets the identities (and the config file's mirrors) on `settings`.
    func apply(to settings: inout RegistrySettings) throws {
        let config = try SlipwayConfig.load()
        settings.identities.configured = config.registries
        for rule in registryProfiles {
            let (key, identity) = try RegistryIdentities.parseFlag(rule)
            settings.identities.commandLine[key] = identity
        }
        settings.mirrors = RegistryMirrors(mirrors: config.registryMirrors, fallback: config.mirrorFallback)
    }
}

/// `copy`'s two identities: one to read the source, one to write the destinations.
struct CopyIdentityOptions: ParsableArguments {
    @Option(name: .customLong("src-profile"), help: ArgumentHelp("Read the source as this AWS profile, or this role ARN assumed from the default credentials.", valueName: "profile|role-arn"))
    var sourceProfile: String?

    @Option(name: .customLong("dest-profile"), help: ArgumentHelp("Write the destinations as this AWS profile, or this role ARN assumed from the default credentials.", valueName: "profile|role-arn"))
    var destinationProfile: String?

    func validate() throws {
        _ = try validating { try identities() }
    }

    func identities() throws -> (source: AWSIdentity?, destination: AWSIdentity?) {
        (try sourceProfile.map { try AWSIdentity(flag: $0, name: "--src-profile") },
         try destinationProfile.map { try AWSIdentity(flag: $0, name: "--dest-profile") })
    }

    func apply(to settings: inout RegistrySettings, source: String, destinations: [String]) throws {
        let (sourceIdentity, destinationIdentity) = try identities()
        try settings.identities.addCopyIdentities(source: source, destinations: destinations,
                                                  sourceIdentity: sourceIdentity, destinationIdentity: destinationIdentity)
    }
}

/// `build`'s base-image mirrors, on top of the config file's `registryMirrors`.
struct MirrorOptions: ParsableArguments {
    @Option(name: .customLong("registry-mirror"),
            help: ArgumentHelp("Pull base images of REGISTRY through this mirror or pull-through cache (ECR: ACCOUNT.dkr.ecr.REGION.amazonaws.com/docker-hub), e.g. docker.io=mirror.gcr.io (repeatable; tried in order; replaces the config file's mirrors for that registry).",
                               valueName: "registry=host[/prefix]"))
    var registryMirrors: [String] = []

    @Flag(name: .customLong("mirror-fallback"), help: "Pull from the origin registry when every mirror of it fails (default: fail).")
    var mirrorFallback = false

    func validate() throws {
        var probe = RegistryMirrors()
        for rule in registryMirrors { try validating { try probe.add(flag: rule) } }
    }

    func apply(to settings: inout RegistrySettings) throws {
        var flags = RegistryMirrors()
        for rule in registryMirrors { try flags.add(flag: rule) }
        for (registry, mirrors) in flags.mirrors { settings.mirrors.mirrors[registry] = mirrors }
        if mirrorFallback { settings.mirrors.fallback = true }
    }
}
