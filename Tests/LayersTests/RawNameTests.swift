import XCTest
@testable import Layers

/// File names that are not UTF-8 survive the trip through Swift strings byte for byte.
final class RawNameTests: XCTestCase {
    func testEveryByteStringRoundTrips() {
        var generator = SystemRandomNumberGenerator()
        let interesting: [[UInt8]] = [
            [], Array("plain/ascii".utf8), Array("café/日本".utf8), [0xFF], [0x64, 0x2F, 0xFF],
            [0xC3], [0xE9, 0x2E, 0x74], [0xEF, 0x9F, 0xBF], [0xEF, 0x9E, 0x80], [0xEF, 0x9F], [0xED, 0xA0, 0x80],
            [0xF4, 0x90, 0x80, 0x80], [0xC0, 0xAF],
        ]
        let random = (0..<2000).map { _ in (0..<Int.random(in: 1...12, using: &generator)).map { _ in UInt8.random(in: 1...255, using: &generator) } }
        for bytes in interesting + random {
            XCTAssertEqual(RawName.bytes(RawName.decode(bytes)), bytes, "\(bytes)")
        }
    }

    func testDecodingIsOneToOne() {
        // U+F7FF written as UTF-8 and the lone byte 0xFF are different names.
        XCTAssertNotEqual(RawName.decode([0xEF, 0x9F, 0xBF]), RawName.decode([0xFF]))
        XCTAssertEqual(RawName.decode(Array("d/café".utf8)), "d/café", "valid UTF-8 is itself")
        XCTAssertEqual(RawName.decode([0x64, 0x2F, 0xFF]).utf8.split(separator: UInt8(ascii: "/")).count, 2, "'/' stays a separator")
    }

    func testSystemCallsSeeTheBytes() {
        let bytes: [UInt8] = [0x61, 0xE9, 0xFF]
        let seen = RawName.withCString(RawName.decode(bytes)) { Array(UnsafeBufferPointer(start: $0, count: strlen($0))).map { UInt8(bitPattern: $0) } }
        XCTAssertEqual(seen, bytes)
    }
}
