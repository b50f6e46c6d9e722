import Foundation
import HTTP
import Layers
import OCI

/// The layers a build must write, deduplicated: when two platforms (or two stages) copy the
/// same files to the same places with the same metadata, the layer is written once and
/// shared, which is what makes the second platform nearly free.
final class LayerJobs: Sendable {
    private struct State {
        var indexByKey: [Digest: Int] = [:]
        var jobs: [[LayerEntry]] = []
        var plans: [String: (job: Int, tree: FileTree)] = [:]
    }

    private let state = Locked(State())

    /// The entries of every registered layer, by job number.
    var jobs: [[LayerEntry]] { state.withLock { $0.jobs } }

    /// The outcome of an instruction already planned on an equal tree with equal inputs (by
    /// another platform, usually): its layer job and the resulting tree, shared, not rebuilt.
    func cachedPlan(_ key: String) -> (job: Int, tree: FileTree)? {
        state.withLock { $0.plans[key] }
    }

    /// Applies a planned layer to a tree, registers the job and remembers both under `key`.
    /// `keepTree` false skips recording the entries in the tree when nothing will read it
    /// again (the target stage's last layer): a 100,000-file COPY then costs one copy of its
    /// metadata, not two.
    func commit(_ entries: [LayerEntry], to tree: inout FileTree, key: String, keepTree: Bool = true) -> Int {
        let job = register(entries)
        if keepTree { tree.apply(entries) }
        tree.lineage += "|\(job)"
        let planned = tree
        state.withLock { $0.plans[key] = (job, planned) }
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

    private static func key(_ entries: [LayerEntry]) -> Digest {
        let hasher = SHA256Hasher()
        for entry in entries {
            let kind: String
            switch entry.kind {
            case .directory: kind = "d"
            case .regularFile(.path(let path)): kind = "f:" + path
            case .regularFile(.bytes(let bytes)): kind = "b:" + Digest.sha256(of: bytes).hex
            case .symlink(let target): kind = "l:" + target
            case .hardlink(let target): kind = "h:" + target
            }
            hasher.update(Array("\(entry.path)\u{0}\(kind)\u{0}\(entry.mode)\u{0}\(entry.uid)\u{0}\(entry.gid)\n".utf8))
        }
        return hasher.finalize()
    }

    /// Writes the registered layers the output uses (an intermediate stage's layers are never
    /// written), several at a time, and returns their blobs by job number.
    func materialize(_ wanted: [Int], options: LayerOptions, store: ContentStore, concurrency: Int,
                     progress: (@Sendable (BuildEvent) -> Void)?) throws -> [Int: LayerBlob] {
        let registered = jobs
        let all = Array(Set(wanted)).sorted().map { ($0, registered[$0]) }
        let results = Locked<[Result<LayerBlob, any Error>?]>(Array(repeating: nil, count: all.count))
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = max(1, concurrency)
        for (index, (_, entries)) in all.enumerated() {
            queue.addOperation {
                let started = Date()
                progress?(.layerStarted(index: index + 1, count: all.count, entries: entries.count))
                let result = Result { try LayerWriter.write(entries, options: options, into: store) }
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
