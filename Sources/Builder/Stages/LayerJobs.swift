import Foundation
import HTTP
import Layers
import OCI

/// The layers a build must write, deduplicated: when two platforms (or two stages) copy the
/// same files to the same places with the same metadata, the layer is written once and
/// shared, which is what makes the second platform nearly free.
final class LayerJobs: Sendable {
    /// An instruction already planned on a tree of some lineage: its layer job (nil: it
    /// changed no file, e.g. WORKDIR of an existing directory) and the lineage it led to.
    struct Plan {
        var job: Int?
        var lineage: String
        /// The job's entries, to apply when the resulting tree is not kept (`tree` nil).
        var entries: [LayerEntry]
        /// The resulting tree, while it is the newest of its chain (see `commit`).
        var tree: FileTree?
    }

    private struct Cached {
        var job: Int?
        var lineage: String
    }

    private struct State {
        var indexByKey: [Digest: Int] = [:]
        var jobs: [[LayerEntry]] = []
        var plans: [String: Cached] = [:]
        /// Resulting trees by lineage, only for trees no later instruction has built on: a
        /// tree per instruction would keep every intermediate tree of a stage alive (memory
        /// quadratic in COPY count), and sharing a tree that its stage keeps mutating would
        /// copy it on every instruction.
        var heads: [String: FileTree] = [:]
        /// Layers already written during planning (a RUN's, before its root changed again),
        /// with their layer-cache key (taken while writing: the files have changed since).
        var written: [Int: (blob: LayerBlob, cacheKey: Digest)] = [:]
    }

    private let state = Locked(State())

    /// How many resulting trees the plan cache holds (one per chain head).
    var retainedTrees: Int { state.withLock { $0.heads.count } }

    /// The entries of every registered layer, by job number.
    var jobs: [[LayerEntry]] { state.withLock { $0.jobs } }

    /// The outcome of an instruction already planned on an equal tree with equal inputs (by
    /// another platform, usually): its layer job and the resulting tree, shared when it is
    /// still the newest of its chain; otherwise the entries to apply when the tree is read.
    func cachedPlan(_ key: String) -> Plan? {
        state.withLock { state in
            guard let cached = state.plans[key] else { return nil }
            return Plan(job: cached.job, lineage: cached.lineage, entries: cached.job.map { state.jobs[$0] } ?? [],
                        tree: state.heads[cached.lineage])
        }
    }

    /// Remembers that an instruction changed no file (WORKDIR of an existing directory).
    func rememberNoChange(key: String, lineage: String) {
        state.withLock { $0.plans[key] = Cached(job: nil, lineage: lineage) }
    }

    /// Applies a planned layer to a tree, registers the job and remembers both under `key`.
    /// `keepTree` false skips recording the entries in the tree when nothing will read it
    /// again (the target stage's last layer): a 100,000-file COPY then costs one copy of its
    /// metadata, not two.
    func commit(_ entries: [LayerEntry], to tree: inout FileTree, key: String, keepTree: Bool = true) -> Int {
        let job = register(entries)
        // The tree this instruction builds on is no longer a head: dropping the shared
        // reference first lets `apply` change the tree in place instead of copying it.
        let before = tree.lineage
        state.withLock { _ = $0.heads.removeValue(forKey: before) }
        if keepTree { tree.apply(entries) }
        tree.advanceLineage(job: job)
        let result = tree
        state.withLock { state in
            state.plans[key] = Cached(job: job, lineage: result.lineage)
            // A tree without the job's entries is not shared: a reader elsewhere applies them.
            if keepTree { state.heads[result.lineage] = result }
        }
        return job
    }

    /// Registers a layer and returns its job number.
    func register(_ entries: [LayerEntry]) -> Int {
        let key = LayerJobs.key(entries)
        return state.withLock { state in
            if let index = state.indexByKey[key] { return index }
            state.jobs.append(entries)
            state.indexByKey[key] = state.jobs.count - 1
            return state.jobs.count - 1
        }
    }

    /// Registers a layer that is never shared with another registration: a RUN's entries name
    /// files of a root that later RUNs change, so equal entries need not mean equal bytes.
    func registerUnique(_ entries: [LayerEntry]) -> Int {
        state.withLock { state in
            state.jobs.append(entries)
            return state.jobs.count - 1
        }
    }

