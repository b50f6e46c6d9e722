import Foundation

/// Base images made by tools we did not write: a small rootfs (`/etc/passwd`, a symlink, a
/// file deleted in an upper layer, i.e. a whiteout) turned into OCI images by umoci for amd64
/// and arm64, an index over both written into the layout by hand, pushed with skopeo.
public struct PullTestImages: Sendable {
    public let layout: String
    /// `sha256:…` of the index tagged `multi`, and of each platform's manifest as umoci wrote it.
    public let indexDigest: String

    /// Builds the layout under `work`. `marker` goes into a file so that images of different
    /// tests share no layer (a test that tampers with a registry blob must not break others).
    public static func make(in work: String, marker: String) throws -> PullTestImages {
        let layout = work + "/umoci-layout"
        var entries: [[String: Any]] = []
        for arch in ["amd64", "arm64"] {
            try UmociImage.make("\(layout):\(arch)", bundle: work + "/bundle-\(arch)",
                                files: ["etc/passwd": "root:x:0:0::/root:/bin/sh\nweb:x:33:44::/srv:/bin/sh\n", "etc/group": "root:x:0:\nwww:x:44:\n",
                                        "etc/marker": marker + "\n", "bin/tool": "#!/bin/sh\necho \(arch)\n", "srv/old.txt": "old", "srv/keep.txt": "keep"],
                                symlinks: ["bin/sh": "tool", "srv/passwd-link": "../etc/passwd"], removed: ["srv/old.txt"],
                                config: ["--architecture", arch, "--os", "linux", "--config.env", "BASE=\(arch)", "--config.cmd", "/bin/sh", "--config.user", "web"])
            let index = try Run.json(String(contentsOfFile: layout + "/index.json", encoding: .utf8))
            let manifests = index["manifests"] as? [[String: Any]] ?? []
            guard let entry = manifests.first(where: { ($0["annotations"] as? [String: String])?["org.opencontainers.image.ref.name"] == arch }) else {
                throw TestError("umoci layout has no \(arch) tag")
            }
            var platformEntry = entry
            platformEntry["annotations"] = nil
            platformEntry["platform"] = ["os": "linux", "architecture": arch]
            entries.append(platformEntry)
        }
        // The index, written into the layout as another tool would (umoci makes no indexes).
        let indexData = try JSONSerialization.data(withJSONObject: ["schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                                                                    "manifests": entries], options: [.sortedKeys])
        let hex = sha256(indexData)
        try indexData.write(to: URL(fileURLWithPath: layout + "/blobs/sha256/" + hex))
        var top = try Run.json(String(contentsOfFile: layout + "/index.json", encoding: .utf8))
        var manifests = top["manifests"] as? [[String: Any]] ?? []
        manifests.append(["mediaType": "application/vnd.oci.image.index.v1+json", "digest": "sha256:" + hex, "size": indexData.count,
                          "annotations": ["org.opencontainers.image.ref.name": "multi"]])
        top["manifests"] = manifests
        try JSONSerialization.data(withJSONObject: top, options: [.sortedKeys]).write(to: URL(fileURLWithPath: layout + "/index.json"))
        return PullTestImages(layout: layout, indexDigest: "sha256:" + hex)
    }

    /// `skopeo copy --all` of the index to `reference` (host/repo:tag) of a test registry.
    public func pushIndex(to reference: String, host: String, registry: TestRegistries) throws {
        _ = try registry.skopeo(["copy", "-q", "--all"] + registry.skopeoAuth(host, prefix: "dest-") + ["oci:\(layout):multi", "docker://\(reference)"])
    }

    /// One platform converted to a Docker schema2 manifest by skopeo.
    public func pushSchema2(_ arch: String, to reference: String, host: String, registry: TestRegistries) throws {
        _ = try registry.skopeo(["copy", "-q", "--format", "v2s2"] + registry.skopeoAuth(host, prefix: "dest-") + ["oci:\(layout):\(arch)", "docker://\(reference)"])
    }
}
