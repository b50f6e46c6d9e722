import Foundation
import Layers
import OCI
import TestSupport
import XCTest
@testable import Builder

/// The SBOM scanner's readers, each against bytes built here from the formats' definitions
/// (Go's `debug/buildinfo`, dpkg's status, the OCI whiteout rules); the end-to-end check
/// against `go version -m` and pyspdxtools is in EndToEndTests `AttestationTests`.
final class SBOMScannerTests: XCTestCase {
    /// `.go.buildinfo` as the Go ≥ 1.18 linker writes it: magic, pointer size, flags (2:
    /// inline strings), padding to 32 bytes, then varint-prefixed version and module info
    /// wrapped in 16-byte sentinels.
    private func buildInfo(version: String, modules: String) -> [UInt8] {
        func varint(_ n: Int) -> [UInt8] {
            var n = n, out: [UInt8] = []
            repeat { var b = UInt8(n & 0x7f); n >>= 7; if n > 0 { b |= 0x80 }; out.append(b) } while n > 0
            return out
        }
        let sentinelStart: [UInt8] = [0x30, 0x77, 0xaf, 0x0c, 0x92, 0x74, 0x08, 0x02, 0x41, 0xe1, 0xc1, 0x07, 0xe6, 0xd6, 0x18, 0xe6]
        let sentinelEnd: [UInt8] = [0xf9, 0x32, 0x43, 0x31, 0x86, 0x18, 0x20, 0x72, 0x00, 0x82, 0x42, 0x10, 0x41, 0x16, 0xd8, 0xf2]
        let mod = sentinelStart + Array(modules.utf8) + sentinelEnd
        var header = GoBuildInfo.magicBytes + [8, 2]
        header += [UInt8](repeating: 0, count: 32 - header.count)
        return header + varint(version.utf8.count) + Array(version.utf8) + varint(mod.count) + mod
    }

    let modules = "path\texample.com/cmd/tool\nmod\texample.com/cmd\tv1.2.3\th1:abc=\ndep\tgolang.org/x/sys\tv0.1.0\th1:def=\ndep\texample.com/old\tv1.0.0\n=>\texample.com/new\tv1.1.0\th1:ghi=\nbuild\tGOARCH=arm64\n"

    func testBuildInfoParsesModulesReplacementsAndSettings() throws {
        let info = try XCTUnwrap(GoBuildInfo.parse(buildInfo(version: "go1.21.5", modules: modules)))
        XCTAssertEqual(info.goVersion, "go1.21.5")
        XCTAssertEqual(info.path, "example.com/cmd/tool")
        XCTAssertEqual(info.main, .init(path: "example.com/cmd", version: "v1.2.3", sum: "h1:abc="))
        XCTAssertEqual(info.dependencies.map(\.path), ["golang.org/x/sys", "example.com/new"], "a replacement is what is linked in")
        XCTAssertEqual(info.settings.first?.value, "arm64")
        var old = buildInfo(version: "go1.17", modules: modules)
        old[15] = 0
        XCTAssertNil(GoBuildInfo.parse(old), "before Go 1.18 the strings are behind pointers: not read")
    }

    /// Found whatever the chunking, only at 16-byte-aligned offsets of an ELF file, past a
    /// decoy (the magic as a string constant, not aligned) and a bad header.
    func testScannerFindsBuildInfoAcrossChunksPastDecoys() throws {
        var file: [UInt8] = [0x7f, 0x45, 0x4c, 0x46] + [UInt8](repeating: 7, count: 96)
        file += GoBuildInfo.magicBytes + [1, 1]           // at 100: not aligned
        file += [UInt8](repeating: 0, count: 160 - file.count)
        file += GoBuildInfo.magicBytes + [3, 0] + [UInt8](repeating: 0, count: 16)  // aligned, invalid header
        file += [UInt8](repeating: 9, count: 256 - file.count)
        file += buildInfo(version: "go1.22.0", modules: modules)
        file += [UInt8](repeating: 1, count: 100)
        for chunk in [1, 5, 13, 64, 4096] {
            let scanner = GoBuildInfoScanner()
            var offset = 0
            while offset < file.count {
                let end = min(file.count, offset + chunk)
                file[offset..<end].withUnsafeBytes { scanner.feed($0) }
                offset = end
            }
            XCTAssertEqual(scanner.found?.goVersion, "go1.22.0", "chunks of \(chunk)")
        }
        let notELF = GoBuildInfoScanner()
        ([0, 0, 0, 0] + Array(file.dropFirst(4))).withUnsafeBytes { notELF.feed($0) }
        XCTAssertNil(notELF.found, "only ELF files are searched")
    }

