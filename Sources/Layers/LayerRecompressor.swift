import Foundation
import OCI

/// `force-compression=true`: a base layer in another compression is rewritten in the one the
/// build writes, as BuildKit's exporter converts it. One streaming pass, bounded memory:
/// read the stored blob (hashing it, so it must still be the blob its digest names), decode,
/// and feed the tar stream to the same compressor new layers use (hashing it, so it must
/// be the diffID the image config lists). The new blob is committed only when both match.
public enum LayerRecompressor {
    public static func recompress(_ layer: Descriptor, diffID: Digest, to compression: LayerCompression, jobs: Int,
                                  store: ContentStore) throws -> LayerBlob {
        let decoder: LayerDecoder
        switch MediaType.layerEncoding(layer.mediaType) {
        case .gzip?: decoder = try GzipDecoder()
        case .zstd?: decoder = try ZstdDecoder()
        case .uncompressed?: decoder = PlainDecoder()
        case nil: throw LayerError.io("base layer \(layer.digest) has media type '\(layer.mediaType)', which slipway cannot decompress")
        }
        try LayerWriter.validate(compression)
        let path = store.blobURL(layer.digest).path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw LayerError.io("cannot open base layer \(layer.digest) in the cache: \(errnoMessage())") }
        defer { close(fd) }

        let file = try IngestFile(store: store)
        var committed = false
        defer { if !committed { file.discard() } }
        let sink: TarSink
        switch compression {
        case .gzip(let level): sink = ParallelGzipSink(level: level, jobs: max(1, jobs), file: file)
        case .zstd(let level): sink = try ZstdSink(level: level, workers: max(1, jobs), file: file)
        case .uncompressed: sink = PlainSink(file: file)
        }
        defer { if !committed { sink.abort() } }

        let blobHasher = SHA256Hasher()
        let chunk = UnsafeMutableRawPointer.allocate(byteCount: stagingSize, alignment: 64)
        defer { chunk.deallocate() }
        let feed: (UnsafeRawBufferPointer) throws -> Void = { try sink.write($0) }
        /// Reads the next chunk into `chunk`, hashing it; 0 at the end of the file.
        func next() throws -> Int {
            while true {
                let n = read(fd, chunk, stagingSize)
                if n < 0 && errno == EINTR { continue }
                guard n >= 0 else { throw LayerError.io("cannot read base layer \(layer.digest): \(errnoMessage())") }
                blobHasher.update(UnsafeRawBufferPointer(start: chunk, count: n))
                return n
            }
        }
        func checkDigest() throws {
            let readDigest = blobHasher.finalize()
            guard blobHasher.byteCount == layer.size, readDigest == layer.digest else {
                throw LayerError.io("base layer \(layer.digest) in the cache does not match its digest (\(blobHasher.byteCount) bytes hashing to \(readDigest)); run `slipway cache prune --all` and build again")
            }
        }
        do {
            while true {
                let n = try next()
                if n == 0 { break }
                // A blob longer than its descriptor is not the blob the manifest names.
                guard blobHasher.byteCount <= layer.size else { break }
                try decoder.decode(UnsafeRawBufferPointer(start: chunk, count: n), output: feed)
            }
        } catch let error as LayerError {
            // Bytes that do not decode: say whether they are not the blob at all.
            while blobHasher.byteCount <= layer.size, try next() > 0 {}
            try checkDigest()
            throw error
        }
        try checkDigest()
        try decoder.finish(output: feed)
        let result = try sink.finish()
        guard result.diffID == diffID else {
            throw LayerError.io("base layer \(layer.digest) decompresses to \(result.diffID), but its image config lists \(diffID)")
        }
        try file.commit(into: store, as: result.digest)
        committed = true
        return LayerBlob(diffID: result.diffID, digest: result.digest, size: result.size,
                         uncompressedSize: result.uncompressedSize, mediaType: compression.mediaType)
    }
}
