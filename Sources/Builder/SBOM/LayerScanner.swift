import Dispatch
import Foundation
import HTTP
import Layers

/// What the SBOM scanner found in one layer: its package records by the file they came
/// from, the os-release files, the whiteouts (so upper layers can hide lower findings) and,
/// for slipway's own layers, every regular file with its digests.
struct LayerFindings: Sendable {
    struct File: Sendable, Equatable {
        var path: String
        var sha1: String
        var sha256: String
        var size: Int64
    }

    var files: [File] = []
    var packages: [String: [FoundPackage]] = [:]
    var osReleases: [String: OSRelease] = [:]
    /// `.wh.NAME` entries: NAME and everything below it are gone from lower layers.
    var removed: [String] = []
    /// `.wh..wh..opq` entries: the directory's lower contents are gone.
    var opaqueDirectories: [String] = []
    /// Package database files over `PackageFileKind.captureLimit`, left unread (reported).
    var oversized: [String] = []
}

/// The files whose content the scanner keeps (all small text) to parse.
enum PackageFileKind: Equatable {
    case dpkgStatus, dpkgStatusD, apkInstalled, osRelease, pythonMetadata, nodePackage

    static let captureLimit: Int64 = 32 << 20

    static func of(_ path: String) -> PackageFileKind? {
        switch path {
        case "var/lib/dpkg/status": return .dpkgStatus
        case "lib/apk/db/installed": return .apkInstalled
        case "etc/os-release", "usr/lib/os-release": return .osRelease
        default: break
        }
        if path.hasPrefix("var/lib/dpkg/status.d/") {
            let name = path.dropFirst("var/lib/dpkg/status.d/".count)
            return name.contains("/") || name.hasSuffix(".md5sums") || name.hasPrefix(".") ? nil : .dpkgStatusD
        }
        let parts = path.split(separator: "/")
        guard let last = parts.last, parts.count >= 2 else { return nil }
        let parent = parts[parts.count - 2]
        if (last == "METADATA" && parent.hasSuffix(".dist-info")) || (last == "PKG-INFO" && parent.hasSuffix(".egg-info")) {
            return .pythonMetadata
        }
        if last == "package.json" {
            // node_modules/NAME/package.json or node_modules/@SCOPE/NAME/package.json only.
            if parts.count >= 3, parts[parts.count - 3] == "node_modules", !parent.hasPrefix("@") { return .nodePackage }
            if parts.count >= 4, parts[parts.count - 4] == "node_modules", parts[parts.count - 3].hasPrefix("@") { return .nodePackage }
        }
        return nil
    }
}

/// Scans one layer, entry by entry, reading each file's content once in a stream: package
/// database files are kept (bounded) and parsed, ELF files are searched for Go build info,
/// and with `recordFiles` every regular file is hashed (SHA-1 and SHA-256).
///
/// A scanner is used by one thread at a time (`@unchecked Sendable`: a worker hands its scanner
/// over only when it has finished with it).
final class LayerScanner: @unchecked Sendable {
    private let recordFiles: Bool
    /// One read buffer per scanner, reused for every file.
    private let readBuffer = UnsafeMutableRawPointer.allocate(byteCount: LayerScanner.readSize, alignment: 64)
    private var findings = LayerFindings()
    private var digestsByPath: [String: LayerFindings.File] = [:]
    private var hardlinks: [(path: String, target: String)] = []

    init(recordFiles: Bool) {
        self.recordFiles = recordFiles
    }

    deinit { readBuffer.deallocate() }

    /// A base layer, read from its blob.
    static func scan(blob path: String) throws -> LayerFindings {
        let scanner = LayerScanner(recordFiles: false)
        try LayerTarReader.forEachEntry(in: path) { entry, read in
            switch entry.kind {
            case .regularFile: try scanner.file(entry.path, size: entry.size, read: read)
            case .hardlink(let target): scanner.hardlink(entry.path, target: target)
            case .directory, .symlink, .other: scanner.other(entry.path)
            }
        }
        return scanner.finish()
    }

