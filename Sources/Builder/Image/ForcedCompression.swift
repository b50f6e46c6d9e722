import Foundation
import Layers
import OCI

/// `force-compression=true`: every base layer whose compression is not the build's is
/// recompressed (`LayerRecompressor`), as BuildKit's exporter converts them; layers already
/// in the build's compression are kept byte for byte (BuildKit converts only on a different
/// compression type, not for another level). The tar streams, and so the diffIDs and the
/// config, stay the same; only the manifests name new blobs.
enum ForcedCompression {
    static func apply(to states: inout [(Platform, StageState)], baseImages: [BaseImage], bases: BaseImages,
                      request: BuildRequest, store: ContentStore) async throws {
        let wanted = MediaType.layerEncoding(request.compression.mediaType)
        // A type that is not a known layer type is left alone, as BuildKit leaves it.
        func needsRecompression(_ descriptor: Descriptor) -> Bool {
            guard let encoding = MediaType.layerEncoding(descriptor.mediaType) else { return false }
            return encoding != wanted
        }
        // The blobs must be here to be read: a push alone would otherwise only mount them.
        for image in baseImages where image.layers.contains(where: needsRecompression) {
            try await bases.fetchLayers(of: image)
        }
        var converted: [Digest: Descriptor] = [:]
        for index in states.indices {
            for (position, layer) in states[index].1.layers.enumerated() {
                guard case .base(let descriptor, let diffID) = layer, needsRecompression(descriptor) else { continue }
                if converted[descriptor.digest] == nil {
                    let blob: LayerBlob
                    let started = Date()
                    do {
                        blob = try LayerRecompressor.recompress(descriptor, diffID: diffID, to: request.compression, jobs: request.jobs, store: store)
                    } catch {
                        throw BuildError("force-compression: \(error)")
                    }
                    request.progress?(.baseLayerRecompressed(from: descriptor.digest, to: blob.digest, mediaType: blob.mediaType, size: blob.size,
                                                            seconds: Date().timeIntervalSince(started)))
                    converted[descriptor.digest] = Descriptor(mediaType: blob.mediaType, digest: blob.digest, size: blob.size)
                }
                if let replacement = converted[descriptor.digest] {
                    states[index].1.layers[position] = .base(replacement, diffID: diffID)
                }
            }
        }
    }
}
