import Foundation
import OCI
import XCTest

/// A temporary directory that disappears with the test.
final class Scratch {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("layers-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func url(_ relative: String) -> URL { URL(fileURLWithPath: path).appendingPathComponent(relative) }

    @discardableResult
    func write(_ relative: String, _ bytes: [UInt8]) throws -> String {
        let url = url(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
        return url.path
    }

    func store() throws -> ContentStore { try ContentStore(root: url("store")) }
}

struct ToolResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs a shell command line (pipelines included) and captures its output.
@discardableResult
func shell(_ command: String, file: StaticString = #filePath, line: UInt = #line) throws -> ToolResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", command]
    let errFile = FileManager.default.temporaryDirectory.appendingPathComponent("stderr-\(UUID().uuidString)")
    _ = FileManager.default.createFile(atPath: errFile.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: errFile) }
    let out = Pipe()
    process.standardOutput = out
    process.standardError = try FileHandle(forWritingTo: errFile)
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let err = (try? String(contentsOf: errFile, encoding: .utf8)) ?? ""
    return ToolResult(status: process.terminationStatus, stdout: String(decoding: data, as: UTF8.self), stderr: err)
}

/// Like `shell`, but fails the test unless the command exits 0.
@discardableResult
func mustRun(_ command: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
    let result = try shell(command)
    XCTAssertEqual(result.status, 0, "`\(command)` failed: \(result.stderr)", file: file, line: line)
    return result.stdout
}

func toolExists(_ name: String) -> Bool {
    (try? shell("command -v \(name)"))?.status == 0
}

/// Quoted for /bin/sh.
func q(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

/// Text-like bytes that compress about as well as source code, from a fixed seed.
func pseudoText(count: Int, seed: UInt64) -> [UInt8] {
    let words = ["layer", "image", "tar", "gzip", "slipway", "container", "build", "digest", "the", "of",
                 "manifest", "config", "blob", "index", "func", "let", "var", "return", "struct", "0x1f",
                 "registry", "push", "pull", "stage", "copy", "run", "from", "arg", "env", "label"]
        .map { Array($0.utf8) }
    var x = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    var out: [UInt8] = []
    out.reserveCapacity(count + 32)
    while out.count < count {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17
        out.append(contentsOf: words[Int(x % UInt64(words.count))])
        if x & 0xF00 == 0 { out.append(contentsOf: String(x % 100_000).utf8) }
        out.append(x & 0x7000 == 0 ? 10 : 32)
    }
    return Array(out.prefix(count))
}

/// Incompressible bytes from a fixed seed.
func pseudoRandom(count: Int, seed: UInt64) -> [UInt8] {
    var x = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    var out = [UInt8](repeating: 0, count: count)
    for i in 0..<count {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17
        out[i] = UInt8(truncatingIfNeeded: x >> 24)
    }
    return out
}

/// One ustar header plus content, written by hand so tests can build archives that tar tools
/// refuse to create ("../evil", entries below a symlink).
func rawTarEntry(name: String, type: UInt8 = UInt8(ascii: "0"), content: [UInt8] = [], linkName: String = "", mode: Int = 0o644) -> [UInt8] {
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

func rawTarEnd() -> [UInt8] { [UInt8](repeating: 0, count: 1024) }

/// The headers of an uncompressed tar, for checks on the exact bytes libarchive wrote.
struct TarHeader {
    var name: String
    var typeflag: UInt8
    var size: Int
    var mtimeField: String
    var uname: [UInt8]
    var gname: [UInt8]
    var magic: [UInt8]
    var paxRecords: String?
}

func parseTar(_ bytes: [UInt8]) -> [TarHeader] {
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
