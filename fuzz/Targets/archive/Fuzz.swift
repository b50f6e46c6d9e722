import Foundation
import Layers

/// ADD archive extraction on arbitrary bytes (tar in any compression libarchive reads): no trap,
/// every entry path relative with no "." or ".." component, scratch files only inside the
/// scratch directory, and a 1 MiB content bound.
private let root: String = {
    let dir = NSTemporaryDirectory() + "slipway-fuzz-archive-\(getpid())"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let input = root + "/input"
    let scratch = root + "/scratch"
    _ = FileManager.default.createFile(atPath: input, contents: Data(bytes: data, count: size))
    defer { try? FileManager.default.removeItem(atPath: scratch) }
    guard let entries = try? ArchiveExtractor.extract(input, into: scratch, maxBytes: 1 << 20) else {
        // On failure the extractor removes what it wrote.
        if let left = try? FileManager.default.contentsOfDirectory(atPath: scratch), !left.isEmpty {
            fatalError("a failed extraction left \(left) in the scratch directory")
        }
        return 0
    }
    for entry in entries {
        let parts = entry.path.split(separator: "/", omittingEmptySubsequences: false)
        if entry.path.hasPrefix("/") || parts.contains(where: { $0 == ".." || $0 == "." || $0.isEmpty }) {
            fatalError("unsafe entry path '\(entry.path)'")
        }
        switch entry.kind {
        case .regularFile(.path(let p)) where !p.hasPrefix(scratch + "/"):
            fatalError("file content outside the scratch directory: \(p)")
        case .hardlink(let target) where target.hasPrefix("/") || target.split(separator: "/").contains(".."):
            fatalError("unsafe hard-link target '\(target)'")
        default:
            break
        }
    }
    return 0
}
