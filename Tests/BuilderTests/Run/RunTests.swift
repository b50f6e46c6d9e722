@testable import Builder
import Foundation
import HTTP
import Layers
import OCI
import TestSupport
import XCTest

/// RUN in the sandbox, on a busybox base made in the test; layers read back with bsdtar and
/// the final file system with umoci.
final class RunTests: XCTestCase {
    func testRunChangeSetBecomesALayerWithWhiteoutsOpaqueDirsLinksAndOwners() async throws {
        let (base, layout) = try await BusyboxBase.layout()
        _ = base
        let fixture = try BuildFixture()
        let image = try await fixture.build("""
            FROM base
            RUN echo new > /new.txt && echo changed >> /data/edit && rm -rf /data/gone \\
                && rm -rf /data/replace && mkdir /data/replace && echo n > /data/replace/new \\
                && chmod 0600 /new.txt && chown 1000:1000 /new.txt && ln /new.txt /data/hard && ln -s ../new.txt /data/sym \\
                && rm /data/keep/a && mkdir -m 0750 /made
            """, configure: BusyboxBase.configure(layout))
        let layers = image.result.images[0].layers
        XCTAssertEqual(layers.count, 2, "the base's layer and the RUN's")
        let names = try image.bsdtarNames(1)
        XCTAssertEqual(names, names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }, "entries sorted bytewise")
        for expected in ["new.txt", "data/edit", "data/.wh.gone", "data/replace/", "data/replace/.wh..wh..opq", "data/replace/new",
                         "data/hard", "data/sym", "data/keep/.wh.a", "made/"] {
            XCTAssertTrue(names.contains(expected), "\(expected) missing from the RUN layer: \(names)")
        }
        for unexpected in ["bin/busybox", "data/keep/b", "data/replace/old", "data/gone/x", "proc/", "dev/", "etc/hosts", "etc/resolv.conf"] {
            XCTAssertFalse(names.contains(unexpected), "\(unexpected) must not be in the RUN layer: \(names)")
        }
        let listing = try image.bsdtarListing(1)
        func line(_ name: String) -> String { listing.first { $0.hasSuffix(" " + name) || $0.contains(" " + name + " ") } ?? "" }
        XCTAssertTrue(line("data/hard").hasPrefix("-rw-------") && line("data/hard").split(separator: " ").dropFirst(2).prefix(2) == ["1000", "1000"], "chmod and chown: \(line("data/hard"))")
        XCTAssertTrue(line("new.txt").hasPrefix("hrw-------") && line("new.txt").contains("new.txt link to data/hard"),
                      "a hard link kept as a link: \(listing)")
        XCTAssertTrue(line("data/sym").contains("-> ../new.txt"), line("data/sym"))
        XCTAssertTrue(line("made/").hasPrefix("drwxr-x---"), line("made/"))
        XCTAssertTrue(listing.allSatisfy { $0.contains(" Jan  1  1970 ") }, "mtimes rewritten to the epoch: \(listing)")

