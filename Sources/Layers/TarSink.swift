import CZstd
import Foundation
import OCI

/// What a finished sink knows about the stream it consumed.
struct SinkResult {
    var diffID: Digest
    var digest: Digest
    var size: Int64
    var uncompressedSize: Int64
}

/// The consumer of the tar stream: hashes it (diffID), compresses it, hashes and stores the
/// result (digest), all while libarchive is still producing it, so the layer is read once.
protocol TarSink: AnyObject {
    /// The next bytes of the tar stream, in order; the buffer is only valid during the call.
    func write(_ bytes: UnsafeRawBufferPointer) throws
    /// Ends the stream and flushes everything to the ingest file.
    func finish() throws -> SinkResult
    /// Stops any helper threads; safe to call more than once and after `finish`.
    func abort()
}

/// Large enough that hashing, compressing and `write(2)` work on big runs rather than on
/// libarchive's 512-byte headers.
let stagingSize = 1 << 20

/// `.uncompressed`: the blob is the tar stream, so one hash serves as diffID and digest.
final class PlainSink: TarSink {
    private let file: IngestFile
    private let buffer = UnsafeMutableRawPointer.allocate(byteCount: stagingSize, alignment: 64)
    private var used = 0
    private var hasher: SHA256Hasher? = SHA256Hasher()
    private var total: Int64 = 0

    init(file: IngestFile) { self.file = file }
    deinit { buffer.deallocate() }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard var source = bytes.baseAddress else { return }
        var remaining = bytes.count
        if used == 0 && remaining >= stagingSize {
            try emit(UnsafeRawBufferPointer(start: source, count: remaining))
            return
        }
        while remaining > 0 {
            let n = min(remaining, stagingSize - used)
            (buffer + used).copyMemory(from: source, byteCount: n)
            used += n
            source += n
            remaining -= n
            if used == stagingSize { try flush() }
        }
    }

    private func flush() throws {
        try emit(UnsafeRawBufferPointer(start: buffer, count: used))
        used = 0
    }

    private func emit(_ bytes: UnsafeRawBufferPointer) throws {
        hasher!.update(bytes)
        try file.write(bytes.baseAddress!, count: bytes.count)
        total += Int64(bytes.count)
    }

    func finish() throws -> SinkResult {
        if used > 0 { try flush() }
        let digest = hasher.take()!.finalize()
        return SinkResult(diffID: digest, digest: digest, size: total, uncompressedSize: total)
    }

    func abort() {}
}

/// `.zstd`: libzstd's own multithreaded streaming compressor. Its output depends on the level
/// and on whether workers are used at all, not on how many, so `nbWorkers` is `max(jobs, 1)`:
/// never 0, whose single-threaded format differs.
final class ZstdSink: TarSink {
    private let file: IngestFile
    private let context: OpaquePointer
    private let input = UnsafeMutableRawPointer.allocate(byteCount: stagingSize, alignment: 64)
    private var used = 0
    private let outputCapacity = max(stagingSize, ZSTD_CStreamOutSize())
    private let output: UnsafeMutableRawPointer
    private var diffHasher: SHA256Hasher? = SHA256Hasher()
    private var blobHasher: SHA256Hasher? = SHA256Hasher()
    private var tarBytes: Int64 = 0
    private var blobBytes: Int64 = 0

    init(level: Int, workers: Int, file: IngestFile) throws {
        guard let context = ZSTD_createCCtx() else { throw LayerError.io("cannot allocate a zstd context") }
        self.context = context
        self.file = file
        output = .allocate(byteCount: outputCapacity, alignment: 64)
        try set(ZSTD_c_compressionLevel, Int32(level), "compression level \(level)")
        try set(ZSTD_c_checksumFlag, 1, "checksum")
        try set(ZSTD_c_nbWorkers, Int32(max(1, workers)),
                "\(max(1, workers)) worker threads (is libzstd built without multithreading?)")
    }

    deinit {
        ZSTD_freeCCtx(context)
        input.deallocate()
        output.deallocate()
    }

    private func set(_ parameter: ZSTD_cParameter, _ value: Int32, _ what: String) throws {
        let rc = ZSTD_CCtx_setParameter(context, parameter, value)
        if ZSTD_isError(rc) != 0 {
            throw LayerError.invalidOptions("zstd rejected \(what): \(String(cString: ZSTD_getErrorName(rc)))")
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard var source = bytes.baseAddress else { return }
        var remaining = bytes.count
        if used == 0 && remaining >= stagingSize {
            try compress(UnsafeRawBufferPointer(start: source, count: remaining), ZSTD_e_continue)
            return
        }
        while remaining > 0 {
            let n = min(remaining, stagingSize - used)
            (input + used).copyMemory(from: source, byteCount: n)
            used += n
            source += n
            remaining -= n
            if used == stagingSize {
                try compress(UnsafeRawBufferPointer(start: input, count: used), ZSTD_e_continue)
                used = 0
            }
        }
    }

    private func compress(_ bytes: UnsafeRawBufferPointer, _ directive: ZSTD_EndDirective) throws {
        if bytes.count > 0 { diffHasher!.update(bytes) }
        tarBytes += Int64(bytes.count)
        var inBuffer = ZSTD_inBuffer(src: bytes.baseAddress, size: bytes.count, pos: 0)
        while true {
            var outBuffer = ZSTD_outBuffer(dst: output, size: outputCapacity, pos: 0)
            let rc = ZSTD_compressStream2(context, &outBuffer, &inBuffer, directive)
            if ZSTD_isError(rc) != 0 {
                throw LayerError.io("zstd compression failed: \(String(cString: ZSTD_getErrorName(rc)))")
            }
            if outBuffer.pos > 0 {
                let produced = UnsafeRawBufferPointer(start: output, count: outBuffer.pos)
                blobHasher!.update(produced)
                try file.write(output, count: outBuffer.pos)
                blobBytes += Int64(outBuffer.pos)
            }
            let done = directive == ZSTD_e_end ? rc == 0 : inBuffer.pos == inBuffer.size
            if done { return }
        }
    }

    func finish() throws -> SinkResult {
        try compress(UnsafeRawBufferPointer(start: input, count: used), ZSTD_e_end)
        used = 0
        return SinkResult(diffID: diffHasher.take()!.finalize(), digest: blobHasher.take()!.finalize(),
                          size: blobBytes, uncompressedSize: tarBytes)
    }

    func abort() {}
}
