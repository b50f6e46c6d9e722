import Foundation
import TestSupport
import XCTest

/// RUN as an unprivileged user (`nobody` through setpriv): the sandbox maps root inside to
/// the caller in a new user namespace, with no setuid helper. CI runs the suite as root, so
/// this is where the rootless path is exercised.
final class RunRootlessTests: XCTestCase {
    func testRunAsNobodyIsRootInsideAndFilesAreOwnedByRootInTheLayer() throws {
        guard geteuid() == 0 else { throw XCTSkip("switching to nobody needs the suite to run as root (as CI does)") }
        let root = try Run.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let base = root + "/base"
        try FileManager.default.createDirectory(atPath: base + "/bin", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: base + "/tmp", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: base + "/bin/busybox")
        for applet in ["sh", "id", "touch", "cat"] {
            try FileManager.default.createSymbolicLink(atPath: base + "/bin/" + applet, withDestinationPath: "busybox")
        }
        try "FROM scratch\nCOPY . /\n".write(toFile: base + "/Dockerfile", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: root + "/ctx", withIntermediateDirectories: true)
        try "FROM base\nRUN id > /id.txt && touch /tmp/made\n".write(toFile: root + "/ctx/Dockerfile", atomically: true, encoding: .utf8)
        try Run.slipway(["build", "--cache-dir", root + "/cache-root", "-o", "type=oci,dest=\(root)/layout,tar=false", base])
        _ = try Run.command("chmod", ["-R", "a+rwX", root])
        let output = try Run.command("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "env", "HOME=\(root)", "TMPDIR=\(root)",
                                                 Run.slipway, "build", "--progress", "plain", "--cache-dir", root + "/cache-nobody",
                                                 "--build-context", "base=oci-layout://\(root)/layout",
                                                 "-o", "type=oci,dest=\(root)/out,tar=false", root + "/ctx"])
        XCTAssertEqual(output.status, 0, output.stderr)
        let rootfs = try UmociImage.unpack("oci:\(root)/out", layout: root + "/copy", bundle: root + "/bundle")
        XCTAssertEqual(try String(contentsOfFile: rootfs + "/id.txt", encoding: .utf8), "uid=0 gid=0\n", "root inside the user namespace")
        let layers = try Run.tool("bsdtar", ["-tvf", try RunRootlessTests.lastLayer(root + "/out"), "--numeric-owner"])
        XCTAssertTrue(layers.contains("0 0") && layers.contains("tmp/made"), "files made inside are root's in the layer: \(layers)")
    }

    /// The blob path of the first manifest's last layer in an OCI layout.
    static func lastLayer(_ layout: String) throws -> String {
        let index = try Run.json(try String(contentsOfFile: layout + "/index.json", encoding: .utf8))
        guard let manifest = (index["manifests"] as? [[String: Any]])?.first?["digest"] as? String else { throw TestError("no manifest") }
        let body = try Run.json(try String(contentsOfFile: layout + "/blobs/sha256/" + manifest.dropFirst(7), encoding: .utf8))
        guard let digest = (body["layers"] as? [[String: Any]])?.last?["digest"] as? String else { throw TestError("no layer") }
        return layout + "/blobs/sha256/" + digest.dropFirst(7)
    }
}