        let rootfs = try image.umociRootfs(fixture.directory.path)
        XCTAssertEqual(try String(contentsOfFile: rootfs + "/new.txt", encoding: .utf8), "new\n")
        XCTAssertEqual(try String(contentsOfFile: rootfs + "/data/edit", encoding: .utf8), "original\nchanged\n")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: rootfs + "/data/replace"), ["new"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: rootfs + "/data/keep"), ["b"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: rootfs + "/data/gone"))
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: rootfs + "/data/sym"), "../new.txt")
        let history = try image.config().history ?? []
        XCTAssertEqual(history.last?.createdBy?.hasPrefix("RUN /bin/sh -c echo new > /new.txt"), true, "\(history)")
        XCTAssertEqual(history.last?.createdBy?.hasSuffix(" # buildkit"), true)
    }

    func testExecFormShellFormShellEnvArgWorkdirAndALaterRunSeesTheEarlierOnes() async throws {
        let (base, layout) = try await BusyboxBase.layout()
        _ = base
        let fixture = try BuildFixture(files: ["copied.txt": "copied\n"])
        let image = try await fixture.build("""
            FROM base
            ARG GREETING=hello
            ENV WHO=world
            WORKDIR /work
            RUN ["/bin/sh", "-c", "echo exec-form > exec.txt"]
            RUN echo "$GREETING $WHO $(pwd)" > shell.txt
            COPY copied.txt /work/
            SHELL ["/bin/busybox", "sh", "-c"]
            RUN cat exec.txt shell.txt copied.txt > all.txt && hostname > host.txt
            RUN ["echo", "no shell for exec form: $WHO"]
            """, configure: BusyboxBase.configure(layout))
        XCTAssertEqual(try image.text("work/all.txt"), "exec-form\nhello world /work\ncopied\n")
        XCTAssertEqual(try image.text("work/host.txt"), "buildkitsandbox\n")
        let history = try image.config().history ?? []
        XCTAssertTrue(history.contains { $0.createdBy == "RUN /bin/busybox sh -c cat exec.txt shell.txt copied.txt > all.txt && hostname > host.txt # buildkit" },
                      "SHELL is used for the shell form: \(history.map { $0.createdBy ?? "" })")
        XCTAssertEqual(history.last?.emptyLayer, true, "a RUN that changes nothing adds no layer")
    }

    func testUserNonRootRunsAsThatUser() async throws {
        let (base, layout) = try await BusyboxBase.layout()
        _ = base
        let fixture = try BuildFixture()
        let image = try await fixture.build("""
            FROM base
            USER app
            RUN id -u > /tmp/uid && id -g >> /tmp/uid && touch /tmp/mine
            """, configure: BusyboxBase.configure(layout))
        XCTAssertEqual(try image.text("tmp/uid"), "1000\n1000\n")
        XCTAssertEqual(try image.owner("tmp/mine"), [0o644, 1000, 1000])
        let unknown = await fixture.failure("FROM base\nUSER nobody-here\nRUN true\n", configure: BusyboxBase.configure(layout))
        XCTAssertEqual(unknown?.description, "Dockerfile:3: unable to find user nobody-here: no matching entries in passwd file")
    }

    func testAFailingCommandFailsTheBuildWithItsExitCodeAndLastLines() async throws {
        let (base, layout) = try await BusyboxBase.layout()
        _ = base
        let fixture = try BuildFixture()
        let lines = Locked<[String]>([])
        let error = await fixture.failure("FROM base\nRUN echo first; echo boom >&2; exit 3\n") { request in
            BusyboxBase.configure(layout)(&request)
            request.progress = { event in
                if case .runOutput(_, _, let line, let text) = event { lines.withLock { $0.append("\(line): \(text)") } }
            }
        }
        XCTAssertEqual(error?.description, "Dockerfile:2: RUN /bin/sh -c \"echo first; echo boom >&2; exit 3\" exited with 3; its last output:\n  first\n  boom")
        XCTAssertEqual(lines.withLock { $0 }, ["2: first", "2: boom"], "stdout and stderr streamed to progress")
        let missing = await fixture.failure("FROM base\nRUN [\"no-such-tool\"]\n", configure: BusyboxBase.configure(layout))
        XCTAssertEqual(missing?.description, "Dockerfile:2: executable file not found in $PATH: \"no-such-tool\"")
    }

    func testNetworkNoneRefusesAConnectionTheDefaultNetworkMakes() async throws {
        let (base, layout) = try await BusyboxBase.layout()
        _ = base
        let listener = try TCPListener()
        defer { listener.close() }
        let fixture = try BuildFixture()
        let image = try await fixture.build("""
            FROM base
            RUN nc -w 3 127.0.0.1 \(listener.port) </dev/null && echo connected > /default.txt
            RUN --network=none if nc -w 3 127.0.0.1 \(listener.port) </dev/null; then echo connected; else echo refused; fi > /none.txt
            """, configure: BusyboxBase.configure(layout))
        XCTAssertEqual(try image.text("default.txt"), "connected\n")
        XCTAssertEqual(try image.text("none.txt"), "refused\n")
        let host = await fixture.failure("FROM base\nRUN --network=host true\n", configure: BusyboxBase.configure(layout))
        XCTAssertEqual(host?.description, "Dockerfile:2: network mode \"host\" needs the network.host entitlement: pass --allow network.host")
        let allowed = try await fixture.build("FROM base\nRUN --network=host nc -w 3 127.0.0.1 \(listener.port) </dev/null && touch /ok\n") {
            BusyboxBase.configure(layout)(&$0)
            $0.runSettings.allow = ["network.host"]
        }
        XCTAssertNotNil(try allowed.files()["ok"])
        // BuildKit's testRunGlobalNetwork: the command line's --network applies to every RUN.
        let global = try await fixture.build("FROM base\nRUN if nc -w 3 127.0.0.1 \(listener.port) </dev/null; then echo connected; else echo refused; fi > /global.txt\n") {
            BusyboxBase.configure(layout)(&$0)
            $0.runSettings.network = "none"
        }
        XCTAssertEqual(try global.text("global.txt"), "refused\n")
        let insecure = await fixture.failure("FROM base\nRUN --security=insecure true\n", configure: BusyboxBase.configure(layout))
        XCTAssertEqual(insecure?.description.hasPrefix("Dockerfile:2: RUN --security=insecure needs the security.insecure entitlement"), true)
    }

    /// BuildKit's testRunBasicHeredoc and the shell-heredoc half of testRunComplexHeredoc.
    func testRunHeredocs() async throws {
        let (base, layout) = try await BusyboxBase.layout()
        _ = base
        let fixture = try BuildFixture()
        let image = try await fixture.build("""
            FROM base
            RUN <<EOF
            echo "i am" >> /dest
            echo "a heredoc" >> /dest
            EOF
            RUN cat <<A > /second && cat <<B >> /second
            first
            A
            second
            B
            """, configure: BusyboxBase.configure(layout))
        XCTAssertEqual(try image.text("dest"), "i am\na heredoc\n")
        XCTAssertEqual(try image.text("second"), "first\nsecond\n")
    }

    func testTheSameRunInTwoDirectoriesGivesTheSameLayerDigest() async throws {
        let (base, layout) = try await BusyboxBase.layout()
        _ = base
        let dockerfile = "FROM base\nRUN mkdir -p /out/d && seq 1 100 > /out/d/n && ln -s d/n /out/link && chmod 0700 /out/d && rm /data/edit\n"
        let first = try await BuildFixture().build(dockerfile, configure: BusyboxBase.configure(layout))
        let second = try await BuildFixture().build(dockerfile, configure: BusyboxBase.configure(layout))
        XCTAssertEqual(first.result.images[0].layers.last?.digest, second.result.images[0].layers.last?.digest)
        XCTAssertEqual(first.result.root.digest, second.result.root.digest)
    }
}

