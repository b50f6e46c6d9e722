import CZlib

/// zlib inflation of one stream (stopping at its end; trailing bytes ignored) with a hard
/// output bound: git objects and cargo-auditable sections come from files a user or an image supplies, so a bomb must read
/// as "cannot tell" (nil), never as memory exhaustion or a crash.
enum BoundedInflate {
    /// The inflated bytes, or nil when the input is malformed, truncated, or would inflate to
    /// more than `limit` bytes.
    static func inflate(_ input: ArraySlice<UInt8>, limit: Int) -> [UInt8]? {
        var stream = z_stream()
        guard inflateInit_(&stream, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return nil }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        var source = Array(input)
        return source.withUnsafeMutableBufferPointer { pointer -> [UInt8]? in
            stream.next_in = pointer.baseAddress
            stream.avail_in = uInt(pointer.count)
            while true {
                let status = buffer.withUnsafeMutableBufferPointer { target -> Int32 in
                    stream.next_out = target.baseAddress
                    stream.avail_out = uInt(target.count)
                    return CZlib.inflate(&stream, Z_NO_FLUSH)
                }
                let produced = buffer.count - Int(stream.avail_out)
                output += buffer[0..<produced]
                if output.count > limit { return nil }
                if status == Z_STREAM_END { return output }
                guard status == Z_OK, produced > 0 || stream.avail_in > 0 else { return nil }
            }
        }
    }
}
