import ArgumentParser
import Foundation
import OCI
import Registry

/// The cache directory every command shares: `--cache-dir`, else `$XDG_CACHE_HOME/slipway`,
/// else `~/.cache/slipway`. Blobs live in `<cache>/store`, tag resolutions in
/// `<cache>/resolutions.json`.
enum CacheLocation {
    static func directory(_ option: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let option, !option.isEmpty { return URL(fileURLWithPath: option) }
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty { return URL(fileURLWithPath: xdg).appendingPathComponent("slipway") }
        return URL(fileURLWithPath: NSHomeDirectory()).appendingPathComponent(".cache/slipway")
    }

    static func store(_ directory: URL) throws -> ContentStore {
        try ContentStore(root: directory.appendingPathComponent("store"))
    }

    static func resolutions(_ directory: URL) -> TagResolutionCache {
        TagResolutionCache(file: directory.appendingPathComponent("resolutions.json"))
    }

    /// `10GiB`, `500MB`, `1g`, `2048` (bytes): binary units, as docker's `--keep-storage`.
    static func parseSize(_ text: String) throws -> Int64 {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let digits = trimmed.prefix { $0.isNumber || $0 == "." }
        let unit = trimmed.dropFirst(digits.count).trimmingCharacters(in: .whitespaces).lowercased()
        let k = 1024.0
        let factors: [String: Double] = ["": 1, "b": 1, "k": k, "kb": k, "kib": k, "m": k * k, "mb": k * k, "mib": k * k,
                                         "g": k * k * k, "gb": k * k * k, "gib": k * k * k, "t": k * k * k * k, "tb": k * k * k * k, "tib": k * k * k * k]
        guard let value = Double(digits), value >= 0, let factor = factors[unit] else {
            throw ValidationError("'\(text)' is not a size: use e.g. 10GiB, 500MB or a number of bytes")
        }
        return Int64(value * factor)
    }
}

/// `slipway cache`: the local cache of pulled and built blobs.
struct CacheCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache",
        abstract: "Manage the local cache of base-image and build blobs.",
        subcommands: [CachePruneCommand.self, CacheUsageCommand.self]
    )
}

struct CacheOptions: ParsableArguments {
    @Option(name: .customLong("cache-dir"), help: "The cache directory (default: $XDG_CACHE_HOME/slipway or ~/.cache/slipway).")
    var cacheDir: String?
}

/// `slipway cache prune`: least recently used blobs first.
struct CachePruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Remove cached blobs, least recently used first.",
        discussion: """
        Without options, removes blobs not used for 30 days. Blobs being written by a running
        slipway live in the cache's ingest directory and are never removed (only ingest files
        untouched for a day, left by killed processes). A blob removed while a build still needs
        it is simply downloaded again.

        Examples:
          slipway cache prune --keep-storage 10GiB
          slipway cache prune --all
        """
    )

    @OptionGroup var cache: CacheOptions

    @Flag(help: "Remove every cached blob and tag resolution.")
    var all = false

    @Option(name: .customLong("keep-storage"), help: "Keep the most recently used blobs up to this size (e.g. 10GiB, 500MB).")
    var keepStorage: String?

    func validate() throws {
        if all && keepStorage != nil { throw ValidationError("--all and --keep-storage exclude each other") }
        if let keepStorage { _ = try CacheLocation.parseSize(keepStorage) }
    }

    func run() throws {
        let directory = CacheLocation.directory(cache.cacheDir)
        guard FileManager.default.fileExists(atPath: directory.appendingPathComponent("store").path) else {
            print("cache \(directory.path) is empty")
            return
        }
        let store = try CacheLocation.store(directory)
        let result: ContentStore.PruneResult
        if all {
            result = store.prune(keepBytes: 0)
            CacheLocation.resolutions(directory).clear()
        } else if let keepStorage {
            result = store.prune(keepBytes: try CacheLocation.parseSize(keepStorage))
        } else {
            result = store.prune(keepBytes: 0, usedBefore: Date().addingTimeInterval(-30 * 24 * 3600))
        }
        print("removed \(result.removedBlobs) blobs (\(Console.bytes(result.freedBytes))), kept \(result.keptBlobs) blobs (\(Console.bytes(result.keptBytes)))"
              + (result.removedIngestFiles > 0 ? ", \(result.removedIngestFiles) abandoned partial downloads removed" : ""))
    }
}

/// `slipway cache du`: what the cache holds.
struct CacheUsageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "du", abstract: "Show the cache's size.")

    @OptionGroup var cache: CacheOptions

    func run() throws {
        let directory = CacheLocation.directory(cache.cacheDir)
        let blobs = ContentStore(readingLayoutAt: directory.appendingPathComponent("store")).storedBlobs()
        let total = blobs.reduce(Int64(0)) { $0 + $1.size }
        print("\(directory.path): \(blobs.count) blobs, \(Console.bytes(total))")
    }
}
