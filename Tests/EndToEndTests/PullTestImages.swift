import Foundation
import XCTest

/// Base images made by tools we did not write: a small rootfs (`/etc/passwd`, a symlink, a
/// file deleted in an upper layer, i.e. a whiteout) turned into OCI images by umoci for amd64
/// and arm64, an index over both written into the layout by hand, pushed with skopeo.
struct PullTestImages {
    let layout: String
    /// `sha256:…` of the index tagged `multi`, and of each platform's manifest as umoci wrote it.
    let indexDigest: String

    /// Builds the layout under `work`. `marker` goes into a file so that images of different
    /// tests share no layer (a test that tampers with a registry blob must not break others).
    static func make(in work: String, marker: String) throws -> PullTestImages {
        let layout = work + "/umoci-layout"
        _ = try Run.tool("umoci", ["init", "--layout", layout])
        var entries: [[String: Any]] = []
        for arch in ["amd64", "arm64"] {
            let image = "\(layout):\(arch)"
            let bundle = work + "/bundle-\(arch)"
            _ = try Run.tool("umoci", ["new", "--image", image])
            _ = try Run.tool("umoci", ["unpack", "--rootless", "--image", image, bundle])
            let rootfs = bundle + "/rootfs"
            try Run.write(["etc/passwd": "root:x:0:0::/root:/bin/sh\nweb:x:33:44::/srv:/bin/sh\n", "etc/group": "root:x:0:\nwww:x:44:\n",
                           "etc/marker": marker + "\n", "bin/tool": "#!/bin/sh\necho \(arch)\n", "srv/old.txt": "old", "srv/keep.txt": "keep"], under: rootfs)
            try FileManager.default.createSymbolicLink(atPath: rootfs + "/bin/sh", withDestinationPath: "tool")
            try FileManager.default.createSymbolicLink(atPath: rootfs + "/srv/passwd-link", withDestinationPath: "../etc/passwd")
            // --refresh-bundle, so the second repack records the deletion as a whiteout layer.
            _ = try Run.tool("umoci", ["repack", "--refresh-bundle", "--image", image, bundle])
            try FileManager.default.removeItem(atPath: rootfs + "/srv/old.txt")
            _ = try Run.tool("umoci", ["repack", "--image", image, bundle])
            _ = try Run.tool("umoci", ["config", "--image", image, "--architecture", arch, "--os", "linux",
                                       "--config.env", "BASE=\(arch)", "--config.cmd", "/bin/sh", "--config.user", "web"])
            let index = try Run.json(String(contentsOfFile: layout + "/index.json", encoding: .utf8))
            let manifests = index["manifests"] as? [[String: Any]] ?? []
            guard let entry = manifests.first(where: { ($0["annotations"] as? [String: String])?["org.opencontainers.image.ref.name"] == arch }) else {
                throw NSError(domain: "e2e", code: 1, userInfo: [NSLocalizedDescriptionKey: "umoci layout has no \(arch) tag"])
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
    func pushIndex(to reference: String, host: String, registry: TestRegistries.Settings) throws {
        _ = try Run.tool("skopeo", ["copy", "-q", "--all", "--dest-cert-dir", registry.certsDir + "/" + host,
                                    "--dest-creds", "\(registry.user):\(registry.password)", "oci:\(layout):multi", "docker://\(reference)"])
    }

    /// One platform converted to a Docker schema2 manifest by skopeo.
    func pushSchema2(_ arch: String, to reference: String, host: String, registry: TestRegistries.Settings) throws {
        _ = try Run.tool("skopeo", ["copy", "-q", "--format", "v2s2", "--dest-cert-dir", registry.certsDir + "/" + host,
                                    "--dest-creds", "\(registry.user):\(registry.password)", "oci:\(layout):\(arch)", "docker://\(reference)"])
    }
}
