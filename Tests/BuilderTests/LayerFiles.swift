import Layers
import TestSupport
import XCTest

/// Checks on a built image's file system, as `BuiltImage.files()` reads it from the layers.
extension BuiltImage {
    /// The entry at `path`, or a test failure.
    func entry(_ path: String, image: Int = 0, file: StaticString = #filePath, line: UInt = #line) throws -> LayerEntry {
        try XCTUnwrap(try files(image)[path], "no \(path) in the image", file: file, line: line)
    }

    /// Permission bits, uid and gid of the entry at `path`.
    func owner(_ path: String, image: Int = 0, file: StaticString = #filePath, line: UInt = #line) throws -> [Int] {
        let entry = try entry(path, image: image, file: file, line: line)
        return [Int(entry.mode & 0o7777), entry.uid, entry.gid]
    }
}