    /// One of slipway's own layers, read from the files it was written from (the layer was
    /// written from exactly these sources a moment ago; reading them back costs no
    /// decompression, which would be most of the scan).
    ///
    /// The files are spread over `workers` threads (hashing is most of the cost, and this runs
    /// after the layers are written, when the cores are free), then the findings are merged.
    static func scan(entries: [LayerEntry], workers: Int = 1) throws -> LayerFindings {
        let count = max(1, min(workers, entries.count / 64 + 1))
        let next = Locked(0)
        let parts = Locked<[Result<LayerScanner, any Error>]>([])
        DispatchQueue.concurrentPerform(iterations: count) { _ in
            let scanner = LayerScanner(recordFiles: true)
            let result = Result<LayerScanner, any Error> {
                while true {
                    let index = next.withLock { value -> Int in defer { value += 1 }; return value }
                    guard index < entries.count else { return scanner }
                    try scanner.entry(entries[index])
                }
            }
            parts.withLock { $0.append(result) }
        }
        let scanners = try parts.withLock { $0 }.map { try $0.get() }
        guard let first = scanners.first else { return LayerFindings() }
        for other in scanners.dropFirst() { first.absorb(other) }
        return first.finish()
    }

    private func absorb(_ other: LayerScanner) {
        findings.files += other.findings.files
        findings.packages.merge(other.findings.packages) { mine, _ in mine }
        findings.osReleases.merge(other.findings.osReleases) { mine, _ in mine }
        findings.removed += other.findings.removed
        findings.opaqueDirectories += other.findings.opaqueDirectories
        findings.oversized += other.findings.oversized
        digestsByPath.merge(other.digestsByPath) { mine, _ in mine }
        hardlinks += other.hardlinks
    }

    private func entry(_ entry: LayerEntry) throws {
        let scanner = self
        do {
            switch entry.kind {
            case .regularFile(.bytes(let bytes)):
                try scanner.file(entry.path, size: Int64(bytes.count), randomAccess: { offset, count in
                    offset >= 0 && count >= 0 && offset + count <= bytes.count ? Array(bytes[offset..<(offset + count)]) : nil
                }) { consume in try bytes.withUnsafeBytes { try consume($0) } }
            case .regularFile(.path(let source)):
                try scanner.file(entry.path, size: -1, randomAccess: { offset, count in Self.pread(source, offset: offset, count: count) }) { consume in
                    try self.stream(source, into: consume)
                }
            case .hardlink(let target):
                scanner.hardlink(entry.path, target: target)
            case .directory, .symlink, .special:
                scanner.other(entry.path)
            }
        }
    }

    private static let readSize = 1 << 20

