import Foundation
import OCI

/// The build's async phase, between the stage graphs and the synchronous planning: every
/// image the needed stages use is resolved (all platforms, different images concurrently),
/// the ONBUILD triggers of base images are loaded (with what they copy from), and the layers of the images
/// planning reads as files are fetched. Planning then never waits for the network.
extension BaseImages {
    static func prepare(_ graphs: inout [StageGraph], request: BuildRequest, store: ContentStore) async throws -> BaseImages {
        let trees = BaseTrees(store: store, scratch: request.scratchDirectory)
        var resolved: [ImageRequest: Result<BaseImage, any Error>] = [:]
        while true {
            let wanted = graphs.reduce(into: Set<ImageRequest>()) { $0.formUnion($1.images) }.subtracting(resolved.keys)
            for (image, result) in await resolve(wanted, request: request, store: store, trees: trees) { resolved[image] = result }
            var progressed = false
            for index in graphs.indices {
                let settled = try graphs[index].settle(imageTriggers: { image in
                    switch resolved[image] {
                    case .success(let base)?: return base.config.config?.onBuild ?? []
                    case .failure?: return []
                    case nil: return nil
                    }
                })
                progressed = progressed || settled
            }
            if !progressed { break }
        }
        let readAsFiles = graphs.reduce(into: Set<ImageRequest>()) { $0.formUnion($1.imagesReadAsFiles) }
        let fetches: [(ImageRequest, BaseImage, any BaseImageResolver)] = readAsFiles.compactMap { image in
            guard case .success(let base)? = resolved[image], base.source != nil, let resolver = request.baseResolver else { return nil }
            return (image, base, resolver)
        }
        await withTaskGroup(of: (ImageRequest, (any Error)?).self) { group in
            for (image, base, resolver) in fetches {
                group.addTask {
                    let missing = base.layers.filter { !store.contains($0.digest) }
                    guard let source = base.source, !missing.isEmpty else { return (image, nil) }
                    do { try await resolver.fetchLayers(missing, of: source, into: store) } catch { return (image, error) }
                    return (image, nil)
                }
            }
            for await (image, failure) in group {
                guard let failure, case .success(var base)? = resolved[image] else { continue }
                base.fetchFailure = failure
                resolved[image] = .success(base)
            }
        }
        return BaseImages(store: store, resolver: request.baseResolver, images: resolved)
    }

    /// Resolves images; the platforms of one image one after another (the second finds the
    /// index already stored, so a registry serves it once), different images concurrently.
    private static func resolve(_ images: Set<ImageRequest>, request: BuildRequest, store: ContentStore,
                                trees: BaseTrees) async -> [ImageRequest: Result<BaseImage, any Error>] {
        let groups = Dictionary(grouping: images, by: \.location).values.map {
            $0.sorted { $0.platform.description < $1.platform.description }
        }
        return await withTaskGroup(of: [(ImageRequest, Result<BaseImage, any Error>)].self) { group in
            for members in groups {
                group.addTask {
                    var results: [(ImageRequest, Result<BaseImage, any Error>)] = []
                    for image in members {
                        do {
                            results.append((image, .success(try await resolve(image, request: request, store: store, trees: trees))))
                        } catch {
                            results.append((image, .failure(error)))
                        }
                    }
                    return results
                }
            }
            var all: [ImageRequest: Result<BaseImage, any Error>] = [:]
            for await results in group {
                for (image, result) in results { all[image] = result }
            }
            return all
        }
    }

    /// One image: a registry's through the command line's resolver, a layout's read here
    /// (its layers copied into the store at once: hard links, and a layout has no registry to
    /// fetch them from later). Both choose the platform with `ImageResolver`.
    private static func resolve(_ image: ImageRequest, request: BuildRequest, store: ContentStore, trees: BaseTrees) async throws -> BaseImage {
        switch image.location {
        case .registry(let reference):
            guard let resolver = request.baseResolver else {
                throw BuildError("'\(reference)' is a registry image, and this build has no registry access")
            }
            let resolved = try await resolver.resolve(reference, platform: image.platform)
            return BaseImage(name: resolved.name, config: resolved.config, layers: resolved.manifest.layers,
                             manifestDigest: resolved.manifestDigest, source: resolved.source ?? resolved.name, trees: trees)
        case .layout(let name, let path, let reference):
            do {
                let layout = try OCILayoutReader(path: path)
                let selected: SelectedImage
                do { selected = try await ImageResolver.resolve(layout, reference, platform: image.platform) } catch let error as ImageSelectionError {
                    throw OCIError.invalidLayout(error.description)
                }
                for layer in selected.layers { try layout.copyBlob(layer.digest, into: store) }
                return BaseImage(name: name, config: selected.config, layers: selected.layers,
                                 manifestDigest: selected.manifestDescriptor.digest, source: nil, trees: trees)
            } catch let error as OCIError {
                throw BuildError("image '\(name)' from oci-layout://\(path): \(error)")
            }
        }
    }
}
