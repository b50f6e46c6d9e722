import Builder
import Foundation
import OCI
import Registry

/// What `--cache-from`, `--cache-to` and `--no-cache` ask of one build, checked before any
/// work: the layer cache's settings for the builder, and the exports after the build (and
/// after the push, so a cache in the image's repository finds its blobs already there).
struct LayerCachePlan {
    var imports: [CacheSpec]
    var exports: [CacheSpec]
    var noCache: Bool

    init(job: BuildJob) throws {
        imports = try job.cacheFrom.map { try CacheSpec.parse($0, .from) }
        exports = try job.cacheTo.map { try CacheSpec.parse($0, .to) }
        noCache = job.noCache
    }

    /// The builder's settings: the local cache always (`CACHE/layers`), the imports as sources.
    func settings(cache: CacheLocation, session: RegistrySession, onEvent: @escaping PublishEventHandler) throws -> LayerCacheSettings {
        var sources: [any LayerCacheSource] = []
        for spec in imports {
            switch spec {
            case .registry(let ref, _):
                let puller = try session.puller(resolveTags: true, onEvent: { onEvent(.pull($0)) })
                sources.append(RegistryLayerCacheSource(reference: try ImageReference(parsing: ref), puller: puller))
            case .local(let directory, let options):
                sources.append(DirectoryLayerCacheSource(directory: URL(fileURLWithPath: directory).standardizedFileURL, tag: options.tag))
            case .inline:
                break
            }
        }
        let needBytes = exports.contains { if case .local = $0 { return true } else { return false } }
        return LayerCacheSettings(directory: cache.layersDirectory, reuse: !noCache, sources: sources,
                                  inlineKeys: exports.contains(.inline), needBytes: needBytes)
    }

    /// Writes every `--cache-to` but inline (which is in the image already).
    func export(_ result: BuildResult, session: RegistrySession, pushed: [ImageReference], jobs: Int,
                onEvent: @escaping PublishEventHandler) async throws {
        for spec in exports {
            let destination: String
            let ignoreError: Bool
            switch spec {
            case .inline: continue
            case .registry(let ref, let options): (destination, ignoreError) = (ref, options.ignoreError)
            case .local(let directory, let options): (destination, ignoreError) = (directory, options.ignoreError)
            }
            guard !result.layerCacheEntries.isEmpty else {
                onEvent(.warning("--cache-to \(destination): the image has no layer slipway wrote; no cache exported"))
                continue
            }
            do {
                let digest: Digest
                switch spec {
                case .registry(let ref, _):
                    var options = session.settings.pushOptions(jobs: jobs)
                    options.blobCache = result.store
                    for entry in result.layerCacheEntries {
                        var sources = pushed
                        if let source = result.blobSources[entry.digest], let reference = try? ImageReference(parsing: source) {
                            sources.append(reference)
                        }
                        options.blobSources[entry.digest] = sources
                    }
                    digest = try await RegistryLayerCacheExport.export(result.layerCacheEntries, to: try ImageReference(parsing: ref),
                                                                       store: result.store, session: session, options: options, onEvent: onEvent)
                case .local(let directory, let options):
                    digest = try DirectoryLayerCacheExport.export(result.layerCacheEntries, to: URL(fileURLWithPath: directory),
                                                                  tag: options.tag ?? DirectoryLayerCacheExport.defaultTag, store: result.store)
                case .inline:
                    continue
                }
                onEvent(.cacheExported(destination: destination, digest: digest, layers: result.layerCacheEntries.count))
            } catch {
                guard ignoreError else { throw PublishError.failed("--cache-to \(destination): \(error)") }
                onEvent(.warning("--cache-to \(destination): \(error) (ignore-error=true: the build succeeds without it)"))
            }
        }
    }
}
