import Foundation

/// The build information the Go linker embeds in every binary since Go 1.18 (what
/// `go version -m` prints): the Go version, the main module and every dependency with its
/// version, replacements, and build settings. Found by streaming the file once: the
/// `.go.buildinfo` section starts with a 16-byte-aligned magic followed, when the strings are
/// inline (flag 2, Go ≥ 1.18), by the version and the module info as varint-prefixed
/// strings, so no ELF section table (which comes last in the file) is needed. Binaries of
/// older Go keep these strings behind pointers and are not read.
struct GoBuildInfo: Equatable, Sendable {
    struct Module: Equatable, Sendable {
        var path: String
        var version: String
        var sum: String?
    }

    var goVersion: String
    var path: String?
    var main: Module?
    var dependencies: [Module] = []
    var settings: [(key: String, value: String)] = []

    static func == (a: GoBuildInfo, b: GoBuildInfo) -> Bool {
        a.goVersion == b.goVersion && a.path == b.path && a.main == b.main && a.dependencies == b.dependencies
            && a.settings.map(\.key) == b.settings.map(\.key) && a.settings.map(\.value) == b.settings.map(\.value)
    }

    /// Parses the bytes from the magic on; nil when they are not a complete, valid header.
    static func parse(_ bytes: [UInt8]) -> GoBuildInfo? {
        guard bytes.count > 32, Array(bytes[0..<14]) == magicBytes else { return nil }
        let pointerSize = bytes[14], flags = bytes[15]
        guard pointerSize == 4 || pointerSize == 8, flags & 2 != 0 else { return nil }
        var position = 32
        guard let versionBytes = readBytes(bytes, &position), let rawModules = readBytes(bytes, &position) else { return nil }
        let version = String(decoding: versionBytes, as: UTF8.self)
        guard version.hasPrefix("go") else { return nil }
        var info = GoBuildInfo(goVersion: version)
        // Bytes, not a String: the sentinels are not UTF-8.
        var modules = rawModules
        // The module info is wrapped in 16-byte sentinels (runtime/debug.modinfo).
        if modules.count >= 33, modules[modules.count - 17] == UInt8(ascii: "\n") {
            modules = Array(modules[16..<(modules.count - 16)])
        } else {
            modules = []
        }
        for line in String(decoding: modules, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard let kind = fields.first else { continue }
            func module() -> Module? {
                guard fields.count >= 3 else { return fields.count == 2 ? Module(path: fields[1], version: "", sum: nil) : nil }
                return Module(path: fields[1], version: fields[2], sum: fields.count > 3 && !fields[3].isEmpty ? fields[3] : nil)
            }
            switch kind {
            case "path": if fields.count >= 2 { info.path = fields[1] }
            case "mod": info.main = module()
            case "dep": if let dep = module() { info.dependencies.append(dep) }
            case "=>":
                // A replacement of the line before it: the module that is really linked in. A
                // local directory (`=> ../dep`) has no version of its own: the entry keeps the
                // required module's path and version, as `go version -m` lists it on the dep line.
                if let replacement = module(), !replacement.path.hasPrefix("."), !replacement.path.hasPrefix("/") {
                    if !info.dependencies.isEmpty { info.dependencies[info.dependencies.count - 1] = replacement } else { info.main = replacement }
                }
            case "build":
                if fields.count >= 2, let eq = fields[1].firstIndex(of: "=") {
                    info.settings.append((String(fields[1][..<eq]), String(fields[1][fields[1].index(after: eq)...])))
                }
            default: break
            }
        }
        return info
    }

    static let magicBytes: [UInt8] = [0xff] + Array(" Go buildinf:".utf8)

    private static func readBytes(_ bytes: [UInt8], _ position: inout Int) -> [UInt8]? {
        var length: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < bytes.count, shift < 64 else { return nil }
            let byte = bytes[position]
            position += 1
            length |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { break }
            shift += 7
        }
        guard length <= UInt64(bytes.count - position) else { return nil }
        let end = position + Int(length)
        defer { position = end }
        return Array(bytes[position..<end])
    }
}

/// Finds Go build info in a file fed chunk by chunk (any chunk sizes): only ELF files are
/// searched, and only at 16-byte-aligned offsets (where the linker puts the section), which
/// is one byte compare per 16 bytes. A candidate is captured (at most `captureLimit` bytes,
/// across chunks) and kept when it parses; a false one (the magic as a string constant in a
/// program that reads build info, a bad header) is dropped and the search goes on.
final class GoBuildInfoScanner {
    static let captureLimit = 1 << 20
    private var offset = 0
    private var prefix: [UInt8] = []
    private var isELF: Bool?
    private var captures: [[UInt8]] = []
    private(set) var found: GoBuildInfo?

    func feed(_ chunk: UnsafeRawBufferPointer) {
        defer { offset += chunk.count }
        guard found == nil, isELF != false, let base = chunk.baseAddress, chunk.count > 0 else { return }
        if isELF == nil {
            prefix += chunk.prefix(4 - prefix.count)
            if prefix.count == 4 { isELF = prefix == [0x7f, 0x45, 0x4c, 0x46] }
            if isELF != true { return }
        }
        // Continue the open captures, trying each once it has grown.
        var still: [[UInt8]] = []
        for var capture in captures {
            capture += chunk.prefix(Self.captureLimit - capture.count)
            if let info = GoBuildInfo.parse(capture) { found = info; captures = []; return }
            if capture.count < Self.captureLimit, Self.mayBeBuildInfo(capture) { still.append(capture) }
        }
        captures = still
        let magic = GoBuildInfo.magicBytes
        var position = (16 - offset % 16) % 16
        while position < chunk.count, captures.count < 4 {
            defer { position += 16 }
            guard base.load(fromByteOffset: position, as: UInt8.self) == 0xff else { continue }
            let available = min(magic.count, chunk.count - position)
            guard memcmp(base + position, magic, available) == 0 else { continue }
            let capture = Array(chunk[position..<min(chunk.count, position + Self.captureLimit)])
            if let info = GoBuildInfo.parse(capture) { found = info; captures = []; return }
            if Self.mayBeBuildInfo(capture) { captures.append(capture) }
        }
    }

    /// Still possibly the start of build info: the magic (as far as it goes) and a valid header.
    private static func mayBeBuildInfo(_ capture: [UInt8]) -> Bool {
        let magic = GoBuildInfo.magicBytes
        guard capture.prefix(magic.count).elementsEqual(magic.prefix(min(magic.count, capture.count))) else { return false }
        guard capture.count >= 16 else { return true }
        return (capture[14] == 4 || capture[14] == 8) && capture[15] & 2 != 0
    }
}
