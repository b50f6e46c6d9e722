import Foundation
import TestSupport
import XCTest

/// What a release reports about itself: `slipway --version` and `slipway version`. Each
/// library's version must be the one the library reports at run time, which for the build
/// under test (linked against this machine's libraries) pkg-config also knows. The release
/// itself (static link, a Debian 12 minbase root, slipway's image, the SBOM) is checked by
/// `scripts/test-release`, which needs root and a release build.
final class ReleaseTests: XCTestCase {
    private let libraries = ["libarchive", "libcurl", "OpenSSL", "zlib", "zstd"]

    func testVersionIsOneLineThatIdentifiesTheBuildThenTheLibraries() throws {
        let lines = try Run.slipway(["--version"]).stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 2, "\(lines)")
        let report = try Run.json(Run.slipway(["version", "--format", "json"]).stdout)
        let version = try XCTUnwrap(report["version"] as? String)
        let commit = try XCTUnwrap(report["commit"] as? String)
        let stamped = commit.count == 40 && commit.allSatisfy(\.isHexDigit)
        XCTAssertTrue(lines[0].hasPrefix("slipway \(version) (" + (stamped ? "commit \(commit.prefix(12))" : "development build")),
                      lines[0])
        XCTAssertTrue(lines[0].hasSuffix(", \(report["platform"] as? String ?? "?"))"), lines[0])
        for name in libraries {
            XCTAssertTrue(lines[1].contains(name + " "), "\(name) missing from: \(lines[1])")
        }
    }

    func testVersionJSONReportsTheLibrariesAsTheyReportThemselves() throws {
        let report = try Run.json(Run.slipway(["version", "--format", "json"]).stdout)
        let entries = try XCTUnwrap(report["libraries"] as? [[String: Any]])
        XCTAssertEqual(entries.compactMap { $0["name"] as? String }, libraries)
        let modules = ["libarchive": "libarchive", "libcurl": "libcurl", "OpenSSL": "openssl", "zlib": "zlib", "zstd": "libzstd"]
        for entry in entries {
            let name = try XCTUnwrap(entry["name"] as? String)
            let linkage = try XCTUnwrap(entry["linkage"] as? String)
            if linkage != "static" {
                // Loaded from a shared object: the system's, whose version pkg-config knows.
                XCTAssertTrue(linkage.contains(".so") && FileManager.default.fileExists(atPath: linkage), "\(name): \(linkage)")
                let expected = try Run.tool("pkg-config", ["--modversion", modules[name] ?? name])
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                XCTAssertEqual(entry["version"] as? String, expected, name)
            } else {
                XCTAssertEqual((entry["version"] as? String)?.first?.isNumber, true, name)
            }
        }
        let platform = try XCTUnwrap(report["platform"] as? String)
        XCTAssertTrue(["linux/amd64", "linux/arm64"].contains(platform), platform)
    }

    func testVersionTextAndAnUnknownFormat() throws {
        let text = try Run.slipway(["version"]).stdout
        XCTAssertTrue(text.hasPrefix("slipway "), text)
        for label in ["commit:", "toolchain:", "platform:", "libraries:"] {
            XCTAssertTrue(text.contains("\n" + label), "\(label) missing from:\n\(text)")
        }
        let refused = try Run.command(Run.slipway, ["version", "--format", "yaml"])
        XCTAssertEqual(refused.status, 64, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("--format must be text or json"), refused.stderr)
    }
}
