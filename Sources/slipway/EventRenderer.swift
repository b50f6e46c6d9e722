import Builder
import Foundation
import Publish
import Registry

/// Shows what the workflows report: build steps and layers, pulls (plain mode) and pushes
/// (live or plain), and the result lines scripts read on stdout.
final class EventRenderer: Sendable {
    let console: Console
    private let pushes: PushProgress
    /// `build -q`: the image digest alone, as buildx prints the image ID.
    private let digestOnly: Bool
    /// `-o -`: standard output carries the tar, so result lines go to stderr.
    private let resultsToStandardError: Bool

    init(console: Console, digestOnly: Bool = false, resultsToStandardError: Bool = false) {
        self.console = console
        self.digestOnly = digestOnly
        self.resultsToStandardError = resultsToStandardError
        pushes = PushProgress(console: console)
    }

    private func result(_ line: String) {
        if resultsToStandardError {
            FileHandle.standardError.write(Data((line + "\n").utf8))
        } else {
            console.result(line)
        }
    }

    var handler: PublishEventHandler { { [self] event in handle(event) } }

    func handle(_ event: PublishEvent) {
        switch event {
        case .building(let platforms, let dockerfile):
            console.step("building \(platforms.map(\.description).joined(separator: ", ")) from \(dockerfile)")
        case .build(let event):
            build(event)
        case .warning(let message):
            console.warn(message)
        case .exported(let output):
            console.step("wrote \(describe(output))")
        case .built(let built):
            if digestOnly { return result(built.root.digest.description) }
            for image in built.images {
                result("\(image.platform) \(image.manifest.digest)")
            }
            result(built.images.count > 1 ? "index \(built.root.digest)" : "digest \(built.root.digest)")
        case .copying(let source, let mediaType):
            console.step("copying \(source) (\(mediaType))")
        case .pull(let event):
            pull(event)
        case .repositoryCreated(let uri):
            console.step("created ECR repository \(uri)")
        case .push(let event):
            pushes.handle(event)
        case .pushFinished(let seconds):
            pushes.finish(seconds: seconds)
        case .scanGate(let event):
            ScanReportRenderer(console: console).gate(event)
        case .published(let reference):
            if reference.alreadyPublished {
                console.step("\(reference.reference) already published at \(reference.digest) (immutable tag): nothing to do")
            }
            if !digestOnly { result(reference.description) }
        case .signed(let report):
            console.step(report.alreadySigned ? "\(report.image) already signed by \(report.keyName) (\(report.location))"
                                              : "signed \(report.image) with \(report.keyName): \(report.location)")
        case .cacheExported(let destination, let digest, let layers):
            console.step("exported the layer cache (\(layers) layers) to \(destination) (\(digest))")
        case .cachePruned(let result, let limit):
            console.step("cache over its bound of \(Console.bytes(limit)) (--keep-storage): removed \(result.removedBlobs) least recently used blobs (\(Console.bytes(result.freedBytes)))")
        }
    }

    /// One line per instruction and per finished layer (and per started one in plain mode).
    private func build(_ event: BuildEvent) {
        guard console.mode != "quiet" else { return }
        switch event {
        case .instruction(let platform, let stage, let line, let text):
            let short = text.count > 100 ? String(text.prefix(97)) + "..." : text
            console.step("[\(platform) \(stage)] \(line): \(short.replacingOccurrences(of: "\n", with: " "))")
        case .layerStarted(let index, let count, let entries):
            if console.mode == "plain" { console.step("layer \(index)/\(count): writing \(entries) entries") }
        case .layerFinished(let index, let count, let digest, let size, let seconds):
            console.step("layer \(index)/\(count): \(digest.short) \(Console.bytes(size)) in \(String(format: "%.2f", seconds))s")
        case .runOutput(let platform, let stage, let line, let text):
            if console.mode == "plain" { console.step("[\(platform) \(stage)] \(line): \(text)") }
        case .layerReused(let index, let count, let digest, let size, let source):
            console.step("layer \(index)/\(count): \(digest.short) \(Console.bytes(size)) reused from \(source)")
        case .baseLayerRecompressed(let from, let to, let mediaType, let size, let seconds):
            console.step("base layer \(from.short) recompressed (force-compression): \(to.short) \(mediaType) \(Console.bytes(size)) in \(String(format: "%.2f", seconds))s")
        }
    }

    /// Blobs fetched from a source registry, in plain mode only (the live view shows uploads);
    /// a wait before a retry in every mode but quiet, so a slow failure is never silent.
    private func pull(_ event: PullEvent) {
        if let notice = event.retryNotice, console.mode != "plain" { return console.step(notice) }
        guard console.mode == "plain" else { return }
        switch event {
        case .blobDownloadStarted(let descriptor, let from):
            console.step("\(descriptor.digest.short) downloading \(Console.bytes(descriptor.size)) from \(from)")
        case .blobDownloaded(let descriptor, let from):
            console.step("\(descriptor.digest.short) downloaded from \(from)")
        case .blobCached(let descriptor):
            console.step("\(descriptor.digest.short) found in the cache")
        case .retrying:
            if let notice = event.retryNotice { console.step(notice) }
        case .resolved:
            break
        }
    }

    private func describe(_ output: BuildOutput) -> String {
        switch output {
        case .oci(let destination, let tar): return "OCI layout \(tar ? "tar " : "")\(destination)"
        case .docker(let destination): return "docker archive \(destination)"
        case .local(let destination): return "files to \(destination)"
        case .tar(let destination): return "a tar of the files to \(destination)"
        }
    }
}
