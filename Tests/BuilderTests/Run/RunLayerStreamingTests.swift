@testable import Builder
import Foundation
import TestSupport
import XCTest

/// A RUN layer streams its files straight from the stage's scratch root, which the stage's
/// later RUNs (and COPYs) keep changing: each layer must still hold the bytes its RUN made.
final class RunLayerStreamingTests: XCTestCase {
    func testEachRunLayerKeepsItsOwnBytesWhenLaterRunsRewriteTheSameFiles() async throws {
        let (base, layout) = try await BusyboxBase.layout()
        _ = base
        let fixture = try BuildFixture(files: ["copied.txt": "from the context\n"])
        let image = try await fixture.build("""
            FROM base AS first
            RUN echo one > /f && echo keep > /k
            RUN echo two > /f
            COPY copied.txt /f
            RUN cat /f > /g && echo three >> /f && rm /k
            FROM first
            RUN echo four >> /f
            """, configure: BusyboxBase.configure(layout))
        let layers = image.result.images[0].layers
        XCTAssertEqual(layers.count, 6, "base, three RUNs and a COPY of the first stage, one RUN of the second")
        func content(_ layer: Int, _ name: String) throws -> String {
            let blob = image.store.blobURL(layers[layer].digest).path
            return try Run.tool("bsdtar", ["-xOf", blob, name])
        }
        XCTAssertEqual(try content(1, "f"), "one\n")
        XCTAssertEqual(try content(1, "k"), "keep\n")
        XCTAssertEqual(try content(2, "f"), "two\n")
        XCTAssertEqual(try content(3, "f"), "from the context\n")
        XCTAssertEqual(try content(4, "f"), "from the context\nthree\n")
        XCTAssertEqual(try content(4, "g"), "from the context\n")
        XCTAssertTrue(try image.bsdtarNames(4).contains(".wh.k"))
        XCTAssertEqual(try content(5, "f"), "from the context\nthree\nfour\n")
        XCTAssertEqual(Set(layers.map(\.digest)).count, layers.count, "no two layers share a blob")
        let rootfs = try image.umociRootfs(fixture.directory.path)
        XCTAssertEqual(try String(contentsOfFile: rootfs + "/f", encoding: .utf8), "from the context\nthree\nfour\n")
    }

    func testTheSBOMReadsAnEarlierRunLayerFromItsBlobNotFromTheChangedRoot() async throws {
        let (base, layout) = try await BusyboxBase.layout()
        _ = base
        let fixture = try BuildFixture()
        let dockerfile = """
            FROM base
            RUN mkdir -p /var/lib/dpkg && printf 'Package: made\\nStatus: install ok installed\\nVersion: 1.0\\n\\n' > /var/lib/dpkg/status
            RUN rm -rf /var/lib/dpkg && echo later > /later
            """
        let image = try await fixture.build(dockerfile) { request in
            BusyboxBase.configure(layout)(&request)
            request.attestations = AttestationRequest(provenance: nil, sbom: true)
        }
        XCTAssertEqual(image.result.attestations.count, 1, "the SBOM was made although the first RUN's files are gone from the root")
    }
}
