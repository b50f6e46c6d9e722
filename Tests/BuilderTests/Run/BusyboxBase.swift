import Builder
import Foundation
import TestSupport
import XCTest

/// A base image made in the test from Debian's `busybox-static` binary: /bin/busybox, a
/// symlink per applet the tests use, /etc/passwd with root and `app` (1000), /tmp (1777).
/// Built by slipway's COPY and exported as an OCI layout that builds reach through
/// `--build-context base=oci-layout://…`.
enum BusyboxBase {
    static let binary = "/bin/busybox"
    static let applets = ["sh", "echo", "cat", "ls", "rm", "mkdir", "chmod", "chown", "ln", "id", "touch", "pwd", "nc",
                          "sleep", "seq", "true", "false", "wc", "stat", "printf", "test", "env", "mv", "cp", "hostname", "tr", "head",
                          "awk", "grep", "mount", "mkfifo", "mknod"]

    /// The layout's fixture (keep it alive) and path; throws a clear error without busybox-static.
    static func layout() async throws -> (BuildFixture, String) {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw TestError("RUN tests need Debian's busybox-static (\(binary)); scripts/setup installs it")
        }
        let fixture = try BuildFixture(files: [
            "rootfs/etc/passwd": "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n",
            "rootfs/etc/group": "root:x:0:\napp:x:1000:\n",
            "rootfs/data/edit": "original\n",
            "rootfs/data/keep/a": "a\n",
            "rootfs/data/keep/b": "b\n",
            "rootfs/data/gone/x": "x\n",
            "rootfs/data/replace/old": "old\n",
        ])
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: binary)))
        let path = try fixture.write("rootfs/bin/busybox", bytes)
        chmod(path, 0o755)
        for applet in applets {
            try FileManager.default.createSymbolicLink(atPath: fixture.context + "/rootfs/bin/" + applet, withDestinationPath: "busybox")
        }
        try FileManager.default.createDirectory(atPath: fixture.context + "/rootfs/tmp", withIntermediateDirectories: true)
        chmod(fixture.context + "/rootfs/tmp", 0o1777)
        let image = try await fixture.build("FROM scratch\nCOPY rootfs/ /\n")
        let layout = fixture.directory.path + "/layout"
        try Exporter.export(image.result, to: .oci(destination: layout, tar: false), tags: [], sourceDateEpoch: 0)
        return (fixture, layout)
    }

    static func configure(_ layout: String) -> (inout BuildRequest) -> Void {
        { $0.namedContexts = ["base": .ociLayout(path: layout, reference: nil)] }
    }
}

extension BuiltImage {
    /// `bsdtar -tv` of a layer (an independent reader): one line per entry.
    func bsdtarListing(_ index: Int, image: Int = 0) throws -> [String] {
        let blob = store.blobURL(result.images[image].layers[index].digest).path
        let listing = try Run.tool("bsdtar", ["-tvf", blob, "--numeric-owner"])
        return listing.split(separator: "\n").map(String.init)
    }

    /// bsdtar's names of a layer's entries, in the stream's order.
    func bsdtarNames(_ index: Int, image: Int = 0) throws -> [String] {
        let blob = store.blobURL(result.images[image].layers[index].digest).path
        return try Run.tool("bsdtar", ["-tf", blob]).split(separator: "\n").map(String.init)
    }

    /// The final root file system as umoci (which applies whiteouts) unpacks it.
    func umociRootfs(_ directory: String) throws -> String {
        let layout = directory + "/umoci-layout"
        try Exporter.export(result, to: .oci(destination: layout, tar: false), tags: [], sourceDateEpoch: 0)
        return try UmociImage.unpack("oci:" + layout, layout: directory + "/umoci-copy", bundle: directory + "/umoci-bundle")
    }
}
