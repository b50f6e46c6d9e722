import Builder
import Foundation
import Layers
import TestSupport
import XCTest

/// Port of moby/buildkit `frontend/dockerfile/exclude_patterns_test.go` (the plain-directory
/// half; the git-context half needs ADD of a git repository).
final class ExcludeConformanceTests: XCTestCase {
    func testExcludedFilesOnCopy() async throws {
        let fixture = try BuildFixture(files: [
            "dir1/file-101.png": "2", "dir1/file-102.txt": "3", "dir1/file-103.jpeg": "4",
            "dir2/file-201.pdf": "6", "dir2/file-202.jpeg": "7", "dir2/file-203.png": "8",
            "dir3/file-301.mp3": "9", "dir3/file-302.mpeg": "10", "dir4/file-401.txt": "11"])
        try fixture.symlink("dir4/file-402.txt", to: "file-401.txt")
        try fixture.symlink("dir4/file-403.txt", to: "file-404.txt")
        let image = try await fixture.build("""
            FROM scratch as builder1
            COPY --exclude=*/*.png --exclude=*/*.jpeg . /1
            FROM scratch as builder2
            COPY --exclude=*/*.pdf --exclude=*/*.txt . /2
            FROM scratch as builder3
            ADD --exclude=*.mp3 dir3/ /3/
            FROM scratch as builder4
            COPY --exclude=*.mp3 --exclude=*.jpeg --exclude=*.png --exclude=*.pdf --exclude=*.txt dir* /4/
            FROM scratch as builder5
            ADD --exclude=*.mp* --exclude=*.jpeg --exclude=*.png --exclude=*.pdf dir* /5
            FROM scratch as builder6
            ADD --exclude=* dir* /6
            FROM scratch
            COPY --from=builder1 / /builder1
            COPY --from=builder2 / /builder2
            COPY --from=builder3 / /builder3
            COPY --from=builder4 / /builder4
            COPY --from=builder5 / /builder5
            COPY --from=builder6 / /builder6
            """)
        let files = try image.files()
        func content(_ path: String) throws -> String? {
            guard let entry = files[path] else { return nil }
            if case .symlink(let target) = entry.kind { return target }
            return try BuiltImage.text(of: entry)
        }
        let expected: [(String, String?)] = [
            ("builder1/1/dir1/file-101.png", nil), ("builder1/1/dir1/file-102.txt", "3"), ("builder1/1/dir1/file-103.jpeg", nil),
            ("builder1/1/dir2/file-201.pdf", "6"), ("builder1/1/dir2/file-202.jpeg", nil), ("builder1/1/dir2/file-203.png", nil),
            ("builder1/1/dir3/file-301.mp3", "9"), ("builder1/1/dir3/file-302.mpeg", "10"), ("builder1/1/dir4/file-401.txt", "11"),
            ("builder1/1/dir4/file-402.txt", "file-401.txt"), ("builder1/1/dir4/file-403.txt", "file-404.txt"),
            ("builder2/2/dir1/file-101.png", "2"), ("builder2/2/dir1/file-102.txt", nil), ("builder2/2/dir1/file-103.jpeg", "4"),
            ("builder2/2/dir2/file-201.pdf", nil), ("builder2/2/dir2/file-202.jpeg", "7"), ("builder2/2/dir2/file-203.png", "8"),
            ("builder2/2/dir3/file-301.mp3", "9"), ("builder2/2/dir3/file-302.mpeg", "10"), ("builder2/2/dir4/file-401.txt", nil),
            ("builder2/2/dir4/file-402.txt", nil), ("builder2/2/dir4/file-403.txt", nil),
            ("builder3/3/file-301.mp3", nil), ("builder3/3/file-302.mpeg", "10"),
            ("builder4/4/file-101.png", nil), ("builder4/4/file-102.txt", nil), ("builder4/4/file-103.jpeg", nil),
            ("builder4/4/file-201.pdf", nil), ("builder4/4/file-202.jpeg", nil), ("builder4/4/file-203.png", nil),
            ("builder4/4/file-301.mp3", nil), ("builder4/4/file-302.mpeg", "10"), ("builder4/4/dir4/file-401.txt", nil),
            ("builder4/4/dir4/file-402.txt", nil), ("builder4/4/dir4/file-403.txt", nil),
            ("builder5/5/file-101.png", nil), ("builder5/5/file-102.txt", "3"), ("builder5/5/file-103.jpeg", nil),
            ("builder5/5/file-201.pdf", nil), ("builder5/5/file-202.jpeg", nil), ("builder5/5/file-203.png", nil),
            ("builder5/5/file-301.mp3", nil), ("builder5/5/file-302.mpeg", nil), ("builder5/5/file-401.txt", "11"),
            ("builder5/5/file-402.txt", "file-401.txt"), ("builder5/5/file-403.txt", "file-404.txt"),
        ]
        for (path, text) in expected { XCTAssertEqual(try content(path), text, path) }
        XCTAssertEqual(files["builder6/6"]?.kind, .directory)
        XCTAssertTrue(files.keys.filter { $0.hasPrefix("builder6/6/") }.isEmpty, "everything excluded: an empty directory")
    }
}