    /// Writes a registered layer now (its sources are about to change) and keeps the blob for
    /// `materialize`; the bytes are those `materialize` would write.
    func writeNow(_ job: Int, options: LayerOptions, store: ContentStore) throws {
        let entries = state.withLock { $0.written[job] == nil ? $0.jobs[job] : nil }
        guard let entries else { return }
        let key = LayerCacheKey.Incremental(options: options)
        let recorder = FileContentRecorder { entry, _, digest in key.add(entry, contentDigest: digest) }
        let blob = try LayerWriter.write(entries, options: options, into: store, recorder: recorder)
        let cacheKey = key.finalize()
        state.withLock { $0.written[job] = (blob, cacheKey) }
    }

    /// Whether `writeNow` wrote the job (the layer cache need not look it up).
    func isWritten(_ job: Int) -> Bool { state.withLock { $0.written[job] != nil } }

    /// The blob `writeNow` wrote: what to read such a layer from afterwards (its entries name
    /// files of a RUN root that later RUNs changed).
    func writtenBlob(_ job: Int) -> LayerBlob? { state.withLock { $0.written[job]?.blob } }

    private static func key(_ entries: [LayerEntry]) -> Digest {
        let hasher = SHA256Hasher()
        for entry in entries {
            let kind: String
            var content: [UInt8]?
            switch entry.kind {
            case .directory: kind = "d"
            case .regularFile(.path(let path)): kind = "f:" + path
            // The bytes themselves, length first: one running hash, not one digest per file.
            case .regularFile(.bytes(let bytes)): kind = "b:\(bytes.count):"; content = bytes
            case .symlink(let target): kind = "l:" + target
            case .hardlink(let target): kind = "h:" + target
            case .special(let special): kind = "s:\(special)"
            }
            hasher.update(Array("\(entry.path)\u{0}\(kind)".utf8))
            for (name, value) in entry.xattrs.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
                hasher.update(Array("\u{0}x:\(name):\(value.count):".utf8))
                hasher.update(value)
            }
            if let content { hasher.update(content) }
            hasher.update(Array("\u{0}\(entry.mode)\u{0}\(entry.uid)\u{0}\(entry.gid)\n".utf8))
        }
        return hasher.finalize()
    }

    /// Writes the registered layers the output uses (an intermediate stage's layers are never
    /// written), several at a time, and returns their blobs by job number.
    /// Layers in `reused` are taken from the cache as they are; the others are written and,
    /// with a `cache`, recorded under their key.
    func materialize(_ wanted: [Int], options: LayerOptions, store: ContentStore, concurrency: Int,
                     cache: LayerCache? = nil, reused: [Int: LayerCache.Hit] = [:],
                     progress: (@Sendable (BuildEvent) -> Void)?) throws -> [Int: LayerBlob] {
        let registered = jobs
        let all = Array(Set(wanted)).sorted().map { ($0, registered[$0]) }
        let results = Locked<[Result<LayerBlob, any Error>?]>(Array(repeating: nil, count: all.count))
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = max(1, concurrency)
        let written = state.withLock { $0.written }
        for (index, (job, entries)) in all.enumerated() {
            if let (blob, cacheKey) = written[job] {
                cache?.record(job: job, blob: blob, key: cacheKey)
                progress?(.layerStarted(index: index + 1, count: all.count, entries: entries.count))
                progress?(.layerFinished(index: index + 1, count: all.count, digest: blob.digest, size: blob.size, seconds: 0))
                results.withLock { $0[index] = .success(blob) }
                continue
            }
            if let hit = reused[job] {
                progress?(.layerReused(index: index + 1, count: all.count, digest: hit.blob.digest, size: hit.blob.size, from: hit.source))
                results.withLock { $0[index] = .success(hit.blob) }
                continue
            }
            queue.addOperation {
                let started = Date()
                progress?(.layerStarted(index: index + 1, count: all.count, entries: entries.count))
                let recording = cache?.recorder()
                let result = Result { try LayerWriter.write(entries, options: options, into: store, recorder: recording?.recorder) }
                if case .success(let blob) = result, let cache, let recording {
                    cache.record(job: job, blob: blob, key: recording.key)
                }
                if case .success(let blob) = result {
                    progress?(.layerFinished(index: index + 1, count: all.count, digest: blob.digest, size: blob.size,
                                             seconds: Date().timeIntervalSince(started)))
                }
                results.withLock { $0[index] = result }
            }
        }
        queue.waitUntilAllOperationsAreFinished()
        let blobs = try results.withLock { $0 }.map { slot in
            guard let slot else { throw BuildError("internal error: a layer job did not run") }
            return try slot.get()
        }
        return Dictionary(uniqueKeysWithValues: zip(all.map(\.0), blobs))
    }
}
