import Foundation
import HTTP
import OCI

/// SLSA provenance predicates in BuildKit's shape (docs/attestations/slsa-definitions.md):
/// v0.2 (`https://mobyproject.org/buildkit@v1` build type, buildx's default) or v1, so that
/// `docker buildx imagetools inspect --format '{{json .Provenance}}'`, docker scout and
/// SLSA verifiers read slipway's as they read BuildKit's.
///
/// Reproducible by construction: no build invocation ID, and timestamps only when a
/// `SOURCE_DATE_EPOCH` was given (both are then that epoch); otherwise they are omitted.
/// Everything else is an input of the build, so the same inputs give the same bytes. The
/// builder machine's platform, which BuildKit records (`invocation.environment.platform`,
/// `internalParameters.builderPlatform`), is left out: a build on an arm64 and on an amd64
/// machine is the same build and must give the same digest.
struct ProvenanceInputs {
    var settings: AttestationRequest.Provenance
    var dockerfileName: String
    var dockerfileText: String
    var buildArgs: [String: String]
    var labels: [String: String]
    var target: String?
    var platforms: [Platform]
    /// The platform this predicate's image is for.
    var platform: Platform
    var materials: [JSONValue]
    var git: GitWorkTree?
    /// Set when the build was given a `SOURCE_DATE_EPOCH` (flag, environment, build arg or the
    /// Dockerfile's ARG default): then the build's start and finish are recorded as that time.
    var explicitEpoch: Int64?

    static let buildTypeV02 = "https://mobyproject.org/buildkit@v1"
    static let buildTypeV1 = "https://github.com/moby/buildkit/blob/master/docs/attestations/slsa-definitions.md"
    static let metadataKey = "https://mobyproject.org/buildkit@v1#metadata"
    static let hermeticKey = "https://mobyproject.org/buildkit@v1#hermetic"

    /// BuildKit's `filename`: the Dockerfile's base name (buildx sends its directory as the
    /// `dockerfile` local), so no path of the build machine reaches the attestation.
    var dockerfileBaseName: String {
        let name = ContextPath.basename(dockerfileName)
        return name.isEmpty || dockerfileName == "-" ? "Dockerfile" : name
    }

    var builderID: String { settings.builderID ?? "pkg:generic/slipway@\(SlipwayVersion.current)" }
    var isMax: Bool { settings.mode == .max }

    /// The frontend arguments as BuildKit receives them; `mode=min` leaves out build args
    /// and labels, as BuildKit does (they may carry secrets), and says so in `completeness`.
    var frontendArgs: [String: String] {
        var args: [String: String] = [:]
        if let target { args["target"] = target }
        var distinct: [Platform] = []
        for platform in platforms where !distinct.contains(platform) { distinct.append(platform) }
        args["platform"] = distinct.map(\.description).joined(separator: ",")
        if isMax {
            for (key, value) in buildArgs { args["build-arg:" + key] = value }
            for (key, value) in labels { args["label:" + key] = value }
        }
        return args
    }

    var parametersComplete: Bool { isMax || (buildArgs.isEmpty && labels.isEmpty) }

    var dockerfileDigest: JSONValue { .strings(["sha256": Digest.sha256(of: Data(dockerfileText.utf8)).hex]) }

    var locals: JSONValue { .array([.object(["name": .string("context")]), .object(["name": .string("dockerfile")])]) }

    /// buildx's `vcs:` metadata, plus (`mode=max`) the Dockerfile's text as BuildKit's `source.infos`.
    var buildkitMetadata: JSONValue? {
        var members: [String: JSONValue] = [:]
        if let git {
            var vcs: [String: JSONValue] = ["revision": .string(git.recordedRevision), "localdir:context": .string(git.contextPath)]
            if let remote = git.remote { vcs["source"] = .string(remote) }
            members["vcs"] = .object(vcs)
        }
        if isMax {
            members["source"] = .object(["infos": .array([.object([
                "filename": .string(dockerfileBaseName), "language": .string("Dockerfile"),
                "data": .string(Data(dockerfileText.utf8).base64EncodedString()),
            ])])])
        }
        return members.isEmpty ? nil : .object(members)
    }

    /// The git commit as a material too (uri = the remote, digest = the commit), as the issue
    /// for a git work tree context asks; unverified, like buildx's `vcs:` hints.
    var allMaterials: [JSONValue] {
        guard let git, let remote = git.remote else { return materials }
        let algorithm = git.revision.count == 64 ? "sha256" : "sha1"
        return materials + [.object(["uri": .string(remote), "digest": .strings([algorithm: git.revision])])]
    }

    var timestamp: JSONValue? { explicitEpoch.map { .string(Timestamp.rfc3339($0)) } }

    func predicate() -> JSONValue {
        settings.version == .v1 ? v1() : v02()
    }

    func v02() -> JSONValue {
        var metadata: [String: JSONValue?] = [
            "buildStartedOn": timestamp, "buildFinishedOn": timestamp,
            "completeness": .object(["parameters": .bool(parametersComplete), "environment": .bool(true), "materials": .bool(false)]),
            "reproducible": .bool(true),
            Self.hermeticKey: .bool(true),
        ]
        metadata[Self.metadataKey] = buildkitMetadata
        return .compact([
            "builder": .object(["id": .string(builderID)]),
            "buildType": .string(Self.buildTypeV02),
            "invocation": .object([
                "configSource": .object(["entryPoint": .string(dockerfileBaseName), "digest": dockerfileDigest]),
                "parameters": .object(["frontend": .string("dockerfile.v0"), "args": .strings(frontendArgs), "locals": locals]),
            ]),
            "materials": .array(allMaterials),
            "metadata": .compact(metadata),
        ])
    }

    func v1() -> JSONValue {
        var metadata: [String: JSONValue?] = [
            "startedOn": timestamp, "finishedOn": timestamp,
            "buildkit_hermetic": .bool(true),
            "buildkit_completeness": .object(["request": .bool(parametersComplete), "resolvedDependencies": .bool(false)]),
            "buildkit_reproducible": .bool(true),
        ]
        metadata["buildkit_metadata"] = buildkitMetadata
        return .object([
            "buildDefinition": .object([
                "buildType": .string(Self.buildTypeV1),
                "externalParameters": .object([
                    "configSource": .object(["path": .string(dockerfileBaseName), "digest": dockerfileDigest]),
                    "request": .object(["frontend": .string("dockerfile.v0"), "args": .strings(frontendArgs), "locals": locals]),
                ]),
                "resolvedDependencies": .array(allMaterials),
            ]),
            "runDetails": .object([
                "builder": .object(["id": .string(builderID), "version": .strings(["slipway": SlipwayVersion.current])]),
                "metadata": .compact(metadata),
            ]),
        ])
    }
}