/// The emulator check against binfmt_misc entries written as the kernel shows them.
final class RunPlatformTests: XCTestCase {
    func testOnlyAnEnabledHandlerWithTheFFlagCounts() throws {
        let directory = try TemporaryDirectory(prefix: "slipway-binfmt")
        let arm64 = try Platform(parsing: "linux/arm64")
        try directory.write(["status": "enabled\n",
                             "qemu-aarch64": "enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: POC\noffset 0\nmagic 7f454c46\n"])
        XCTAssertNotNil(RunPlatform.problem(arm64, binfmt: directory.path), "without F the emulator is not reachable from the sandbox's root")
        try directory.write(["qemu-aarch64": "enabled\ninterpreter /usr/bin/qemu-aarch64-static\nflags: F\noffset 0\nmagic 7f454c46\n"])
        XCTAssertNil(RunPlatform.problem(arm64, binfmt: directory.path))
        try directory.write(["qemu-aarch64": "disabled\ninterpreter /usr/bin/qemu-aarch64-static\nflags: F\n"])
        XCTAssertNotNil(RunPlatform.problem(arm64, binfmt: directory.path))
        XCTAssertNil(RunPlatform.problem(try Platform(parsing: "linux/amd64"), binfmt: directory.path), "the host's platform runs natively")
        XCTAssertEqual(RunPlatform.problem(try Platform(parsing: "windows/amd64"), binfmt: directory.path),
                       "RUN for windows/amd64 cannot execute here: slipway runs only linux binaries")
    }
}
