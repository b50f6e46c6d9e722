#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The caller's subordinate ID ranges (`/etc/subuid`, `/etc/subgid`: `NAME-or-UID:START:COUNT`)
/// and the setuid helpers that may map them (`newuidmap`/`newgidmap`, Debian's uidmap package).
/// With both, a rootless build runs in a user namespace mapping 0 to the caller and 1…COUNT to
/// the range, so `chown` inside RUN works, as rootlesskit and podman set it up.
public struct SubordinateIDs: Sendable, Equatable {
    public struct Range: Sendable, Equatable {
        public var start: UInt32
        public var count: UInt32
    }

    public var uids: Range
    public var gids: Range
    public var newuidmap: String
    public var newgidmap: String

    /// The first range each file gives the user (by name or number), nil when either file has
    /// none or a helper is missing.
    public static func forCurrentUser(subuid: String = "/etc/subuid", subgid: String = "/etc/subgid",
                                      helpers: [String] = ["/usr/bin", "/bin", "/usr/sbin", "/sbin"]) -> SubordinateIDs? {
        let uid = getuid()
        guard let entry = getpwuid(uid), let name = entry.pointee.pw_name.map({ String(cString: $0) }) else { return nil }
        let owners = [name, String(uid)]
        guard let uids = range(in: subuid, owners: owners), let gids = range(in: subgid, owners: owners) else { return nil }
        func find(_ tool: String) -> String? {
            helpers.map { $0 + "/" + tool }.first { access($0, X_OK) == 0 }
        }
        guard let newuidmap = find("newuidmap"), let newgidmap = find("newgidmap") else { return nil }
        return SubordinateIDs(uids: uids, gids: gids, newuidmap: newuidmap, newgidmap: newgidmap)
    }

    static func range(in file: String, owners: [String]) -> Range? {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count == 3, owners.contains(String(fields[0])),
                  let start = UInt32(fields[1]), let count = UInt32(fields[2]), count > 0 else { continue }
            return Range(start: start, count: count)
        }
        return nil
    }

    /// newuidmap's arguments: 0 → the caller, 1…count → the range.
    static func mapArguments(pid: pid_t, own: UInt32, range: Range) -> [String] {
        [String(pid), "0", String(own), "1", "1", String(range.start), String(range.count)]
    }
}