    func testDpkgStatusKeepsInstalledPackagesAndDistrolessStatusDNeedsNoStatus() {
        let status = "Package: a\nStatus: install ok installed\nVersion: 1\nArchitecture: amd64\nDescription: x\n more\n\nPackage: b\nStatus: deinstall ok config-files\nVersion: 2\n\n"
        XCTAssertEqual(PackageDatabases.dpkg(status, location: "var/lib/dpkg/status", requireInstalled: true).map(\.name), ["a"])
        let distroless = "Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\nSource: tzdata (2024a)\n"
        let found = PackageDatabases.dpkg(distroless, location: "var/lib/dpkg/status.d/tzdata", requireInstalled: false)
        XCTAssertEqual(found.first?.version, "2024a-0+deb12u1")
        XCTAssertEqual(found.first?.sourcePackage, "tzdata")
        XCTAssertEqual(PackageFileKind.of("var/lib/dpkg/status.d/tzdata.md5sums"), nil)
        XCTAssertEqual(PackageFileKind.of("app/node_modules/@s/u/package.json"), .nodePackage)
        XCTAssertEqual(PackageFileKind.of("app/node_modules/x/lib/package.json"), nil, "only a package's own package.json")
    }

    /// An upper layer's whiteout hides what lower layers had (a file, a directory, or a whole
    /// directory's old contents through an opaque marker).
    func testWhiteoutsHideLowerLayersFindings() throws {
        let dir = try TemporaryDirectory(prefix: "slipway-sbom")
        let store = try dir.store()
        func layer(_ entries: [LayerEntry]) throws -> LayerFindings {
            let blob = try LayerWriter.write(entries, options: LayerOptions(jobs: 1), into: store)
            return try LayerScanner.scan(blob: store.blobURL(blob.digest).path)
        }
        let node = { (name: String) in Array("{\"name\":\"\(name)\",\"version\":\"1.0.0\"}".utf8) }
        let lower = try layer([
            .file("var/lib/dpkg/status", source: .bytes(Array("Package: a\nStatus: install ok installed\nVersion: 1\n".utf8))),
            .file("etc/os-release", source: .bytes(Array("ID=debian\nVERSION_ID=12\n".utf8))),
            .file("app/node_modules/left/package.json", source: .bytes(node("left"))),
            .file("opt/node_modules/kept/package.json", source: .bytes(node("kept"))),
            .file("srv/node_modules/gone/package.json", source: .bytes(node("gone"))),
        ])
        let upper = try layer([
            .file("app/node_modules/.wh.left", source: .bytes([])),
            .file("srv/.wh..wh..opq", source: .bytes([])),
            .file("srv/node_modules/new/package.json", source: .bytes(node("new"))),
        ])
        let inventory = ImageInventory(layers: [lower, upper])
        XCTAssertEqual(Set(inventory.packages.map(\.name)), ["a", "kept", "new"])
        XCTAssertEqual(inventory.osRelease?.versionID, "12")
    }

    /// A linked work tree (`.git` is a file naming its git directory), HEAD on a branch whose
    /// ref is loose in the main repository, the remote with credentials stripped.
    func testGitWorkTreeReadsLinkedWorkTreesLooseAndPackedRefs() throws {
        let dir = try TemporaryDirectory(prefix: "slipway-git")
        let commit = String(repeating: "ab", count: 20), packed = String(repeating: "cd", count: 20)
        try dir.write([
            "main/.git/HEAD": "ref: refs/heads/main\n",
            "main/.git/packed-refs": "# pack-refs with: peeled fully-peeled sorted\n\(packed) refs/heads/main\n",
            "main/.git/config": "[core]\n\tbare = false\n[remote \"upstream\"]\n\turl = https://example.com/up.git\n[remote \"origin\"]\n\turl = https://bot:ghp_secret@github.com/org/app.git\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n",
            "main/.git/refs/heads/feature": "\(commit)\n",
            "main/.git/worktrees/wt/HEAD": "ref: refs/heads/feature\n",
            "main/.git/worktrees/wt/commondir": "../..\n",
            "wt/.git": "gitdir: ../main/.git/worktrees/wt\n",
            "wt/service/Dockerfile": "FROM scratch\n",
        ])
        let linked = try XCTUnwrap(GitWorkTree.find(containing: dir.path + "/wt/service"))
        XCTAssertEqual(linked, GitWorkTree(revision: commit, remote: "https://github.com/org/app.git", contextPath: "service"))
        let main = try XCTUnwrap(GitWorkTree.find(containing: dir.path + "/main"))
        XCTAssertEqual(main.revision, packed, "from packed-refs")
        XCTAssertEqual(main.contextPath, ".")
        XCTAssertNil(GitWorkTree.find(containing: "/"), "no work tree")
    }

    /// BuildKit's material URIs (docs/attestations/slsa-definitions.md's examples).
    func testImagePackageURLsAsBuildKitWritesThem() {
        let amd64 = Platform(os: "linux", architecture: "amd64")
        XCTAssertEqual(PackageURL.docker("docker.io/library/alpine:3.17", platform: amd64), "pkg:docker/alpine@3.17?platform=linux%2Famd64")
        XCTAssertEqual(PackageURL.docker("docker.io/org/app:1", platform: nil), "pkg:docker/org/app@1")
        XCTAssertEqual(PackageURL.docker("ghcr.io/org/app@sha256:" + String(repeating: "0", count: 64), platform: nil),
                       "pkg:docker/ghcr.io/org/app@sha256%3A" + String(repeating: "0", count: 64))
    }
}
