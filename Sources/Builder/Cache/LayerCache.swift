import Foundation
import HTTP
import Layers
import OCI

/// One build's use of the layer cache. Before layers are written, each layer's key is
/// computed (file contents from the memo, else hashed) and looked up: in the local index
/// (blob re-verified in the store), then in the `--cache-from` sources (blob fetched verified,
/// or confirmed in the registry). A hit reuses the blob — no tar, no compression — and is
/// byte-identical to writing it, because the key covers everything the bytes depend on. A miss
/// is written as before, its files hashed on the way, and recorded under its key.
final class LayerCache: Sendable {
    /// A reused layer and where it came from (for progress).
    struct Hit: Sendable {
        var blob: LayerBlob
        var source: String
    }

    private struct State {
        var entries: [Int: LayerCacheEntry] = [:]
        var remoteSources: [Digest: String] = [:]
        var warnings: [String] = []
    }

    let settings: LayerCacheSettings
    let options: LayerOptions
    private let index: LocalLayerIndex
    private let memo: FileHashMemo
    private let state = Locked(State())

    init(settings: LayerCacheSettings, options: LayerOptions) {
        self.settings = settings
        self.options = options
        index = LocalLayerIndex(layersDirectory: settings.directory)
        memo = FileHashMemo(directory: settings.directory)
    }

    /// Warnings for the build result (a `--cache-from` that could not be read).
    var warnings: [String] { state.withLock { $0.warnings } }

    /// Blobs reused from a registry without being downloaded: where a push finds them.
    var remoteSources: [Digest: String] { state.withLock { $0.remoteSources } }

    /// The entry of every layer of these jobs whose key is known, in job order.
    func entries(for jobs: [Int]) -> [LayerCacheEntry] {
        let known = state.withLock { $0.entries }
        var seen = Set<Digest>()
        return Array(Set(jobs)).sorted().compactMap { known[$0] }.filter { seen.insert($0.key).inserted }
    }

    /// `--cache-to type=inline`: the annotation each layer descriptor carries.
    func inlineAnnotations() -> [Int: [String: String]] {
        guard settings.inlineKeys else { return [:] }
        return state.withLock { $0.entries }.mapValues { [LayerCacheAnnotation.key: $0.key.description] }
    }

    /// Finds the jobs whose blob can be reused. Nothing is hashed when no entry could match
    /// (empty local index, nothing imported): a cold build reads each file once, while writing.
    func lookUp(_ jobs: [(job: Int, entries: [LayerEntry])], store: ContentStore, needBytes: Bool,
                concurrency: Int) async -> [Int: Hit] {
        guard settings.reuse, !jobs.isEmpty else { return [:] }
        var imported: [Digest: (entry: LayerCacheEntry, source: any LayerCacheSource)] = [:]
        for source in settings.sources {
            do {
                for entry in try await source.loadEntries() where imported[entry.key] == nil && entry.mediaType == options.compression.mediaType {
                    imported[entry.key] = (entry, source)
                }
            } catch {
                state.withLock { $0.warnings.append("--cache-from \(source.description): \(error); building without it") }
            }
        }
        if imported.isEmpty && index.isEmpty { return [:] }

        let found = localHits(jobs, store: store, concurrency: concurrency)
        var hits: [Int: Hit] = [:]
        var candidates: [(job: Int, entry: LayerCacheEntry, source: any LayerCacheSource)] = []
        for (job, result) in found.sorted(by: { $0.key < $1.key }) {
            if let hit = result.hit { hits[job] = hit; continue }
            if let (entry, source) = imported[result.key] { candidates.append((job, entry, source)) }
        }
        // Imported hits: a fetch or a HEAD each, several at a time (registries are latency-bound).
        let provisions = await withTaskGroup(of: (Int, LayerCacheProvision).self) { group in
            var pending = candidates[...]
            var results: [Int: LayerCacheProvision] = [:]
            func startNext() {
                guard let (job, entry, source) = pending.popFirst() else { return }
                group.addTask { [state] in
                    do { return (job, try await source.obtain(entry, into: store, needBytes: needBytes)) } catch {
                        state.withLock { $0.warnings.append("--cache-from \(source.description): layer \(entry.digest.short): \(error); writing it instead") }
                        return (job, .missing)
                    }
                }
            }
            for _ in 0..<8 { startNext() }
            while let (job, provision) = await group.next() {
                results[job] = provision
                startNext()
            }
            return results
        }
        for (job, entry, source) in candidates {
            switch provisions[job] ?? .missing {
            case .inStore:
                store.markUsed(entry.digest)
                index.record(entry)
                if let mount = source.mountSource { state.withLock { $0.remoteSources[entry.digest] = mount } }
            case .remote(let reference):
                state.withLock { $0.remoteSources[entry.digest] = reference }
            case .missing:
                continue
            }
            hits[job] = Hit(blob: entry.blob, source: source.description)
            state.withLock { $0.entries[job] = entry }
        }
        return hits
    }

    /// Keys and local hits: hashing and verifying are blocking, several jobs at a time.
    private func localHits(_ jobs: [(job: Int, entries: [LayerEntry])], store: ContentStore,
                           concurrency: Int) -> [Int: (key: Digest, hit: Hit?)] {
        let found = Locked<[Int: (key: Digest, hit: Hit?)]>([:])
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = max(1, concurrency)
        for (job, entries) in jobs {
            queue.addOperation { [self] in
                // A file that cannot be read now fails the build when the layer is written.
                guard let key = try? key(of: entries, contentDigest: { try memo.digest(ofFile: $0) }) else { return }
                var hit: Hit?
                if let entry = index.entry(key), entry.mediaType == options.compression.mediaType {
                    if store.containsVerified(entry.digest) {
                        store.markUsed(entry.digest)
                        hit = Hit(blob: entry.blob, source: "local cache")
                        state.withLock { $0.entries[job] = entry }
                    } else {
                        index.forget(key)
                    }
                }
                found.withLock { $0[job] = (key, hit) }
            }
        }
        queue.waitUntilAllOperationsAreFinished()
        return found.withLock { $0 }
    }

    /// A recorder for a layer about to be written: it keys the layer from the entries as the
    /// writer streams them (content digests taken on the way, so files are read once) and
    /// remembers each file's digest in the memo.
    func recorder() -> (recorder: FileContentRecorder, key: LayerCacheKey.Incremental) {
        let key = LayerCacheKey.Incremental(options: options)
        let recorder = FileContentRecorder { [memo] entry, identity, digest in
            key.add(entry, contentDigest: digest)
            if let identity, let digest { memo.remember(identity, digest) }
        }
        return (recorder, key)
    }

    /// Records a layer just written under the key its recorder computed.
    func record(job: Int, blob: LayerBlob, key: LayerCacheKey.Incremental) {
        let entry = LayerCacheEntry(key: key.finalize(), blob: blob)
        index.record(entry)
        state.withLock { $0.entries[job] = entry }
    }

    /// Records a layer written earlier (a RUN's, during planning) under its finished key.
    func record(job: Int, blob: LayerBlob, key: Digest) {
        let entry = LayerCacheEntry(key: key, blob: blob)
        index.record(entry)
        state.withLock { $0.entries[job] = entry }
    }

    /// Saves the memo of file digests (merged with other processes' under its lock).
    func finish() { memo.save() }

    private func key(of entries: [LayerEntry], contentDigest: (String) throws -> Digest) throws -> Digest {
        try LayerCacheKey.compute(canonical: try LayerWriter.canonicalEntries(entries), options: options, contentDigest: contentDigest)
    }
}
