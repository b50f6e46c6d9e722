import ArgumentParser
import Foundation
import Publish

/// `slipway cache`: the local cache of pulled and built blobs.
struct CacheCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache",
        abstract: "Manage the local cache of base-image and build blobs.",
        subcommands: [CachePruneCommand.self, CacheUsageCommand.self]
    )
}

/// `--cache-dir` as `cache`, `copy` and `inspect` spell it (`build` words its help its own way).
struct CacheOptions: ParsableArguments {
    @Option(name: .customLong("cache-dir"), help: "The cache directory (default: $XDG_CACHE_HOME/slipway or ~/.cache/slipway).")
    var cacheDir: String?
}

/// `slipway cache prune`: least recently used blobs first.
struct CachePruneCommand: AsyncParsableCommand {
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
        if let keepStorage { _ = try validating { try CacheLocation.parseSize(keepStorage) } }
    }

    func run() async throws {
        try await Console.run(mode: "plain") { _ in
            let location = CacheLocation(cache.cacheDir)
            let policy: CacheLocation.PrunePolicy = all ? .all : try keepStorage.map { .keepBytes(try CacheLocation.parseSize($0)) } ?? .unusedFor(30 * 24 * 3600)
            guard let result = try location.prune(policy) else {
                print("cache \(location.path) is empty")
                return
            }
            print("removed \(result.removedBlobs) blobs (\(Console.bytes(result.freedBytes))), kept \(result.keptBlobs) blobs (\(Console.bytes(result.keptBytes)))"
                  + (result.removedIngestFiles > 0 ? ", \(result.removedIngestFiles) abandoned partial downloads removed" : ""))
        }
    }
}

/// `slipway cache du`: what the cache holds.
struct CacheUsageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "du", abstract: "Show the cache's size.")

    @OptionGroup var cache: CacheOptions

    func run() async throws {
        try await Console.run(mode: "plain") { _ in
            let location = CacheLocation(cache.cacheDir)
            let blobs = location.existingStore().storedBlobs()
            let total = blobs.reduce(Int64(0)) { $0 + $1.size }
            print("\(location.path): \(blobs.count) blobs, \(Console.bytes(total))")
        }
    }
}
