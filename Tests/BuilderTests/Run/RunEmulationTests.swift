@testable import Builder
import Foundation
import OCI
import TestSupport
import XCTest

/// RUN for linux/arm64 on an amd64 host: the sandbox execs the arm64 busybox and the kernel
/// starts qemu-aarch64 from its binfmt_misc registration (F flag: the emulator was opened at
/// registration, so the stage's root needs no qemu). Layers read back with bsdtar.
final class RunEmulationTests: XCTestCase {
    func testRunForArm64ExecutesTheArm64BinaryUnderTheRegisteredEmulator() async throws {
        try BusyboxPlatforms.require("linux/arm64")
        let (base, layout) = try await BusyboxPlatforms.layout(["linux/arm64"])
        _ = base
        let fixture = try BuildFixture()
        let image = try await fixture.build("""
            FROM base
            ARG TARGETPLATFORM
            ENV MARK=set-by-env
            RUN uname -m > /arch && echo hi > /f && echo "$TARGETPLATFORM $MARK" > /seen
            """, platforms: ["linux/arm64"], configure: BusyboxBase.configure(layout))
        let config = try image.config()
        XCTAssertEqual(config.architecture, "arm64")
        let layers = image.result.images[0].layers
        XCTAssertEqual(layers.count, 3, "the base's two layers and the RUN's")
        XCTAssertEqual(try image.bsdtarNames(2).sorted(), ["arch", "f", "seen"])
        XCTAssertEqual(try image.bsdtarText("arch", layer: 2), "aarch64\n", "uname -m under qemu-user")
        XCTAssertEqual(try image.bsdtarText("f", layer: 2), "hi\n")
        XCTAssertEqual(try image.bsdtarText("seen", layer: 2), "linux/arm64 set-by-env\n", "ARG TARGETPLATFORM and ENV reach the command")
        XCTAssertEqual(try elfMachine("bin/busybox", layer: 1, of: image), "b7 00", "the base's busybox is the arm64 one (EM_AARCH64)")
    }

    func testMultiPlatformBuildRunsEachPlatformsCommandAndGivesEachItsLayers() async throws {
        try BusyboxPlatforms.require("linux/arm64")
        let platforms = ["linux/amd64", "linux/arm64"]
        let (base, layout) = try await BusyboxPlatforms.layout(platforms)
        _ = base
        let fixture = try BuildFixture()
        let image = try await fixture.build("""
            FROM base
            ARG TARGETARCH
            RUN uname -m > /arch && echo hi > /f
            RUN echo "$TARGETARCH" > /targetarch
            """, platforms: platforms, configure: BusyboxBase.configure(layout))
        XCTAssertEqual(image.result.images.count, 2)
        var seen: [String: String] = [:]
        for index in 0..<2 {
            let architecture = try image.config(index).architecture
            let layers = image.result.images[index].layers
            XCTAssertEqual(layers.count, 4, "\(architecture): the base's two layers and one per RUN")
            XCTAssertEqual(try image.bsdtarNames(2, image: index).sorted(), ["arch", "f"])
            XCTAssertEqual(try image.bsdtarText("f", layer: 2, image: index), "hi\n")
            XCTAssertEqual(try image.bsdtarNames(3, image: index), ["targetarch"])
            XCTAssertEqual(try image.bsdtarText("targetarch", layer: 3, image: index), architecture + "\n")
            seen[architecture] = try image.bsdtarText("arch", layer: 2, image: index)
        }
        XCTAssertEqual(seen, ["amd64": "x86_64\n", "arm64": "aarch64\n"])
        XCTAssertNotEqual(image.result.images[0].layers[1].digest, image.result.images[1].layers[1].digest,
                          "each platform's base has its own busybox")
        XCTAssertEqual(image.result.images[0].layers[0].digest, image.result.images[1].layers[0].digest, "the common layer is shared")
        XCTAssertNotEqual(image.result.images[0].layers[2].digest, image.result.images[1].layers[2].digest,
                          "each platform's RUN layer holds its own output")
    }

    /// BuildKit's testPlatformArgsExplicit (dockerfile_test.go): a stage `FROM
    /// --platform=$BUILDPLATFORM` runs its RUN natively whatever the target (here one no host
    /// can run), and sees the target's TARGETPLATFORM and a TARGETOS build argument.
    func testPlatformArgsExplicit() async throws {
        let (base, layout) = try await BusyboxBase.layout()
        _ = base
        let fixture = try BuildFixture()
        let image = try await fixture.build("""
            FROM --platform=$BUILDPLATFORM base AS build
            ARG TARGETPLATFORM
            ARG TARGETOS
            RUN mkdir /out && echo -n $TARGETPLATFORM > /out/platform && echo -n $TARGETOS > /out/os
            FROM scratch
            COPY --from=build out .
            """, platforms: ["darwin/ppc64le"]) {
            BusyboxBase.configure(layout)(&$0)
            $0.buildArgs = ["TARGETOS": "freebsd"]
        }
        XCTAssertEqual(try image.text("platform"), "darwin/ppc64le")
        XCTAssertEqual(try image.text("os"), "freebsd")
    }

