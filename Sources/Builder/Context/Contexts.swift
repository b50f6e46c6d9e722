import Foundation
import HTTP
import Dockerfile
import Layers
import OCI

/// The directories and helpers COPY/ADD read from: the main context, named
/// `--build-context` directories, archive extraction and URL downloads (all into scratch).
final class Contexts: Sendable {
    let main: BuildContext
    private let request: BuildRequest
    /// What was opened, extracted or downloaded once and is shared by every platform.
    private struct Caches {
        var named: [String: BuildContext] = [:]
        var extractions: [String: [LayerEntry]?] = [:]
        var downloads: [String: CopyRequest.GeneratedFile] = [:]
        /// What ADD extractions may still keep in memory (small contents), for the whole build.
        var memoryBudget = Contexts.archiveMemoryBudget
    }
    private let caches = Locked(Caches())
    /// Bound on what one ADD archive may expand to (a decompression bomb stops here) and on one
    /// ADD download: 8 GiB, or `SLIPWAY_MAX_ARCHIVE_BYTES` when set to a positive number (tests).
    static let maxArchiveBytes: Int64 = ProcessInfo.processInfo.environment["SLIPWAY_MAX_ARCHIVE_BYTES"]
        .flatMap { Int64($0) }.flatMap { $0 > 0 ? $0 : nil } ?? 8 << 30
    /// Small contents of ADD archives kept in memory instead of one scratch file each (see
    /// `ArchiveExtractor.extract`), shared by every ADD of the build.
    static let archiveMemoryBudget: Int64 = 32 << 20

    init(request: BuildRequest) throws {
        self.request = request
        main = try BuildContext(root: request.contextDirectory, name: BuildContext.mainName, ignorePatterns: request.ignorePatterns)
    }

    func named(_ name: String) throws -> BuildContext? {
        guard case .directory(let path)? = request.namedContexts[name] else { return nil }
        return try caches.withLock { caches in
            if let hit = caches.named[name] { return hit }
            var patterns: [String] = []
            if let text = try? String(contentsOfFile: path + "/.dockerignore", encoding: .utf8) {
                patterns = IgnoreFile.readAll(text)
            }
            let context = try BuildContext(root: path, name: name, ignorePatterns: patterns)
            caches.named[name] = context
            return context
        }
    }

    /// Extracts a local archive for ADD once per build (several platforms share it).
    func extract(_ path: String) throws -> [LayerEntry]? {
        if let hit = caches.withLock({ $0.extractions[path] }) { return hit }
        guard ArchiveExtractor.isArchive(path) else {
            caches.withLock { $0.extractions[path] = .some(nil) }
            return nil
        }
        let scratch = request.scratchDirectory + "/archive-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        let entries: [LayerEntry]
        let budget = caches.withLock { $0.memoryBudget }
        do {
            entries = try ArchiveExtractor.extract(path, into: scratch, maxBytes: Contexts.maxArchiveBytes, impliedParents: false, memoryBudget: budget)
        } catch {
            throw BuildError("ADD: cannot extract '\(path)': \(error)")
        }
        var used: Int64 = 0
        for entry in entries {
            if case .regularFile(.bytes(let bytes)) = entry.kind { used += Int64(bytes.count) + ArchiveExtractor.inMemoryEntryOverhead }
        }
        caches.withLock { caches in
            caches.extractions[path] = entries
            caches.memoryBudget -= used
        }
        return entries
    }

    /// Forgets the extracted archives' entry lists once planning is done (their files stay in
    /// scratch for the layers that use them): the layer jobs hold what is still needed.
    func releaseExtractions() {
        caches.withLock { $0.extractions = [:] }
    }

    /// Downloads an ADD URL into scratch once per build, checking `--checksum` when given.
    func download(_ url: String, checksum: String?) throws -> CopyRequest.GeneratedFile {
        let key = url + "\u{0}" + (checksum ?? "")
        if let hit = caches.withLock({ $0.downloads[key] }) { return hit }
        let file = try downloadUncached(url, checksum: checksum)
        caches.withLock { $0.downloads[key] = file }
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
