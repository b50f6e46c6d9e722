import Foundation
import TestSupport
import Layers
import OCI
import XCTest
@testable import Builder

/// The stage graph: what the target needs, per platform, computed once for the RUN check,
/// base resolution and planning.
final class StageGraphTests: XCTestCase {
    var work = ""

    override func setUpWithError() throws {
        work = FileManager.default.temporaryDirectory.appendingPathComponent("graph-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: work + "/context", withIntermediateDirectories: true)
        try Data("a".utf8).write(to: URL(fileURLWithPath: work + "/context/a"))
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    private func makeRequest(_ dockerfile: String, platforms: [String] = ["linux/amd64"], target: String? = nil,
                         contexts: [String: BuildRequest.NamedContext] = [:]) throws -> BuildRequest {
        BuildRequest(contextDirectory: work + "/context", dockerfileText: dockerfile, platforms: try platforms.map { try Platform(parsing: $0) },
                     target: target, namedContexts: contexts, storeDirectory: work + "/store", scratchDirectory: work + "/scratch")
    }

    private func graphs(_ request: BuildRequest) throws -> [StageGraph] {
        let plan = try Builder.parse(request)
        let target = try Builder.targetIndex(plan, request: request)
        return try request.platforms.map { try StageGraph(plan: plan, platform: $0, target: target, request: request) }
    }

    func testNeededAndReferencedStages() throws {
        let request = try makeRequest("""
            FROM scratch AS unused
            RUN make
            FROM scratch AS lib
            COPY a /a
            FROM scratch AS tools
            FROM lib AS app
            COPY --from=tools /t /t
            """, target: "app")
        let graph = try XCTUnwrap(try graphs(request).first)
        XCTAssertEqual(graph.needed, [1, 2, 3])
        XCTAssertEqual(graph.referencedStages, [1, 2])
        XCTAssertNoThrow(try Builder.refuseRun(graph.plan, graphs: [graph], request: request), "the RUN is in a stage the target does not need")
    }

    func testRunCheckCoversEveryPlatform() throws {
        let dockerfile = """
            FROM scratch AS build-amd64
            COPY a /a
            FROM scratch AS build-ia64
            RUN make
            FROM build-$TARGETARCH
            """
        let one = try makeRequest(dockerfile)
        XCTAssertNoThrow(try Builder.refuseRun(try Builder.parse(one), graphs: try graphs(one), request: one))
        // ia64: qemu has no such target, so no host has an emulator registered for it.
        let both = try makeRequest(dockerfile, platforms: ["linux/amd64", "linux/ia64"])
        XCTAssertThrowsError(try Builder.refuseRun(try Builder.parse(both), graphs: try graphs(both), request: both)) { error in
            XCTAssertEqual((error as? BuildError)?.line, 4, "\(error)")
        }
    }

    func testAnUnexpandableBaseIsThePlannersError() throws {
        let request = try makeRequest("FROM ${BASE:?unset}\nRUN make\n")
        XCTAssertThrowsError(try graphs(request)) { error in
            let error = error as? BuildError
            XCTAssertEqual(error?.line, 1)
            XCTAssertTrue(error?.message.hasPrefix("cannot expand '${BASE:?unset}'") == true, "\(String(describing: error))")
        }
    }

    func testOnlyImagesWhoseFilesAreReadNeedLayers() throws {
        let base = BuildRequest.NamedContext.ociLayout(path: work + "/layout", reference: nil)
        func reads(_ dockerfile: String) throws -> (images: Int, read: Int) {
            let graph = try XCTUnwrap(try graphs(try makeRequest(dockerfile, contexts: ["base": base])).first)
            return (graph.images.count, graph.imagesReadAsFiles.count)
        }
        XCTAssertTrue(try reads("FROM base\nLABEL a=b\nCMD [\"/app\"]\n") == (1, 0), "a FROM that only changes the config reads no file")
        XCTAssertTrue(try reads("FROM base\nWORKDIR /app\n") == (1, 1))
        XCTAssertTrue(try reads("FROM base\nCOPY a /a\n") == (1, 1))
        XCTAssertTrue(try reads("FROM base AS b\nLABEL a=b\nFROM scratch\nCOPY --from=b /etc /etc\n") == (1, 1), "another stage reads it")
        XCTAssertTrue(try reads("FROM scratch\nCOPY --from=base /etc /etc\n") == (1, 1))
    }
}
