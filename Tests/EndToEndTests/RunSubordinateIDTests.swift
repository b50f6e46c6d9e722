import Foundation
import TestSupport
import XCTest

/// RUN as an unprivileged user that has subordinate IDs (`slipway-subids`, made by
/// scripts/setup with `400000:65536` in /etc/subuid and /etc/subgid): slipway re-executes
/// itself in a user namespace that newuidmap/newgidmap map (0 → the user, 1…65536 → the
/// range), so chown inside RUN works and the layer records the IDs as seen inside. A user
/// without them (`nobody`) keeps the one-ID sandbox, and a failing chown says how to fix it.
final class RunSubordinateIDTests: XCTestCase {
    static let user = "slipway-subids"

    func testChownInsideRunWorksWithSubordinateIDsAndTheLayerHasTheIDsSeenInside() throws {
        let (root, account) = try prepare()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try """
            FROM base
            RUN touch /f /g && mkdir /d && chown 1000:1000 /f && chown 0:0 /g && chown 123:456 /d \\
                && stat -c %u:%g /owned > /owned-seen && cat /proc/self/uid_map > /uid-map
            RUN chown 7:8 /owned && echo later > /d/later
            """.write(toFile: root + "/ctx/Dockerfile", atomically: true, encoding: .utf8)
        let output = try build(as: account, root: root)
        XCTAssertEqual(output.status, 0, output.stderr)
        let rootfs = try UmociImage.unpack("oci:\(root)/out", layout: root + "/copy", bundle: root + "/bundle")
        XCTAssertEqual(try String(contentsOfFile: rootfs + "/owned-seen", encoding: .utf8), "1000:1000\n",
                       "a base file's owner (COPY --chown) is seen inside")
        let map = try String(contentsOfFile: rootfs + "/uid-map", encoding: .utf8)
            .split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
        XCTAssertEqual(map, ["0 \(account.uid) 1", "1 400000 65536"], "0 is the user, 1… the subordinate range")
        let layout = root + "/out"
        let index = try Run.json(try String(contentsOfFile: layout + "/index.json", encoding: .utf8))
        let manifest = ((index["manifests"] as? [[String: Any]])?.first?["digest"] as? String ?? "").dropFirst(7)
        let body = try Run.json(try String(contentsOfFile: layout + "/blobs/sha256/" + manifest, encoding: .utf8))
        let layers = (body["layers"] as? [[String: Any]] ?? []).compactMap { ($0["digest"] as? String)?.dropFirst(7) }
        XCTAssertEqual(layers.count, 4, "the base's two COPY layers and the two RUNs'")
        guard layers.count == 4 else { return }
        func listing(_ digest: Substring) throws -> [String: String] {
            let lines = try Run.tool("bsdtar", ["-tvf", layout + "/blobs/sha256/" + digest, "--numeric-owner"]).split(separator: "\n")
            var owners: [String: String] = [:]
            for line in lines {
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                guard fields.count >= 9 else { continue }
                owners[String(fields[8])] = "\(fields[2]):\(fields[3])"
            }
            return owners
        }
        let first = try listing(layers[2])
        XCTAssertEqual(first["f"], "1000:1000", "\(first)")
        XCTAssertEqual(first["g"], "0:0", "\(first)")
        XCTAssertEqual(first["d/"], "123:456", "\(first)")
        let second = try listing(layers[3])
        XCTAssertEqual(second["owned"], "7:8", "\(second)")
        XCTAssertEqual(second["d/"], "123:456", "a parent keeps its owner: \(second)")
        XCTAssertEqual(second["d/later"], "0:0", "\(second)")
        // Everything slipway wrote outside the namespace is the user's own.
        var info = stat()
        XCTAssertEqual(lstat(layout + "/index.json", &info), 0)
        XCTAssertEqual(info.st_uid, account.uid)
    }

    func testWithoutSubordinateIDsAFailingChownSaysHowToGetThem() throws {
        let (root, _) = try prepare()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try "FROM base\nRUN touch /f && chown 1000:1000 /f\n".write(toFile: root + "/ctx/Dockerfile", atomically: true, encoding: .utf8)
        let output = try build(as: (65534, 65534), root: root)
        XCTAssertNotEqual(output.status, 0)
        XCTAssertTrue(output.stderr.contains("exited with 1"), output.stderr)
        XCTAssertTrue(output.stderr.contains("/etc/subuid and /etc/subgid") && output.stderr.contains("usermod --add-subuids")
                      && output.stderr.contains("uidmap"), output.stderr)
    }

    /// A busybox base (with a file owned by 1000) as an OCI layout, built as root, and the
    /// test user's IDs; fails (not skips) when scripts/setup has not made the user.
    private func prepare() throws -> (String, (uid: uid_t, gid: gid_t)) {
        guard geteuid() == 0 else { throw XCTSkip("switching users needs the suite to run as root (as CI does)") }
        guard let entry = getpwnam(Self.user) else { throw TestError("no user \(Self.user): run scripts/setup (it makes it with subordinate IDs)") }
        let account = (uid: entry.pointee.pw_uid, gid: entry.pointee.pw_gid)
        for file in ["/etc/subuid", "/etc/subgid"] {
            guard (try? String(contentsOfFile: file, encoding: .utf8))?.contains("\(Self.user):400000:65536") == true else {
                throw TestError("\(file) has no \(Self.user):400000:65536 line: run scripts/setup")
            }
        }
        let root = try Run.temporaryDirectory()
        let base = root + "/base"
        try FileManager.default.createDirectory(atPath: base + "/bin", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: base + "/tmp", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: base + "/bin/busybox")
        for applet in ["sh", "touch", "chown", "mkdir", "stat", "cat", "echo"] {
            try FileManager.default.createSymbolicLink(atPath: base + "/bin/" + applet, withDestinationPath: "busybox")
        }
        try "mine\n".write(toFile: root + "/owned", atomically: true, encoding: .utf8)
        try "FROM scratch\nCOPY base/ /\nCOPY --chown=1000:1000 owned /owned\n".write(toFile: root + "/Dockerfile", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: root + "/ctx", withIntermediateDirectories: true)
        try Run.slipway(["build", "--cache-dir", root + "/cache-root", "-o", "type=oci,dest=\(root)/layout,tar=false", root])
        _ = try Run.command("chmod", ["-R", "a+rwX", root])
        return (root, account)
    }

    private func build(as account: (uid: uid_t, gid: gid_t), root: String) throws -> Run.Output {
        try Run.command("setpriv", ["--reuid=\(account.uid)", "--regid=\(account.gid)", "--clear-groups", "env", "HOME=\(root)", "TMPDIR=\(root)",
                                    Run.slipway, "build", "--progress", "plain", "--cache-dir", root + "/cache-\(account.uid)",
                                    "--build-context", "base=oci-layout://\(root)/layout",
                                    "-o", "type=oci,dest=\(root)/out,tar=false", root + "/ctx"])
    }
}
