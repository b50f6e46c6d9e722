@testable import Builder
import Foundation
import TestSupport
import XCTest

/// FIFOs, device nodes and xattrs made by a RUN reach its layer (read back with bsdtar, and
/// the PAX records with Python's tarfile); sockets do not, as in tar and BuildKit. Busybox has
/// no setfattr or setcap, so a tiny static helper compiled here sets the xattrs from inside
/// the RUN (and binds the socket).
final class RunSpecialFileTests: XCTestCase {
    static let helperSource = """
        #include <stdio.h>
        #include <string.h>
        #include <sys/socket.h>
        #include <sys/un.h>
        #include <sys/xattr.h>
        int main(int argc, char **argv) {
            if (argc == 3 && strcmp(argv[1], "socket") == 0) {
                int s = socket(AF_UNIX, SOCK_STREAM, 0);
                struct sockaddr_un address;
                memset(&address, 0, sizeof address);
                address.sun_family = AF_UNIX;
                strncpy(address.sun_path, argv[2], sizeof address.sun_path - 1);
                if (bind(s, (struct sockaddr *)&address, sizeof address) != 0) { perror("bind"); return 1; }
                return 0;
            }
            if (argc == 5 && strcmp(argv[1], "setxattr") == 0) {
                unsigned char value[256];
                size_t n = strlen(argv[4]) / 2;
                for (size_t i = 0; i < n && i < sizeof value; i++) sscanf(argv[4] + 2 * i, "%2hhx", &value[i]);
                if (lsetxattr(argv[2], argv[3], value, n, 0) != 0) { perror("setxattr"); return 1; }
                return 0;
            }
            return 2;
        }
        """
    /// VFS_CAP_REVISION_2 with the effective flag, cap_net_bind_service (bit 10) permitted.
    static let capability = "0100000200040000000000000000000000000000"

    func testFifosDevicesAndXattrsAreCarriedAndSocketsAreNot() async throws {
        guard geteuid() == 0 else { throw XCTSkip("device nodes and security.capability need root (as CI runs the suite)") }
        let (base, layout) = try await BusyboxBase.layout()
        _ = base
        let fixture = try BuildFixture()
        let source = try fixture.write("helper.c", Array(Self.helperSource.utf8))
        let helper = fixture.context + "/xhelper"
        let compiled = try Run.command("cc", ["-static", "-O1", "-o", helper, source])
        XCTAssertEqual(compiled.status, 0, "compiling the helper (gcc, libc6-dev): \(compiled.stderr)")
        let image = try await fixture.build("""
            FROM base
            COPY xhelper /bin/xhelper
            RUN mkdir /special && mkfifo -m 0640 /special/pipe && mknod /special/null c 1 3 && mknod /special/loop b 7 0 \\
                && xhelper socket /special/sock && test -S /special/sock \\
                && echo tool > /special/tool && xhelper setxattr /special/tool security.capability \(Self.capability) \\
                && xhelper setxattr /special/tool user.note 6869 && xhelper setxattr /special user.dir 01ff
            """, configure: BusyboxBase.configure(layout))
        let layer = image.result.images[0].layers.count - 1
        let listing = try image.bsdtarListing(layer)
        func line(_ name: String) -> String { listing.first { $0.hasSuffix(" " + name) } ?? "" }
        XCTAssertTrue(line("special/pipe").hasPrefix("prw-r-----"), "a FIFO with its mode: \(listing)")
        XCTAssertTrue(line("special/null").hasPrefix("c") && line("special/null").contains(" 1,3 "), "a character device 1,3: \(listing)")
        XCTAssertTrue(line("special/loop").hasPrefix("b") && line("special/loop").contains(" 7,0 "), "a block device 7,0: \(listing)")
        XCTAssertFalse(listing.contains { $0.contains("special/sock") }, "sockets are dropped: \(listing)")

        let blob = image.store.blobURL(image.result.images[0].layers[layer].digest).path
        let records = try Run.tool("python3", ["-c", """
            import sys, tarfile
            for member in tarfile.open(sys.argv[1]):
                for key, value in sorted(member.pax_headers.items()):
                    print(member.name, key, value.encode('utf-8', 'surrogateescape').hex())
            """, blob]).split(separator: "\n").map(String.init)
        XCTAssertTrue(records.contains("special/tool SCHILY.xattr.security.capability \(Self.capability)"), "\(records)")
        XCTAssertTrue(records.contains("special/tool SCHILY.xattr.user.note 6869"), "\(records)")
        XCTAssertTrue(records.contains("special SCHILY.xattr.user.dir 01ff"), "\(records)")
        XCTAssertFalse(records.contains { $0.contains("LIBARCHIVE.") }, "only Go's SCHILY records, as BuildKit writes: \(records)")

        // A later RUN sees the FIFO, the device and the xattrs it did not change, and its layer
        // does not carry them again.
        let again = try await fixture.build("""
            FROM base
            COPY xhelper /bin/xhelper
            RUN mkdir /special && mkfifo /special/pipe && mknod /special/null c 1 3 && echo tool > /special/tool \\
                && xhelper setxattr /special/tool user.note 6869
            RUN test -p /special/pipe && test -c /special/null && echo later > /later
            """, configure: BusyboxBase.configure(layout))
        let last = again.result.images[0].layers.count - 1
        XCTAssertEqual(try again.bsdtarNames(last), ["later"])
    }
}
