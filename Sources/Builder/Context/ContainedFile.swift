import Foundation

/// Reads a file of the build's input (the Dockerfile, a `.dockerignore`) the way BuildKit's
/// context transfer would: the directory holding it is what the builder sees, so a file that is
/// a symlink is followed only while it stays in that directory. A link to `/etc/shadow` (or
/// `../../secret`) in a cloned repository must not make a build read, let alone print, a file
/// from outside.
public enum ContainedFile {
    /// The file's bytes; nil when there is no file at `path` (the caller says so with its own
    /// advice). Throws when the path is a symlink that leaves its directory or cannot be
    /// resolved; the error names paths (and `role`, e.g. "Dockerfile"), never file content.
    public static func contents(atPath path: String, role: String = "Dockerfile") throws -> Data? {
        var status = stat()
        guard lstat(path, &status) == 0 else { return nil }
        guard status.st_mode & S_IFMT == S_IFLNK else { return FileManager.default.contents(atPath: path) }
        let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? "?"
        let directory = (path as NSString).deletingLastPathComponent
        guard let resolved = realPath(path), let root = realPath(directory.isEmpty ? "." : directory) else {
            throw BuildError("cannot read \(role) '\(path)': it is a symlink to '\(target)', which does not resolve to a file (dangling, or a loop)")
        }
        let inside = root == "/" ? resolved.hasPrefix("/") : resolved.hasPrefix(root + "/")
        guard inside else {
            throw BuildError("refusing \(role) '\(path)': it is a symlink to '\(target)', which is outside its directory '\(directory.isEmpty ? "." : directory)'; BuildKit's context transfer does not follow it either — copy the file there instead")
        }
        return FileManager.default.contents(atPath: resolved)
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
