import Foundation
import Layers
import OCI

/// The image a `push` (or `copy oci:…`) reads: an OCI layout directory or tar (what `build
/// --output type=oci` writes), optionally `PATH:TAG` or `PATH@sha256:…` to pick one image of
/// several. A tar is unpacked into a temporary directory that `close` removes.
public struct LayoutInput: Sendable {
    public let directory: String
    public let root: Descriptor
    private let scratch: String?
    /// Removes `scratch` if the process is interrupted before `close`.
    private let cleanup: UUID?

    public static func open(_ source: String) async throws -> LayoutInput {
        var path = source
        var reference: String?
        if !FileManager.default.fileExists(atPath: path) { (path, reference) = LayoutPath.split(source) }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw PublishError.failed("push source '\(source)' not found: give an OCI layout directory or tar, e.g. from --output type=oci")
        }
        var directory = path
        var scratch: String?
        var cleanup: UUID?
        if !isDirectory.boolValue {
            let temporary = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-layout-\(UUID().uuidString)").path
            scratch = temporary
            cleanup = Interruption.register { try? FileManager.default.removeItem(atPath: temporary) }
            do {
                try extract(tar: path, into: temporary)
            } catch {
                try? FileManager.default.removeItem(atPath: temporary)
                cleanup.map(Interruption.unregister)
                throw error
            }
            directory = temporary + "/layout"
        }
        do {
            let layout = try OCILayoutReader(path: directory)
            return LayoutInput(directory: directory, root: try await layout.resolveRoot(reference).descriptor, scratch: scratch, cleanup: cleanup)
        } catch {
            if let scratch { try? FileManager.default.removeItem(atPath: scratch) }
            cleanup.map(Interruption.unregister)
            throw error
        }
    }

    public var store: ContentStore { ContentStore(readingLayoutAt: URL(fileURLWithPath: directory)) }

    public func close() {
        if let scratch { try? FileManager.default.removeItem(atPath: scratch) }
        cleanup.map(Interruption.unregister)
    }

    /// Unpacks a layout tar with the archive extractor (which refuses entries that would
    /// escape), then moves each file to its path in the layout.
    private static func extract(tar: String, into directory: String) throws {
        let files = directory + "/files"
        let layout = directory + "/layout"
        try FileManager.default.createDirectory(atPath: files, withIntermediateDirectories: true)
        let entries = try ArchiveExtractor.extract(tar, into: files, maxBytes: 1 << 40)
        for entry in entries {
            let target = layout + "/" + entry.path
            switch entry.kind {
            case .directory:
                try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
            case .regularFile(.path(let source)):
                try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try FileManager.default.moveItem(atPath: source, toPath: target)
            case .regularFile(.bytes(let bytes)):
                try Data(bytes).write(to: URL(fileURLWithPath: target))
            case .symlink, .hardlink:
                throw PublishError.failed("'\(tar)' is not an OCI layout tar: it holds a link (\(entry.path))")
            case .special:
                throw PublishError.failed("'\(tar)' is not an OCI layout tar: it holds a special file (\(entry.path))")
            }
        }
    }
}
