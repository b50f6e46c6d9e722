import Bake
import Builder
import Foundation

/// One resolved bake target as the `build` it stands for: buildx's target keys turned into
/// `BuildJob` values (the same flag syntax `slipway build` takes), so a target builds exactly
/// as `slipway build` with those flags would.
struct BakeTargetBuild {
    var name: String
    var job: BuildJob
    /// Targets whose result this one reads as a named context (`target:NAME`).
    var dependencies: [String]
    /// Things the build accepts but cannot use, said once per target.
    var notes: [String]
    /// `target:` contexts: context name → the layout the other target writes. They become
    /// `--build-context NAME=oci-layout://DIR@DIGEST` once that target is built.
    var linkedContexts: [String: String] = [:]

    /// The job with every `target:` context pointing at the image its target built (the
    /// layout's root; it has one entry per tag, all of that one image).
    func resolvedJob() throws -> BuildJob {
        var job = self.job
        for (key, layout) in linkedContexts.sorted(by: { $0.key < $1.key }) {
            guard let data = FileManager.default.contents(atPath: layout + "/index.json"),
                  let index = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let digest = (index["manifests"] as? [[String: Any]])?.first?["digest"] as? String else {
                throw PublishError.failed("target '\(name)': context '\(key)': the target it names wrote no image")
            }
            job.buildContexts.append("\(key)=oci-layout://\(layout)@\(digest)")
        }
        return job
    }

    /// `links`: where each target used as a context writes its OCI layout.
    static func make(_ target: BakeTarget, bake: BakeJob, links: [String: String], scratch: String) throws -> BakeTargetBuild {
        let name = target.name
        func absolute(_ path: String) -> String {
            let plain = path.hasPrefix("cwd://") ? String(path.dropFirst("cwd://".count)) : path
            return plain.hasPrefix("/") ? plain : bake.workingDirectory + "/" + plain
        }
        let context = target.context ?? "."
        if context.contains("://") && !context.hasPrefix("cwd://") || context.hasPrefix("git@") {
            throw PublishError.invalidArgument("target '\(name)': context '\(context)' is remote; slipway's bake builds local directories")
        }
        if context.hasPrefix("target:") {
            throw PublishError.invalidArgument("target '\(name)': a target as the main context ('\(context)') is not supported; use contexts = { NAME = \"\(context)\" }")
        }
        var job = BuildJob(contextDirectory: absolute(context))
        if let inline = target.dockerfileInline {
            let path = scratch + "/\(name).Dockerfile"
            try Data(inline.utf8).write(to: URL(fileURLWithPath: path))
            job.dockerfile = path
            job.dockerfileLabel = "target '\(name)' (dockerfile-inline)"
        } else {
            // Relative to the context, as buildx takes it; `cwd://` names the working directory instead.
            let dockerfile = target.dockerfile ?? "Dockerfile"
            if dockerfile.hasPrefix("cwd://") {
                job.dockerfile = absolute(dockerfile)
            } else {
                job.dockerfile = dockerfile.hasPrefix("/") ? dockerfile : job.contextDirectory + "/" + dockerfile
            }
        }
        job.platforms = target.platforms ?? []
        job.buildArgs = (target.args ?? [:]).keys.sorted().compactMap { key in (target.args?[key] ?? nil).map { "\(key)=\($0)" } }
        job.labels = (target.labels ?? [:]).keys.sorted().compactMap { key in (target.labels?[key] ?? nil).map { "\(key)=\($0)" } }
        job.annotations = target.annotations ?? []
        job.target = target.target
        job.tags = target.tags ?? []
        job.cacheFrom = (target.cacheFrom ?? []).map(\.flagText)
        job.cacheTo = (target.cacheTo ?? []).map(\.flagText)
        job.noCache = target.noCache ?? false
        job.pull = target.pull ?? true
        job.jobs = bake.jobs
        job.compression = bake.compression
        job.compressionLevel = bake.compressionLevel
        job.sourceDateEpoch = bake.sourceDateEpoch
        job.environment = bake.environment
        job.runSettings = RunSettings(allow: Set(target.entitlements ?? []), network: target.network)
        var notes: [String] = []
        for entry in target.attest ?? [] {
            let disabled = entry.attributes["disabled"] == "true"
            switch entry.type {
            case "provenance" where disabled: job.attestations.provenance = "false"
            case "sbom" where disabled: job.attestations.sbom = "false"
            default: job.attestations.attest.append(BakeEntry(entry.attributes.filter { $0.key != "disabled" }).flagText)
            }
        }
        for output in target.output ?? [] {
            switch output.type {
            case "cacheonly":
                continue
            case "image" where output.attributes["push"] != "true":
                notes.append("output type=image without push=true: the image is only kept in slipway's cache (add --push to push it)")
            case "docker" where output.attributes["dest"] == nil:
                notes.append("output type=docker without dest (--load): slipway has no daemon to load into; add dest=FILE.tar to write a docker archive (ignored)")
            default:
                job.outputs.append(output.flagText)
            }
        }
        if let layout = links[name] { job.outputs.append("type=oci,dest=\(layout),tar=false") }
        var dependencies: [String] = []
        var linkedContexts: [String: String] = [:]
        for (key, value) in (target.contexts ?? [:]).sorted(by: { $0.key < $1.key }) {
            if value.hasPrefix("target:") {
                let other = String(value.dropFirst("target:".count))
                guard let layout = links[other] else { throw PublishError.failed("target '\(name)': context '\(key)' names target '\(other)', which is not part of this bake") }
                linkedContexts[key] = layout
                dependencies.append(other)
            } else if value.contains("://") && !value.hasPrefix("cwd://") {
                job.buildContexts.append("\(key)=\(value)")
            } else {
                job.buildContexts.append("\(key)=\(absolute(value))")
            }
        }
        if let secrets = target.secret, !secrets.isEmpty {
            // As `build --secret` reads them; a relative `src` is the working directory's, as buildx reads it.
            for entry in secrets {
                let fields = entry.attributes.sorted { $0.key < $1.key }.map { field in
                    (key: field.key, value: field.key == "src" || field.key == "source" ? absolute(field.value) : field.value)
                }
                do {
                    let secret = try RunSecrets.resolve(fields, environment: bake.environment)
                    job.runSettings.secrets[secret.id] = secret.value
                } catch let error as BuildError {
                    throw PublishError.invalidArgument("target '\(name)': secret: \(error.message)")
                }
            }
        }
        if let ssh = target.ssh, !ssh.isEmpty { notes.append("ssh: accepted for buildx compatibility; slipway forwards no SSH agent (ignored)") }
        if let hosts = target.extraHosts, !hosts.isEmpty { notes.append("extra-hosts: accepted for buildx compatibility (ignored)") }
        if let filters = target.noCacheFilter, !filters.isEmpty { notes.append("no-cache-filter: accepted for buildx compatibility (ignored)") }
        return BakeTargetBuild(name: name, job: job, dependencies: dependencies, notes: notes, linkedContexts: linkedContexts)
    }
}
