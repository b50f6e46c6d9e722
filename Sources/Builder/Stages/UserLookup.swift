/// Resolves `--chown=user:group` against a stage's own `/etc/passwd` and `/etc/group`, as
/// BuildKit does: numbers are taken as they are, names must exist in the image.
enum UserLookup {
    static func resolve(_ spec: String, in tree: FileTree) throws -> (uid: Int, gid: Int) {
        let parts = spec.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let userPart = parts.first, !userPart.isEmpty else {
            throw BuildError("invalid --chown value '\(spec)': expected USER[:GROUP] (names or numeric IDs)")
        }
        let uid: Int
        var gid: Int
        if let number = Int(userPart), number >= 0 {
            uid = number
            gid = number
            if let entry = passwd(tree).first(where: { $0.uid == number }) { gid = entry.gid }
        } else if let entry = passwd(tree).first(where: { $0.name == userPart }) {
            uid = entry.uid
            gid = entry.gid
        } else {
            throw BuildError("--chown: user '\(userPart)' is not in the stage's /etc/passwd; use a numeric UID or add the user to the base image")
        }
        if parts.count == 2 {
            let groupPart = parts[1]
            if let number = Int(groupPart), number >= 0 {
                gid = number
            } else if let group = groups(tree).first(where: { $0.name == groupPart }) {
                gid = group.gid
            } else {
                throw BuildError("--chown: group '\(groupPart)' is not in the stage's /etc/group; use a numeric GID")
            }
        }
        return (uid, gid)
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
