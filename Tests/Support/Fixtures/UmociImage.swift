import Foundation

/// OCI images made by umoci, a tool we did not write, for base images of builds and copies.
public enum UmociImage {
    /// Makes `image` (`LAYOUT:TAG`; the layout is created when missing) from an empty rootfs:
    /// `files` and `symlinks` (path → target) in a first layer; `removed` paths, when given,
    /// deleted in a second layer (whiteouts); then `umoci config` with `config` arguments.
    /// `bundle` is umoci's scratch directory (must not exist).
    public static func make(_ image: String, bundle: String, files: [String: String], symlinks: [String: String] = [:],
                            removed: [String] = [], config: [String]) throws {
        let layout = String(image[..<(image.lastIndex(of: ":") ?? image.endIndex)])
        if !FileManager.default.fileExists(atPath: layout + "/index.json") {
            try umoci(["init", "--layout", layout])
        }
        try umoci(["new", "--image", image])
        try umoci(["unpack", "--rootless", "--image", image, bundle])
        let rootfs = bundle + "/rootfs"
        try Run.write(files, under: rootfs)
        for (path, target) in symlinks {
            try FileManager.default.createSymbolicLink(atPath: rootfs + "/" + path, withDestinationPath: target)
        }
        // --refresh-bundle, so the second repack records only the deletions (whiteouts).
        try umoci(["repack", "--refresh-bundle", "--image", image, bundle])
        if !removed.isEmpty {
            for path in removed { try FileManager.default.removeItem(atPath: rootfs + "/" + path) }
            try umoci(["repack", "--image", image, bundle])
        }
        try umoci(["config", "--image", image] + config)
    }

    /// Copies `source` (a skopeo reference, e.g. `oci:LAYOUT:TAG`; for an index the `arch`
    /// platform's image) with skopeo to `layout:img`, then unpacks it with umoci into `bundle`.
    /// Returns the root file system's path. `options` go to skopeo (credentials, CA).
    @discardableResult
    public static func unpack(_ source: String, arch: String? = nil, layout: String, bundle: String, options: [String] = []) throws -> String {
        let copy = try Run.command("skopeo", ["copy", "-q"] + options + (arch.map { ["--override-arch", $0] } ?? []) + [source, "oci:\(layout):img"])
        guard copy.status == 0 else { throw TestError("skopeo copy \(source) failed: \(copy.stderr)") }
        try umoci(["unpack", "--rootless", "--image", "\(layout):img", bundle])
        return bundle + "/rootfs"
    }

    private static func umoci(_ arguments: [String]) throws {
        let output = try Run.command("umoci", arguments)
        guard output.status == 0 else { throw TestError("umoci \(arguments.joined(separator: " ")) failed: \(output.stderr)") }
    }
}
