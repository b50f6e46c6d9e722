/// Resolves `--chown=user[:group]` (and WORKDIR's USER) against a stage's own `/etc/passwd`
/// and `/etc/group` exactly as BuildKit does, lenient parts included: a number (or `root`) is
/// taken as it is with the same number as group; a name gives its passwd entry's uid and
/// gid, or 0:0 when the stage has no such user; an empty group (`app:`) is gid 0; a group
/// name missing from `/etc/group` leaves the user's gid.
enum UserLookup {
    static func resolve(_ spec: String, in tree: FileTree) throws -> (uid: Int, gid: Int) {
        let parts = spec.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        var uid = 0
        var gid = 0
        let userPart = parts.first ?? ""
        if let number = try number(userPart, spec: spec) {
            uid = number
            gid = number
        } else if !userPart.isEmpty, let entry = passwd(tree).first(where: { $0.name == userPart }) {
            uid = entry.uid
            gid = entry.gid
        }
        if parts.count == 2 {
            let groupPart = parts[1]
            if let number = try number(groupPart, spec: spec) {
                gid = number
            } else if groupPart.isEmpty {
                gid = 0
            } else if let group = groups(tree).first(where: { $0.name == groupPart }) {
                gid = group.gid
            }
        }
        return (uid, gid)
    }

    /// BuildKit's `parseUID`: `root` or a 32-bit decimal number; nil for a name.
    private static func number(_ text: String, spec: String) throws -> Int? {
        if text == "root" { return 0 }
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "-" || $0 == "+") }) else { return nil }
        guard let value = Int32(text) else { return nil }
        guard value >= 0 else {
            throw BuildError("invalid --chown value '\(spec)': IDs must not be negative")
        }
        return Int(value)
    }

    private static func passwd(_ tree: FileTree) -> [(name: String, uid: Int, gid: Int)] {
        (tree.readSmallFile("/etc/passwd") ?? "").split(separator: "\n").compactMap { line in
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count >= 4, let uid = Int(fields[2]), let gid = Int(fields[3]) else { return nil }
            return (String(fields[0]), uid, gid)
        }
    }

    private static func groups(_ tree: FileTree) -> [(name: String, gid: Int)] {
        (tree.readSmallFile("/etc/group") ?? "").split(separator: "\n").compactMap { line in
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count >= 3, let gid = Int(fields[2]) else { return nil }
            return (String(fields[0]), gid)
        }
    }
}
