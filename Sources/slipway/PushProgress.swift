import Foundation
import HTTP
import OCI
import Registry

/// Renders push events: with a terminal, one live line per blob (bytes, total, rate) redrawn
/// at most ten times a second; in `plain` mode one timestamped line per event for CI logs;
/// `quiet` shows nothing but the results. Events arrive from many tasks at once; the lock is
/// held while a line is written so the live view is never drawn over by itself.
final class PushProgress: Sendable {
    private struct Blob {
        var label: String
        var bytes: Int64
        var total: Int64
        var started: Date
        var state: String
    }

    private struct State {
        var blobs: [String: Blob] = [:]
        var order: [String] = []
        var drawnLines = 0
        var lastDraw = Date.distantPast
        var uploaded: Int64 = 0
        var counts = (uploaded: 0, skipped: 0, mounted: 0, manifests: 0, retries: 0)
    }

    private let console: Console
    private let state = Locked(State())

    init(console: Console) { self.console = console }

    func handle(_ event: PushEvent) {
        state.withLock { state in
            switch event {
            case .blobSkipped(let repository, let descriptor):
                state.counts.skipped += 1
                update(&state, repository, descriptor, to: "exists", bytes: descriptor.size)
                plain("\(descriptor.digest.short) \(repository): already present, skipped")
            case .blobMounted(let repository, let descriptor, let from):
                state.counts.mounted += 1
                update(&state, repository, descriptor, to: "mounted", bytes: descriptor.size)
                plain("\(descriptor.digest.short) \(repository): mounted from \(from)")
            case .blobUploadStarted(let repository, let descriptor):
                update(&state, repository, descriptor, to: "uploading", bytes: 0)
                plain("\(descriptor.digest.short) \(repository): uploading \(Console.bytes(descriptor.size))")
            case .blobProgress(let repository, let descriptor, let bytes):
                update(&state, repository, descriptor, to: "uploading", bytes: bytes)
            case .blobUploaded(let repository, let descriptor):
                state.counts.uploaded += 1
                state.uploaded += descriptor.size
                update(&state, repository, descriptor, to: "done", bytes: descriptor.size)
                plain("\(descriptor.digest.short) \(repository): uploaded")
            case .manifestSkipped(let repository, let descriptor):
                plain("manifest \(descriptor.digest.short) \(repository): already present")
            case .manifestPushed(let repository, let descriptor, let reference):
                state.counts.manifests += 1
                plain("manifest \(descriptor.digest.short) \(repository): pushed as \(reference)")
            case .retrying(let operation, let attempt, let delay, let error):
                state.counts.retries += 1
                if console.mode != "quiet" {
                    console.step("retry \(attempt) of \(operation) in \(String(format: "%.1f", delay))s: \(error)")
                }
            }
            if console.mode == "tty" { redraw(&state, force: false) }
        }
    }

    func finish(seconds: Double) {
        state.withLock { state in
            if console.mode == "tty" { redraw(&state, force: true) }
            guard console.mode != "quiet" else { return }
            let rate = seconds > 0 ? Double(state.uploaded) / seconds : 0
            let c = state.counts
            console.step("pushed in \(String(format: "%.1f", seconds))s: \(c.uploaded) blobs uploaded (\(Console.bytes(state.uploaded)), \(Console.bytes(Int64(rate)))/s), \(c.skipped) already present, \(c.mounted) mounted, \(c.manifests) manifests, \(c.retries) retries")
        }
    }

    private func plain(_ message: String) {
        if console.mode == "plain" { console.step(message) }
    }

    private func update(_ state: inout State, _ repository: String, _ descriptor: Descriptor, to label: String, bytes: Int64) {
        let key = repository + "@" + descriptor.digest.description
        if state.blobs[key] == nil {
            state.order.append(key)
            state.blobs[key] = Blob(label: "\(descriptor.digest.short) \(repository)", bytes: 0, total: descriptor.size, started: Date(), state: label)
        }
        state.blobs[key]?.bytes = bytes
        state.blobs[key]?.state = label
    }

    private func redraw(_ state: inout State, force: Bool) {
        let now = Date()
        guard force || now.timeIntervalSince(state.lastDraw) >= 0.1 else { return }
        state.lastDraw = now
        var text = state.drawnLines > 0 ? "\u{1B}[\(state.drawnLines)A" : ""
        for key in state.order {
            guard let blob = state.blobs[key] else { continue }
            let elapsed = max(now.timeIntervalSince(blob.started), 0.001)
            let rate = blob.state == "uploading" ? "  \(Console.bytes(Int64(Double(blob.bytes) / elapsed)))/s" : ""
            text += "\u{1B}[2K\(blob.label)  \(blob.state)  \(Console.bytes(blob.bytes))/\(Console.bytes(blob.total))\(rate)\n"
        }
        state.drawnLines = state.order.count
        console.raw(text)
    }
}
