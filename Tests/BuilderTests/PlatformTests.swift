import Builder
import Foundation
import Layers
import OCI
import TestSupport
import XCTest

/// Several platforms, the automatic platform ARGs, annotations and reproducible digests.
final class PlatformTests: XCTestCase {
    func testTwoPlatformsMakeAnIndexAndShareTheirIdenticalLayer() async throws {
        let fixture = try BuildFixture(files: ["shared.txt": "s", "amd64.txt": "A", "arm64.txt": "B"])
        let image = try await fixture.build("FROM scratch\nARG TARGETARCH\nCOPY shared.txt /shared.txt\nCOPY $TARGETARCH.txt /arch.txt\n",
                                            platforms: ["linux/amd64", "linux/arm64"])
        XCTAssertEqual(image.result.root.mediaType, MediaType.imageIndex)
        let index = try CanonicalJSON.decode(Index.self, from: image.store.read(image.result.root.digest), what: "index")
        XCTAssertEqual(index.manifests.map(\.digest), image.result.images.map(\.manifest.digest))
        XCTAssertEqual(index.manifests.compactMap { $0.platform?.description }, ["linux/amd64", "linux/arm64"])
        XCTAssertEqual(try [image.config(0).architecture, image.config(1).architecture], ["amd64", "arm64"])
        XCTAssertEqual(try [image.text("arch.txt", image: 0), image.text("arch.txt", image: 1)], ["A", "B"])
        let layers = image.result.images.map { $0.layers.map(\.digest) }
        XCTAssertEqual(layers[0][0], layers[1][0], "the same COPY on both platforms is one blob")
        XCTAssertNotEqual(layers[0][1], layers[1][1])
    }

    func testPlatformArgsAreInScopeOnceDeclared() async throws {
        let image = try await BuildFixture().build("""
            FROM scratch
            ENV BEFORE=[$TARGETARCH]
            ARG TARGETPLATFORM
            ARG TARGETOS
            ARG TARGETARCH
            ARG TARGETVARIANT
            ARG BUILDPLATFORM
            ENV P=$TARGETPLATFORM O=$TARGETOS A=$TARGETARCH V=$TARGETVARIANT B=$BUILDPLATFORM
            """, platforms: ["linux/arm/v7"])
        let env = try image.container().env ?? []
        XCTAssertEqual(Array(env.dropFirst()), ["BEFORE=[]", "P=linux/arm/v7", "O=linux", "A=arm", "V=v7", "B=\(Platform.host)"])
        let config = try image.config()
        XCTAssertEqual([config.architecture, config.variant], ["arm", "v7"])
    }

    func testGlobalArgsChooseTheBaseAndFromPlatformSetsTheConfig() async throws {
        let fixture = try BuildFixture(files: ["a": "a", "b": "b"])
        let dockerfile = """
            ARG STAGE=one
            ARG PLATFORM=linux/arm64
            FROM scratch AS one
            COPY a /a
            FROM scratch AS two
            COPY b /b
            FROM $STAGE AS chosen
            FROM --platform=$PLATFORM scratch AS pinned
            COPY a /a
            """
        let chosen = try await fixture.build(dockerfile) { $0.target = "chosen"; $0.buildArgs = ["STAGE": "two"] }
        XCTAssertEqual(Set(try chosen.files().keys), ["b"], "FROM $STAGE with --build-arg STAGE=two")
        let pinned = try await fixture.build(dockerfile, platforms: ["linux/amd64"])
        XCTAssertEqual([try pinned.config().os, try pinned.config().architecture], ["linux", "arm64"], "FROM --platform decides the stage's platform")
        XCTAssertEqual(pinned.result.images[0].manifest.platform?.architecture, "arm64")
    }

    func testSameInputsGiveTheSameDigestsAndTheEpochChangesThem() async throws {
        let files = ["a.txt": "a", "dir/b.txt": "b"]
        let dockerfile = "FROM scratch\nCOPY . /app\nENV X=1\n"
        let one = try await BuildFixture(files: files).build(dockerfile, platforms: ["linux/amd64", "linux/arm64"])
        let two = try await BuildFixture(files: files).build(dockerfile, platforms: ["linux/amd64", "linux/arm64"]) { $0.jobs = 4 }
        XCTAssertEqual(one.result.root.digest, two.result.root.digest, "another context directory and store, more jobs: same image")
        let later = try await BuildFixture(files: files).build(dockerfile, platforms: ["linux/amd64", "linux/arm64"]) {
            $0.sourceDateEpoch = 1_700_000_000
        }
        XCTAssertNotEqual(later.result.root.digest, one.result.root.digest)
        XCTAssertEqual(try later.config().created, "2023-11-14T22:13:20Z")
        XCTAssertEqual(try one.config().created, "1970-01-01T00:00:00Z")
    }

    func testAnnotationsGoWhereTheirPrefixSays() async throws {
        let fixture = try BuildFixture()
        let image = try await fixture.build("FROM scratch\n", platforms: ["linux/amd64", "linux/arm64"]) {
            $0.annotations = ["index:org.example.i": "1", "manifest:org.example.m": "2", "manifest[linux/arm64]:org.example.arm": "3",
                              "org.example.plain": "4"]
        }
        let index = try CanonicalJSON.decode(Index.self, from: image.store.read(image.result.root.digest), what: "index")
        XCTAssertEqual(index.annotations, ["org.example.i": "1"])
        XCTAssertEqual(try image.manifest(0).annotations, ["org.example.m": "2", "org.example.plain": "4"])
        XCTAssertEqual(try image.manifest(1).annotations, ["org.example.m": "2", "org.example.plain": "4", "org.example.arm": "3"])
        let refused = await fixture.failure("FROM scratch\n") { $0.annotations = ["index-descriptor:x": "1"] }
        XCTAssertEqual(refused?.description, "--annotation 'index-descriptor:x': descriptor annotations are not supported; use index: or manifest:")
    }
}