    private func stream(_ path: String, into consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        let fd = RawName.withCString(path) { open($0, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { throw BuildError("SBOM: cannot read \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let size = Self.readSize
        let buffer = readBuffer
        while true {
            let n = read(fd, buffer, size)
            if n < 0 {
                if errno == EINTR { continue }
                throw BuildError("SBOM: cannot read \(path): \(String(cString: strerror(errno)))")
            }
            if n == 0 { return }
            try consume(UnsafeRawBufferPointer(start: buffer, count: n))
        }
    }

    /// `count` bytes at `offset` of a host file, or nil.
    private static func pread(_ path: String, offset: Int, count: Int) -> [UInt8]? {
        let fd = RawName.withCString(path) { open($0, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = bytes.withUnsafeMutableBytes { Foundation.pread(fd, $0.baseAddress! + done, count - done, off_t(offset + done)) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { return nil }
            done += n
        }
        return bytes
    }

    private func other(_ path: String) {
        let name = ContextPath.basename(path)
        guard name.hasPrefix(".wh.") else { return }
        let directory = ContextPath.dirname(path)
        if name == ".wh..wh..opq" {
            findings.opaqueDirectories.append(directory)
        } else {
            let hidden = String(name.dropFirst(4))
            findings.removed.append(directory.isEmpty ? hidden : directory + "/" + hidden)
        }
    }

    private func hardlink(_ path: String, target: String) {
        if recordFiles { hardlinks.append((path, target)) }
    }

    /// `randomAccess` reads the file at an offset (own layers' sources); without it, ELF files
    /// up to `CargoAuditable.bufferLimit` are kept in memory while streamed, for the section table.
    private func file(_ path: String, size: Int64, randomAccess: ((Int, Int) -> [UInt8]?)? = nil,
                      read: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        if ContextPath.basename(path).hasPrefix(".wh.") { other(path); return }
        let kind = PackageFileKind.of(path)
        if kind != nil, size > PackageFileKind.captureLimit { findings.oversized.append(path) }
        let capturing = kind != nil && size <= PackageFileKind.captureLimit
        // Go build info is at least 32 bytes after a 4-byte ELF header: smaller files cannot hold it.
        let searching = size < 0 || size >= 64
        guard recordFiles || capturing || searching else { return }
        let digests = recordFiles ? FileDigests() : nil
        let go = searching ? GoBuildInfoScanner() : nil
        var captured: [UInt8] = []
        var total: Int64 = 0
        var head: [UInt8] = []
        var elf: [UInt8]?
        let buffering = randomAccess == nil && size >= 64 && size <= Int64(CargoAuditable.bufferLimit)
        try read { chunk in
            if head.count < 4 {
                head += chunk.prefix(4 - head.count)
                if head.count == 4, head == [0x7f, 0x45, 0x4c, 0x46], buffering { elf = []; elf?.reserveCapacity(Int(size)) }
            }
            total += Int64(chunk.count)
            digests?.update(chunk)
            go?.feed(chunk)
            if elf != nil { elf? += chunk }
            if capturing, Int64(captured.count) + Int64(chunk.count) <= PackageFileKind.captureLimit { captured += chunk }
        }
        if head == [0x7f, 0x45, 0x4c, 0x46], go?.found == nil {
            // Rust binaries built with `cargo auditable` (Go binaries have no such section).
            var rust: [FoundPackage] = []
            if let randomAccess {
                rust = CargoAuditable.packages(size: Int(total), location: path, read: randomAccess)
            } else if let elf {
                rust = CargoAuditable.packages(size: elf.count, location: path) { offset, count in
                    offset >= 0 && count >= 0 && offset + count <= elf.count ? Array(elf[offset..<(offset + count)]) : nil
                }
            }
            if !rust.isEmpty { findings.packages[path] = rust }
        }
        if let digests {
            let (sha1, sha256) = digests.finish()
            let record = LayerFindings.File(path: path, sha1: sha1, sha256: sha256, size: total)
            findings.files.append(record)
            digestsByPath[path] = record
        }
        if let info = go?.found { findings.packages[path] = PackageDatabases.go(info, location: path) }
        guard let kind, capturing, total <= PackageFileKind.captureLimit else { return }
        let text = String(decoding: captured, as: UTF8.self)
        switch kind {
        case .dpkgStatus: findings.packages[path] = PackageDatabases.dpkg(text, location: path, requireInstalled: true)
        case .dpkgStatusD: findings.packages[path] = PackageDatabases.dpkg(text, location: path, requireInstalled: false)
        case .apkInstalled: findings.packages[path] = PackageDatabases.apk(text, location: path)
        case .osRelease: if let release = OSRelease.parse(text) { findings.osReleases[path] = release }
        case .pythonMetadata: if let found = PackageDatabases.python(text, location: path) { findings.packages[path] = [found] }
        case .nodePackage: if let found = PackageDatabases.node(captured, location: path) { findings.packages[path] = [found] }
        }
    }

    private func finish() -> LayerFindings {
        for (path, target) in hardlinks {
            if let record = digestsByPath[target] {
                findings.files.append(LayerFindings.File(path: path, sha1: record.sha1, sha256: record.sha256, size: record.size))
            }
        }
        return findings
    }
}
