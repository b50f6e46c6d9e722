import ArgumentParser
import Builder
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

/// `--keep-storage` of the commands that add blobs to the cache (`build`, `copy`).
struct CacheBoundOptions: ParsableArguments {
    @Option(name: .customLong("keep-storage"),
            help: "Keep the cache under this size after the run, removing least recently used blobs (default: $SLIPWAY_CACHE_KEEP_STORAGE, else 10% of its file system up to 20GiB; 0: no bound).")
    var keepStorage: String?

    func validate() throws { _ = try validating { try CacheSizeBound.resolve(keepStorage) } }

    func bound() throws -> CacheSizeBound { try CacheSizeBound.resolve(keepStorage) }
}

/// `slipway cache prune`: least recently used blobs first.
struct CachePruneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Remove cached blobs, least recently used first.",
        usage: "slipway cache prune [--all | --keep-storage <size>] [--cache-dir <dir>]",
        discussion: """
        Without options, removes blobs and RUN cache mounts not used for 30 days
        (a cache mount in use is kept), then what referred to removed blobs
        (layer cache keys, tag resolutions), file digests unused for 30 days and
        expired ECR logins. --keep-storage bounds the mounts, and everything else
        `cache du` shows, each. Partial files left in
        the cache's ingest directory by interrupted or killed runs are removed too:
        all of them when no other slipway is running, else those untouched for an
        hour (a running writer's file keeps changing). A blob removed while a build
        still needs it is simply downloaded again.

        Builds and copies keep the cache under a bound by themselves (see their
        --keep-storage).

        Examples:
          slipway cache prune --keep-storage 10GiB
          slipway cache prune --all
        """
    )

    @OptionGroup var cache: CacheOptions

    @Flag(help: "Empty every area: blobs, RUN cache mounts, layer cache, tag resolutions, ECR logins.")
    var all = false

    @Option(name: .customLong("keep-storage"), help: "Keep the cache (every area `cache du` shows) under this size, removing least recently used blobs (e.g. 10GiB, 500MB).")
    var keepStorage: String?

    func validate() throws {
        if all && keepStorage != nil { throw ValidationError("--all and --keep-storage exclude each other") }
        if let keepStorage { _ = try validating { try CacheLocation.parseSize(keepStorage) } }
    }

    func run() async throws {
        // RUN cache mounts made by a build with subordinate IDs hold files of those IDs: only
        // root of the same user namespace may remove them.
        RootlessNamespace.reexecuteIfUseful()
        try await Console.run(mode: "plain") { _ in
            let location = CacheLocation(cache.cacheDir)
            let policy: CacheLocation.PrunePolicy = all ? .all : try keepStorage.map { .keepBytes(try CacheLocation.parseSize($0)) } ?? .unusedFor(30 * 24 * 3600)
            let mounts = location.pruneRunCache(policy)
            if mounts.removed + mounts.kept > 0 {
                print("removed \(mounts.removed) RUN cache mount\(mounts.removed == 1 ? "" : "s") (\(Console.bytes(mounts.freedBytes))), kept \(mounts.kept) (\(Console.bytes(mounts.keptBytes)))")
            }
            guard let report = try location.prune(policy) else {
                if mounts.removed + mounts.kept == 0 { print("cache \(location.path) is empty") }
                return
            }
            let result = report.store
            var others: [String] = []
            if result.removedIngestFiles > 0 {
                others.append("\(result.removedIngestFiles) partial file\(result.removedIngestFiles == 1 ? "" : "s") of interrupted runs (\(Console.bytes(result.freedIngestBytes)))")
            }
            for (count, what) in [(report.removedLayerKeys, "layer cache key"), (report.removedResolutions, "tag resolution"),
                                  (report.removedECRLogins, all ? "ECR login" : "expired ECR login")] where count > 0 {
                others.append("\(count) \(what)\(count == 1 ? "" : "s")")
            }
            if !others.isEmpty, report.freedBesideBlobs > 0 { others[others.count - 1] += " (\(Console.bytes(report.freedBesideBlobs)) beside the blobs)" }
            print("removed \(result.removedBlobs) blobs (\(Console.bytes(result.freedBytes))), kept \(result.keptBlobs) blobs (\(Console.bytes(result.keptBytes)))"
                  + (others.isEmpty ? "" : ", removed " + others.joined(separator: ", ")))
            print("the cache now holds \(Console.bytes(CacheUsage.measure(location).totalBytes)) (slipway cache du: by area)")
        }
    }
}

/// `slipway cache du`: what the cache holds.
struct CacheUsageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "du", abstract: "Show the cache's size, area by area.",
        discussion: """
        Blobs (base-image and built layers, configs, manifests), partial files of
        running or interrupted runs, RUN cache mounts, the layer cache's keys and
        file-hash memo, tag resolutions (for --pull=false), ECR logins and
        anything else in the directory, each with its size; the first line is
        the total.
        """)

    @OptionGroup var cache: CacheOptions

    func run() async throws {
        // Cache mounts of subordinate IDs may be readable only inside their namespace.
        RootlessNamespace.reexecuteIfUseful()
        try await Console.run(mode: "plain") { _ in
            let location = CacheLocation(cache.cacheDir)
            let usage = CacheUsage.measure(location)
            print("\(location.path): \(Console.bytes(usage.totalBytes))")
            for area in usage.areas where area.kind != .other || area.count > 0 {
                let label = area.label
                let name = label.path.isEmpty ? label.name : "\(label.name) (\(label.path))"
                let count = area.countText
                print("  " + name.padding(toLength: max(38, name.count), withPad: " ", startingAt: 0)
                      + count.padding(toLength: max(16, count.count), withPad: " ", startingAt: 0) + Console.bytes(area.bytes))
            }
        }
    }
}
