import Foundation

/// Tar archives written and read byte by byte, for cases tar tools refuse to create and for
/// checks on the exact bytes libarchive wrote.

/// One ustar header plus content, written by hand so tests can build archives that tar tools
/// refuse to create ("../evil", entries below a symlink).
public func rawTarEntry(name: String, type: UInt8 = UInt8(ascii: "0"), content: [UInt8] = [], linkName: String = "", mode: Int = 0o644) -> [UInt8] {
    var header = [UInt8](repeating: 0, count: 512)
    func put(_ string: String, at offset: Int) {
        for (i, byte) in string.utf8.enumerated() { header[offset + i] = byte }
    }
    func octal(_ value: Int, width: Int) -> String {
        let digits = String(value, radix: 8)
        return String(repeating: "0", count: width - 1 - digits.count) + digits
    }
    put(name, at: 0)
    put(octal(mode, width: 8), at: 100)
    put(octal(0, width: 8), at: 108)
    put(octal(0, width: 8), at: 116)
    put(octal(content.count, width: 12), at: 124)
    put(octal(0, width: 12), at: 136)
    put("        ", at: 148)
    header[156] = type
    put(linkName, at: 157)
    put("ustar", at: 257)
    put("00", at: 263)
    let sum = header.reduce(0) { $0 + Int($1) }
    put(octal(sum, width: 7), at: 148)
    var padded = content
    padded += [UInt8](repeating: 0, count: (512 - content.count % 512) % 512)
    return header + padded
}

public func rawTarEnd() -> [UInt8] { [UInt8](repeating: 0, count: 1024) }

/// The headers of an uncompressed tar, for checks on the exact bytes libarchive wrote.
public struct TarHeader: Sendable {
    public var name: String
    public var typeflag: UInt8
    public var size: Int
    public var mtimeField: String
    public var uname: [UInt8]
    public var gname: [UInt8]
    public var magic: [UInt8]
    public var paxRecords: String?
}

public func parseTar(_ bytes: [UInt8]) -> [TarHeader] {
    var headers: [TarHeader] = []
    var offset = 0
    func field(_ start: Int, _ length: Int) -> [UInt8] { Array(bytes[(offset + start)..<(offset + start + length)]) }
    func text(_ start: Int, _ length: Int) -> String {
        String(decoding: field(start, length).prefix { $0 != 0 }, as: UTF8.self)
    }
    while offset + 512 <= bytes.count {
        if field(0, 512).allSatisfy({ $0 == 0 }) { break }
        let size = Int(text(124, 12).trimmingCharacters(in: .whitespaces), radix: 8) ?? 0
        var header = TarHeader(name: text(0, 100), typeflag: bytes[offset + 156], size: size,
                               mtimeField: text(136, 12), uname: field(265, 32), gname: field(297, 32),
                               magic: field(257, 8), paxRecords: nil)
        if header.typeflag == UInt8(ascii: "x") {
            header.paxRecords = String(decoding: bytes[(offset + 512)..<(offset + 512 + size)], as: UTF8.self)
        }
        headers.append(header)
        offset += 512 + (size + 511) / 512 * 512
    }
    return headers
}
