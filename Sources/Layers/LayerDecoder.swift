import CZlib
import CZstd
import Foundation

/// Streaming decompression of a layer blob, for recompressing base layers: compressed bytes
/// in, the tar stream out to a callback, through one fixed output buffer (bounded memory
/// whatever the layer's size or ratio).
protocol LayerDecoder: AnyObject {
    /// Decodes the next compressed bytes, handing every decoded byte to `output` in order.
    func decode(_ input: UnsafeRawBufferPointer, output: (UnsafeRawBufferPointer) throws -> Void) throws
    /// Ends the input: throws when the stream stopped in the middle.
    func finish(output: (UnsafeRawBufferPointer) throws -> Void) throws
}

let decodedChunkSize = 1 << 20

/// An uncompressed tar layer: the bytes are the stream.
final class PlainDecoder: LayerDecoder {
    func decode(_ input: UnsafeRawBufferPointer, output: (UnsafeRawBufferPointer) throws -> Void) throws {
        try output(input)
    }

    func finish(output: (UnsafeRawBufferPointer) throws -> Void) throws {}
}

/// gzip, also several members one after another (as pigz and some registries' tools write),
/// which gzip(1) and Go's reader accept as one stream.
final class GzipDecoder: LayerDecoder {
    private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    private let buffer = UnsafeMutableRawPointer.allocate(byteCount: decodedChunkSize, alignment: 64)
    /// At the end of a member, with no byte of a next one seen.
    private var atMemberEnd = false
    private var sawInput = false

    init() throws {
        stream.initialize(to: z_stream())
        // 15 + 16: gzip framing only (not zlib's), with its CRC-32 and length checked.
        let rc = inflateInit2_(stream, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else {
            stream.deallocate()
            buffer.deallocate()
            throw LayerError.io("cannot initialise zlib (inflateInit2 returned \(rc))")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
        buffer.deallocate()
    }

    func decode(_ input: UnsafeRawBufferPointer, output: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard let base = input.baseAddress, input.count > 0 else { return }
        sawInput = true
        stream.pointee.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(input.count)
        while stream.pointee.avail_in > 0 {
            if atMemberEnd {
                inflateReset(stream)
                atMemberEnd = false
            }
            stream.pointee.next_out = buffer.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = uInt(decodedChunkSize)
            let rc = inflate(stream, Z_NO_FLUSH)
            let produced = decodedChunkSize - Int(stream.pointee.avail_out)
            if produced > 0 { try output(UnsafeRawBufferPointer(start: buffer, count: produced)) }
            switch rc {
            case Z_STREAM_END: atMemberEnd = true
            case Z_OK: break
            case Z_BUF_ERROR where stream.pointee.avail_in == 0: break
            default:
                let message = stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(rc)"
                throw LayerError.io("the gzip stream is corrupt: \(message)")
            }
        }
    }

    func finish(output: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard sawInput, atMemberEnd else { throw LayerError.io("the gzip stream ends before its end (truncated)") }
    }
}

/// zstd, any number of frames.
final class ZstdDecoder: LayerDecoder {
    private let context: OpaquePointer
    private let capacity = max(decodedChunkSize, ZSTD_DStreamOutSize())
    private let buffer: UnsafeMutableRawPointer
    /// ZSTD_decompressStream's last answer: 0 only when a frame is complete and flushed.
    private var lastHint = 1
    private var sawInput = false

    init() throws {
        guard let context = ZSTD_createDCtx() else { throw LayerError.io("cannot allocate a zstd decompression context") }
        self.context = context
        buffer = .allocate(byteCount: capacity, alignment: 64)
    }

    deinit {
        ZSTD_freeDCtx(context)
        buffer.deallocate()
    }

    func decode(_ input: UnsafeRawBufferPointer, output: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard input.count > 0 else { return }
        sawInput = true
        var inBuffer = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        try drain(&inBuffer, output: output)
    }

    /// `decode` leaves nothing inside the decoder, so only whether the last frame ended is left
    /// to check (asking again with no input would answer with the next frame's header size).
    func finish(output: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard sawInput, lastHint == 0 else { throw LayerError.io("the zstd stream ends before its end (truncated)") }
    }

    /// Decodes until the input is used up and the decoder holds nothing more (a full output
    /// buffer may mean more is waiting inside).
    private func drain(_ inBuffer: inout ZSTD_inBuffer, output: (UnsafeRawBufferPointer) throws -> Void) throws {
        while true {
            var outBuffer = ZSTD_outBuffer(dst: buffer, size: capacity, pos: 0)
            let rc = ZSTD_decompressStream(context, &outBuffer, &inBuffer)
            if ZSTD_isError(rc) != 0 {
                throw LayerError.io("the zstd stream is corrupt: \(String(cString: ZSTD_getErrorName(rc)))")
            }
            lastHint = rc
            if outBuffer.pos > 0 { try output(UnsafeRawBufferPointer(start: buffer, count: outBuffer.pos)) }
            if inBuffer.pos == inBuffer.size && outBuffer.pos < outBuffer.size { return }
        }
    }
}
