import Foundation
import Layers
import OCI
import TestSupport
import XCTest

/// `ArchiveExtractor.extract(…, memoryBudget:)` (issue 10, item 6): small contents are held in
/// memory instead of one scratch file each, within the budget, and the layer is the same.
final class ArchiveMemoryBudgetTests: XCTestCase {
    private func archive(_ scratch: TemporaryDirectory) throws -> String {
        var bytes: [UInt8] = []
        for index in 0..<100 { bytes += rawTarEntry(name: "d/f\(index)", content: Array("file \(index)\n".utf8)) }
        bytes += rawTarEntry(name: "big", content: pseudoRandom(count: Int(ArchiveExtractor.inMemoryContentLimit) + 1, seed: 3))
        bytes += rawTarEnd()
        return try scratch.write("a.tar", bytes)
    }

    private func scratchFiles(_ directory: String) -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).count
    }

    func testSmallContentsStayInMemoryWithinTheBudgetAndWriteTheSameLayer() throws {
        let scratch = try TemporaryDirectory(prefix: "layers-tests")
        let tar = try archive(scratch)
        let onDisk = try ArchiveExtractor.extract(tar, into: scratch.url("disk").path, maxBytes: 1 << 30)
        XCTAssertEqual(scratchFiles(scratch.url("disk").path), 101, "without a budget every file has a scratch file")

        let held = try ArchiveExtractor.extract(tar, into: scratch.url("memory").path, maxBytes: 1 << 30, memoryBudget: 1 << 20)
        XCTAssertEqual(scratchFiles(scratch.url("memory").path), 1, "only the file over the size limit is written out")
        XCTAssertEqual(held.map(\.path), onDisk.map(\.path))
        let byPath = Dictionary(uniqueKeysWithValues: held.map { ($0.path, $0) })
        XCTAssertEqual(byPath["d/f7"]?.kind, .regularFile(.bytes(Array("file 7\n".utf8))))
        guard case .regularFile(.path)? = byPath["big"]?.kind else { return XCTFail("big: \(String(describing: byPath["big"]))") }

        let store = try scratch.store()
        let options = LayerOptions(mtime: 0, compression: .gzip(level: 6), jobs: 1)
        let fromDisk = try LayerWriter.write(onDisk, options: options, into: store)
        let fromMemory = try LayerWriter.write(held, options: options, into: store)
        XCTAssertEqual(fromMemory.digest, fromDisk.digest, "where the bytes wait does not change the layer")
    }

    func testTheBudgetBoundsWhatIsHeld() throws {
        let scratch = try TemporaryDirectory(prefix: "layers-tests")
        let tar = try archive(scratch)
        // Room for ten small files (7–8 bytes each plus the per-entry allowance).
        let budget = 10 * (8 + ArchiveExtractor.inMemoryEntryOverhead)
        let entries = try ArchiveExtractor.extract(tar, into: scratch.url("x").path, maxBytes: 1 << 30, memoryBudget: budget)
        let held = entries.filter { if case .regularFile(.bytes) = $0.kind { return true } else { return false } }
        XCTAssertEqual(held.count, 10)
        XCTAssertEqual(scratchFiles(scratch.url("x").path), 91)
    }

    func testAReplacedFileHeldInMemoryHandsItsContentToItsHardLink() throws {
        // GNU tar and Docker: `h` keeps the content when `f` is replaced (here by a symlink),
        // whether the content waits in a scratch file or in memory.
        let scratch = try TemporaryDirectory(prefix: "layers-tests")
        var bytes = rawTarEntry(name: "f", content: Array("content".utf8))
        bytes += rawTarEntry(name: "h", type: UInt8(ascii: "1"), linkName: "f")
        bytes += rawTarEntry(name: "f", type: UInt8(ascii: "2"), linkName: "elsewhere")
        bytes += rawTarEnd()
        let tar = try scratch.write("links.tar", bytes)
        for budget: Int64 in [0, 1 << 20] {
            let entries = try ArchiveExtractor.extract(tar, into: scratch.url("x\(budget)").path, maxBytes: 1 << 30, memoryBudget: budget)
            let byPath = Dictionary(uniqueKeysWithValues: entries.map { ($0.path, $0.kind) })
            XCTAssertEqual(byPath["f"], .symlink(target: "elsewhere"), "budget \(budget)")
            switch byPath["h"] {
            case .regularFile(.bytes(let content))?: XCTAssertEqual(content, Array("content".utf8))
            case .regularFile(.path(let file))?: XCTAssertEqual(FileManager.default.contents(atPath: file), Data("content".utf8))
            default: XCTFail("budget \(budget): h is \(String(describing: byPath["h"]))")
            }
        }
    }
}
