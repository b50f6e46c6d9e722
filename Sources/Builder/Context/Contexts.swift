import Foundation
import Dockerfile
import Layers

/// The directories and helpers COPY/ADD read from: the main context, named
/// `--build-context` directories, archive extraction and URL downloads (all into scratch).
final class Contexts: @unchecked Sendable {
    let main: BuildContext
    private let request: BuildRequest
    private var namedCache: [String: BuildContext] = [:]
    private let lock = NSLock()
    private var extractions: [String: [LayerEntry]?] = [:]
    /// Bound on what one ADD archive may expand to (a decompression bomb stops here) and on one
    /// ADD download: 8 GiB, or `SLIPWAY_MAX_ARCHIVE_BYTES` when set to a positive number (tests).
    static let maxArchiveBytes: Int64 = ProcessInfo.processInfo.environment["SLIPWAY_MAX_ARCHIVE_BYTES"]
        .flatMap { Int64($0) }.flatMap { $0 > 0 ? $0 : nil } ?? 8 << 30

    init(request: BuildRequest) throws {
        self.request = request
        main = try BuildContext(root: request.contextDirectory, name: "context", ignorePatterns: request.ignorePatterns)
    }

    func named(_ name: String) throws -> BuildContext? {
        guard case .directory(let path)? = request.namedContexts[name] else { return nil }
        lock.lock()
        defer { lock.unlock() }
        if let hit = namedCache[name] { return hit }
        var patterns: [String] = []
        if let text = try? String(contentsOfFile: path + "/.dockerignore", encoding: .utf8) {
            patterns = IgnoreFile.readAll(text)
        }
        let context = try BuildContext(root: path, name: name, ignorePatterns: patterns)
        namedCache[name] = context
        return context
    }

    /// Extracts a local archive for ADD once per build (several platforms share it).
    func extract(_ path: String) throws -> [LayerEntry]? {
        lock.lock()
        if let hit = extractions[path] { lock.unlock(); return hit }
        lock.unlock()
        guard ArchiveExtractor.isArchive(path) else {
            lock.lock(); extractions[path] = .some(nil); lock.unlock()
            return nil
        }
        let scratch = request.scratchDirectory + "/archive-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        let entries: [LayerEntry]
        do {
            entries = try ArchiveExtractor.extract(path, into: scratch, maxBytes: Contexts.maxArchiveBytes)
        } catch {
            throw BuildError("ADD: cannot extract '\(path)': \(error)")
        }
        lock.lock(); extractions[path] = entries; lock.unlock()
        return entries
    }

    private var downloads: [String: CopyRequest.GeneratedFile] = [:]

    /// Downloads an ADD URL into scratch once per build, checking `--checksum` when given.
    func download(_ url: String, checksum: String?) throws -> CopyRequest.GeneratedFile {
        let key = url + "\u{0}" + (checksum ?? "")
        lock.lock()
        if let hit = downloads[key] { lock.unlock(); return hit }
        lock.unlock()
        let file = try downloadUncached(url, checksum: checksum)
        lock.lock()
        downloads[key] = file
        lock.unlock()
        return file
    }

    private func downloadUncached(_ url: String, checksum: String?) throws -> CopyRequest.GeneratedFile {
        let target = request.scratchDirectory + "/download-\(UUID().uuidString)"
        try URLDownloader.download(url, to: target, maxBytes: Contexts.maxArchiveBytes, expected: checksum, transport: request.downloadTransport)
        var name = url
        if let query = name.firstIndex(where: { $0 == "?" || $0 == "#" }) { name = String(name[..<query]) }
        name = ContextPath.basename(name)
        if name.isEmpty || name.contains(":") { name = "__unnamed__" }
        return .init(name: name, source: .path(target), mode: 0o600)
    }
}
