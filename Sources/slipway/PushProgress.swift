import Foundation
import OCI
import Registry

/// Renders push events: with a terminal, one live line per blob (bytes, total, rate) redrawn
/// at most ten times a second; in `plain` mode one timestamped line per event for CI logs;
/// `quiet` shows nothing but the results. Events arrive from many tasks at once.
final class PushProgress: @unchecked Sendable {
    private struct Blob {
        var label: String
        var bytes: Int64
        var total: Int64
        var started: Date
        var state: String
    }

    private let console: Console
    private let lock = NSLock()
    private var blobs: [String: Blob] = [:]
    private var order: [String] = []
    private var drawnLines = 0
    private var lastDraw = Date.distantPast
    private var uploaded: Int64 = 0
    private var counts = (uploaded: 0, skipped: 0, mounted: 0, manifests: 0, retries: 0)

    init(console: Console) { self.console = console }

    func handle(_ event: PushEvent) {
        lock.lock()
        defer { lock.unlock() }
        switch event {
        case .blobSkipped(let repository, let descriptor):
            counts.skipped += 1
            update(repository, descriptor, state: "exists", bytes: descriptor.size)
            plain("\(short(descriptor)) \(repository): already present, skipped")
        case .blobMounted(let repository, let descriptor, let from):
            counts.mounted += 1
            update(repository, descriptor, state: "mounted", bytes: descriptor.size)
            plain("\(short(descriptor)) \(repository): mounted from \(from)")
        case .blobUploadStarted(let repository, let descriptor):
            update(repository, descriptor, state: "uploading", bytes: 0)
            plain("\(short(descriptor)) \(repository): uploading \(Console.bytes(descriptor.size))")
        case .blobProgress(let repository, let descriptor, let bytes):
            update(repository, descriptor, state: "uploading", bytes: bytes)
        case .blobUploaded(let repository, let descriptor):
            counts.uploaded += 1
            uploaded += descriptor.size
            update(repository, descriptor, state: "done", bytes: descriptor.size)
            plain("\(short(descriptor)) \(repository): uploaded")
        case .manifestSkipped(let repository, let descriptor):
            plain("manifest \(short(descriptor)) \(repository): already present")
        case .manifestPushed(let repository, let descriptor, let reference):
            counts.manifests += 1
            plain("manifest \(short(descriptor)) \(repository): pushed as \(reference)")
        case .retrying(let operation, let attempt, let delay, let error):
            counts.retries += 1
            if console.mode != "quiet" {
                console.step("retry \(attempt) of \(operation) in \(String(format: "%.1f", delay))s: \(error)")
            }
        }
        if console.mode == "tty" { redraw(force: false) }
    }

    func finish(seconds: Double) {
        lock.lock()
        defer { lock.unlock() }
        if console.mode == "tty" { redraw(force: true) }
        guard console.mode != "quiet" else { return }
        let rate = seconds > 0 ? Double(uploaded) / seconds : 0
        console.step("pushed in \(String(format: "%.1f", seconds))s: \(counts.uploaded) blobs uploaded (\(Console.bytes(uploaded)), \(Console.bytes(Int64(rate)))/s), \(counts.skipped) already present, \(counts.mounted) mounted, \(counts.manifests) manifests, \(counts.retries) retries")
    }

    private func short(_ descriptor: Descriptor) -> String { descriptor.digest.short }

    private func plain(_ message: String) {
        if console.mode == "plain" { console.step(message) }
    }

    private func update(_ repository: String, _ descriptor: Descriptor, state: String, bytes: Int64) {
        let key = repository + "@" + descriptor.digest.description
        if blobs[key] == nil {
            order.append(key)
            blobs[key] = Blob(label: "\(descriptor.digest.short) \(repository)", bytes: 0, total: descriptor.size, started: Date(), state: state)
        }
        blobs[key]?.bytes = bytes
        blobs[key]?.state = state
    }

    private func redraw(force: Bool) {
        let now = Date()
        guard force || now.timeIntervalSince(lastDraw) >= 0.1 else { return }
        lastDraw = now
        var text = drawnLines > 0 ? "\u{1B}[\(drawnLines)A" : ""
        for key in order {
            guard let blob = blobs[key] else { continue }
            let elapsed = max(now.timeIntervalSince(blob.started), 0.001)
            let rate = blob.state == "uploading" ? "  \(Console.bytes(Int64(Double(blob.bytes) / elapsed)))/s" : ""
            text += "\u{1B}[2K\(blob.label)  \(blob.state)  \(Console.bytes(blob.bytes))/\(Console.bytes(blob.total))\(rate)\n"
        }
        drawnLines = order.count
        console.raw(text)
    }
}