    /// The refusal through the real check of this host's binfmt_misc: qemu has no ia64 target,
    /// so nothing can be registered for it. It comes before any work (nothing stored) and names
    /// the platform, every RUN line and the fix; the unit test of a registration without the F
    /// flag is RunPlatformTests.
    func testAPlatformWithoutARegisteredEmulatorIsRefusedBeforeAnyWork() async throws {
        let fixture = try BuildFixture()
        let error = await fixture.failure("FROM scratch\nCOPY . /\nRUN echo hi\nRUN echo again\n", platforms: ["linux/amd64", "linux/ia64"])
        XCTAssertEqual(error?.description, "Dockerfile:3: RUN for linux/ia64 needs an emulator: no binfmt_misc handler with the F flag is registered for ia64 in /proc/sys/fs/binfmt_misc; install one with 'apt-get install qemu-user-static binfmt-support' (or 'docker run --privileged --rm tonistiigi/binfmt --install ia64')"
                       + ". The target needs 2 RUN instructions for it:\n  Dockerfile:3: RUN echo hi\n  Dockerfile:4: RUN echo again\n"
                       + "Or produce those files before the build (e.g. cross-compile per TARGETARCH) and COPY them; recipes: docs/building-without-run.md")
        XCTAssertFalse(FileManager.default.fileExists(atPath: fixture.directory.path + "/store"), "nothing stored: the refusal comes before any work")
    }

    /// e_machine of an ELF file in a layer (bytes 18-19 of its header), as od prints them.
    private func elfMachine(_ name: String, layer: Int, of image: BuiltImage) throws -> String {
        let blob = image.store.blobURL(image.result.images[0].layers[layer].digest).path
        return try Run.mustShell("bsdtar -xOf \(Run.quoted(blob)) \(Run.quoted(name)) | od -An -tx1 -j18 -N2")
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// The refusal's wording per cause, against binfmt_misc directories written as the kernel
/// shows them (the parameter RunPlatform.problem has for this).
final class RunPlatformMessageTests: XCTestCase {
    func testTheRefusalNamesTheCauseAndTheFix() throws {
        let directory = try TemporaryDirectory(prefix: "slipway-binfmt")
        let arm64 = try Platform(parsing: "linux/arm64")
        XCTAssertEqual(RunPlatform.problem(arm64, binfmt: directory.path),
                       "RUN for linux/arm64 needs an emulator: binfmt_misc is not mounted on \(directory.path); mount it as root ('mount -t binfmt_misc binfmt_misc \(directory.path)'), then register one for aarch64 with the F flag: 'apt-get install qemu-user-static binfmt-support' (or 'docker run --privileged --rm tonistiigi/binfmt --install arm64')",
                       "an empty directory: binfmt_misc is not mounted there")
        try directory.write(["register": "", "status": "enabled\n",
                             "qemu-aarch64": "enabled\ninterpreter /usr/bin/qemu-aarch64\nflags: OC\noffset 0\nmagic 7f454c46\n"])
        XCTAssertEqual(RunPlatform.problem(arm64, binfmt: directory.path),
                       "RUN for linux/arm64 needs an emulator: no binfmt_misc handler with the F flag is registered for aarch64 in \(directory.path); install one with 'apt-get install qemu-user-static binfmt-support' (or 'docker run --privileged --rm tonistiigi/binfmt --install arm64')",
                       "registered without F: the emulator could not be opened from the sandbox's root")
        try directory.write(["qemu-loongarch64": "enabled\ninterpreter /usr/libexec/qemu-binfmt/loongarch64-binfmt-P\nflags: PF\noffset 0\n",
                             "qemu-mipsel": "enabled\ninterpreter /usr/libexec/qemu-binfmt/mipsel-binfmt-P\nflags: PF\noffset 0\n"])
        XCTAssertNil(RunPlatform.problem(try Platform(parsing: "linux/loong64"), binfmt: directory.path), "Go's loong64 is qemu's loongarch64")
        XCTAssertNil(RunPlatform.problem(try Platform(parsing: "linux/mipsle"), binfmt: directory.path), "Go's mipsle is qemu's mipsel")
    }
}
