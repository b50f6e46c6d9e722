import Builder
import Foundation
import HTTP
import OCI
import Registry

/// `build`, end to end: read the Dockerfile, build every platform with registry bases coming
/// through the cache, write the outputs, report the digests, then `--iidfile`, the push
/// (`--push` / `type=registry`) and `--metadata-file`.
public enum BuildWorkflow {
    /// `shared`: one registry session and base-image resolution for several builds of one
    /// command (`bake`); nil: this build's own.
    public static func run(_ job: BuildJob, registry: RegistrySettings, shared: SharedBuildResources? = nil,
                           onEvent: @escaping PublishEventHandler) async throws {
        let contextPath = URL(fileURLWithPath: job.contextDirectory).standardizedFileURL.path
        let dockerfile = try DockerfileSource.read(file: job.dockerfile, contextDirectory: contextPath)
        let platforms = try job.parsePlatforms()
        let epoch = try job.parseSourceDateEpoch()
        let specs = try job.outputs.map(OutputSpec.parse)
        try BuildJob.checkStandardOutput(specs)
        let outputs = specs.compactMap(\.output)
        let byDigest = job.pushByDigest || specs.contains { $0.pushByDigest }
        let pushing = job.push || byDigest || specs.contains { $0.push }
        if registry.signer != nil && !pushing {
            throw PublishError.invalidArgument("--sign signs what is pushed: add --push (or --output type=registry), or sign later with `slipway sign`")
        }
        // `name=` on an output names the image as -t does.
        var tags: [String] = []
        for tag in job.tags + specs.flatMap(\.names) where !tags.contains(tag) { tags.append(tag) }
        let targets = try pushTargets(tags, pushing: pushing, byDigest: byDigest)
        let annotations = job.annotations + specs.flatMap(\.annotations)
        try BuildJob.checkIndexAnnotations(annotations, platforms: platforms)
        let compression = try job.parseCompression(outputs: specs)
        var named: [String: BuildRequest.NamedContext] = [:]
        for spec in job.buildContexts {
            let (name, value) = try NamedContextSpec.parse(spec)
            named[name] = value
        }
        let layerCachePlan = try LayerCachePlan(job: job)
        let cacheRun = CacheRun(registry.cache)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        let scratchCleanup = Interruption.register {
            RunningCommands.stopAll()  // RUN roots are in the scratch directory
            try? FileManager.default.removeItem(atPath: scratch)
        }
        defer {
            try? FileManager.default.removeItem(atPath: scratch)
            Interruption.unregister(scratchCleanup)
        }

        var request = BuildRequest(
            contextDirectory: contextPath, dockerfileText: dockerfile.text, dockerfileName: job.dockerfileLabel ?? dockerfile.name,
            ignorePatterns: dockerfile.ignorePatterns, platforms: platforms,
            buildArgs: try BuildJob.keyValues(job.buildArgs, flag: "--build-arg", environment: job.environment),
            labels: try BuildJob.keyValues(job.labels, flag: "--label", environment: nil),
            annotations: try BuildJob.keyValues(annotations, flag: "--annotation", environment: nil),
            target: job.target, tags: tags, sourceDateEpoch: epoch, compression: compression,
            jobs: job.jobs ?? ProcessInfo.processInfo.activeProcessorCount, namedContexts: named,
            storeDirectory: registry.cache.storeDirectory.path, scratchDirectory: scratch)
        request.dockerfileIsText = job.dockerfileLabel != nil
        request.forceCompression = specs.contains(where: \.forceCompression)
        request.mediaTypes = try BuildJob.mediaTypes(outputs: specs)
        request.progress = { onEvent(.build($0)) }
        request.runSettings = job.runSettings
        request.runSettings.cacheMountDirectory = registry.cache.runCacheDirectory.path
        request.attestations = try AttestationPlan.request(job.attestations, outputs: outputs, pushing: pushing,
                                                           environment: job.environment, onEvent: onEvent)
        request.keepFileTrees = outputs.contains { switch $0 { case .local, .tar: true; default: false } }
        // A push alone mounts or streams base layers from their registry; files need them here.
        request.fetchBaseLayers = !outputs.isEmpty
        // Bases on ECR log in through the AWS credential chain, others through the docker config.
        let session = try shared?.session ?? RegistrySession(registry)
        let resolver = RegistryBaseResolver(puller: try session.puller(resolveTags: job.pull, onEvent: { onEvent(.pull($0)) }),
                                            mirrors: registry.mirrors, onWarning: { onEvent(.warning($0)) })
        request.baseResolver = shared.map { SharedBaseResolver(inner: resolver, memo: $0.resolutions, pull: job.pull) } ?? resolver
        request.downloadTransport = RetryingTransport(session.transport, policy: registry.retryPolicy)
        request.layerCache = try layerCachePlan.settings(cache: registry.cache, session: session, onEvent: onEvent)
        if outputs.isEmpty && !pushing {
            onEvent(.warning("No output specified: the build result is only kept in slipway's cache. To write it use --output type=oci,dest=image.tar (or type=docker, type=local), or push it with --push"))
        }
        onEvent(.building(platforms: platforms, dockerfile: job.dockerfileLabel ?? dockerfile.name))
        let result = try await Builder.build(request)
        result.warnings.forEach { onEvent(.warning($0)) }
        for output in outputs {
            try Exporter.export(result, to: output, tags: tags, sourceDateEpoch: result.sourceDateEpoch)
            onEvent(.exported(output))
        }
        onEvent(.built(result))
        if let iidfile = job.iidfile {
            try writeAtomically(iidfile, Data(result.root.digest.description.utf8))
        }
        var pushedNames: [String] = []
        if pushing {
            var options = registry.pushOptions(jobs: job.jobs ?? PushOptions.defaultJobs)
            for (digest, source) in result.blobSources {
                if let reference = try? ImageReference(parsing: source) { options.blobSources[digest] = [reference] }
            }
            options.blobCache = result.store
            let pushed = try await Publisher(session: session, onEvent: onEvent)
                .publish(result.root, from: result.store, to: targets, options: options)
            pushedNames = pushed.map { byDigest ? $0.description : $0.reference.description }
            try await Publisher(session: session, onEvent: onEvent)
                .publishReferrers(result.attestations, from: result.store, to: targets, options: options)
        }
        try await layerCachePlan.export(result, session: session, pushed: pushing ? targets : [], jobs: job.jobs ?? 4, onEvent: onEvent)
        if let metadataFile = job.metadataFile {
            try writeAtomically(metadataFile, try BuildMetadata.json(result, tags: pushing ? pushedNames : tags))
        }
        cacheRun.finish(bound: registry.cacheBound, onEvent: onEvent)
    }

    /// Where `--push` goes: every `-t`, which must then exist and parse.
    /// With `byDigest`, only each tag's repository (untagged; once per repository).
    static func pushTargets(_ tags: [String], pushing: Bool, byDigest: Bool = false) throws -> [ImageReference] {
        guard pushing else { return [] }
        guard !tags.isEmpty else {
            throw PublishError.invalidArgument(byDigest
                ? "--push-by-digest needs a -t/--tag (or name=) naming the repository, e.g. -t registry.example.com/app"
                : "--push needs at least one -t/--tag naming where to push, e.g. -t registry.example.com/app:1.0")
        }
        let references = try tags.map { tag in
            do { return try ImageReference(parsing: tag) } catch { throw PublishError.invalidArgument("-t '\(tag)': \(error)") }
        }
        guard byDigest else { return references }
        var repositories: [ImageReference] = []
        for reference in references where !repositories.contains(where: { $0.name == reference.name }) {
            repositories.append(reference.with(tag: nil, digest: nil))
        }
        return repositories
    }
}
