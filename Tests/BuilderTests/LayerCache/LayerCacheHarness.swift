import Builder
import Foundation
import HTTP
import Layers
import OCI
import TestSupport
import XCTest

/// Builds through one shared cache (store + `layers/`), as successive `slipway build` runs do,
/// counting which layers were written and which reused.
final class LayerCacheHarness: @unchecked Sendable {
    let cache: TemporaryDirectory
    var store: String { cache.path + "/store" }
    var layers: URL { cache.url("layers") }

    init() throws { cache = try TemporaryDirectory(prefix: "slipway-layer-cache") }

    struct Outcome {
        var image: BuiltImage
        var written: Int
        var reused: Int
        var root: Digest { image.result.root.digest }
    }

    func build(_ fixture: BuildFixture, _ dockerfile: String, reuse: Bool = true, sources: [any LayerCacheSource] = [],
               inline: Bool = false, configure: @escaping (inout BuildRequest) -> Void = { _ in }) async throws -> Outcome {
        let counts = Locked((written: 0, reused: 0))
        let image = try await fixture.build(dockerfile) { request in
            request.storeDirectory = self.store
            request.layerCache = LayerCacheSettings(directory: self.layers, reuse: reuse, sources: sources, inlineKeys: inline)
            request.progress = { event in
                switch event {
                case .layerStarted: counts.withLock { $0.written += 1 }
                case .layerReused: counts.withLock { $0.reused += 1 }
                default: break
                }
            }
            configure(&request)
        }
        let (written, reused) = counts.withLock { $0 }
        return Outcome(image: image, written: written, reused: reused)
    }

    /// The same build in a fresh fixture store without any cache: the reference every cached
    /// build must match byte for byte.
    static func cold(_ files: (BuildFixture) throws -> Void, _ dockerfile: String,
                     configure: @escaping (inout BuildRequest) -> Void = { _ in }) async throws -> BuiltImage {
        let fixture = try BuildFixture()
        try files(fixture)
        return try await fixture.build(dockerfile, configure: configure)
    }

    /// Every layer blob of an image, as bytes.
    static func layerBytes(_ image: BuiltImage) throws -> [Data] {
        try image.result.images.flatMap(\.layers).map { try Data(contentsOf: image.store.blobURL($0.digest)) }
    }
}
