/// File names are bytes, Swift strings are Unicode: a name that is not valid UTF-8
/// (`touch $'d/\xff'`, a Latin-1 `café`) must still reach the layer and a local export byte
/// for byte, as in BuildKit. Names therefore travel as strings decoded reversibly: every byte
/// that is not part of valid UTF-8 becomes one private-use scalar U+F780…U+F7FF (0xF700 plus
/// the byte), and a name that really contains one of those scalars has its UTF-8 bytes escaped
/// the same way, so decoding is one-to-one and `bytes(decode(b)) == b` for every name.
/// Valid UTF-8 without those scalars (every name in practice) decodes to itself.
///
/// Strings that name files on this host (context paths, layer paths, link targets) go through
/// `withCString` when they reach a system call, never through Swift's implicit UTF-8 bridging.
public enum RawName {
    static let escapes: ClosedRange<UInt32> = 0xF780...0xF7FF

    /// The name for these bytes (a path or one component; "/" passes through).
    public static func decode<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        if isPlain(bytes), let plain = String(validating: bytes, as: UTF8.self) { return plain }
        var scalars = String.UnicodeScalarView()
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = bytes.startIndex
        func escape(_ count: Int) {
            for _ in 0..<count {
                scalars.append(Unicode.Scalar(0xF700 + UInt32(bytes[offset])) ?? "\u{FFFD}")  // always a valid scalar
                offset = bytes.index(after: offset)
            }
        }
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded):
                let scalar = Unicode.UTF8.decode(encoded)
                if escapes.contains(scalar.value) {
                    escape(encoded.count)
                } else {
                    scalars.append(scalar)
                    offset = bytes.index(offset, offsetBy: encoded.count)
                }
            case .error(let length):
                escape(length)
            case .emptyInput:
                return String(scalars)
            }
        }
    }

    /// The bytes a decoded name stands for.
    public static func bytes(_ name: String) -> [UInt8] {
        if isPlain(name.utf8) { return Array(name.utf8) }
        var result: [UInt8] = []
        result.reserveCapacity(name.utf8.count)
        for scalar in name.unicodeScalars {
            if escapes.contains(scalar.value) {
                result.append(UInt8(scalar.value - 0xF700))
            } else {
                result.append(contentsOf: UTF8.encode(scalar).map { Array($0) } ?? [])
            }
        }
        return result
    }

    /// Calls `body` with the NUL-terminated bytes of a decoded name, for a system call.
    public static func withCString<T>(_ name: String, _ body: (UnsafePointer<CChar>) throws -> T) rethrows -> T {
        if isPlain(name.utf8) { return try name.withCString(body) }
        let raw = bytes(name).map { CChar(bitPattern: $0) } + [0]
        return try raw.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return try name.withCString(body) }
            return try body(base)
        }
    }

    /// Bytes without 0xEF, the lead byte of every escape scalar's UTF-8, need no escaping in
    /// either direction once they are valid UTF-8.
    private static func isPlain<Bytes: Sequence>(_ bytes: Bytes) -> Bool where Bytes.Element == UInt8 {
        !bytes.contains(0xEF)
    }
}
