import Foundation

/// Reads the registry directly (not through the proxy) with curl.
public enum RegistryWalk {
    public static let accept = "application/vnd.oci.image.index.v1+json,application/vnd.oci.image.manifest.v1+json,application/vnd.docker.distribution.manifest.list.v2+json,application/vnd.docker.distribution.manifest.v2+json"

    /// Status and body of `GET`/`HEAD` `path` on the registry.
    public static func request(_ registry: TestRegistries, _ method: String, _ path: String) throws -> (Int, Data) {
        let body = FileManager.default.temporaryDirectory.appendingPathComponent("walk-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: body) }
        var arguments = ["-sS", "--cacert", registry.ca, "-u", "\(registry.user):\(registry.password)", "-H", "Accept: \(accept)",
                         "-o", body, "-w", "%{http_code}"]
        if method == "HEAD" { arguments.append("-I") }
        let output = try Run.command("curl", arguments + ["https://\(registry.basic)\(path)"])
        guard output.status == 0, let status = Int(output.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw TestError("curl \(path) failed: \(output.stderr)")
        }
        return (status, (try? Data(contentsOf: URL(fileURLWithPath: body))) ?? Data())
    }

    /// Walks tag → index → manifests → config and layers. Returns nil when the tag does not
    /// exist, else the tag's digest and every problem found (missing or mismatching content).
    public static func check(_ registry: TestRegistries, repository: String, tag: String) throws -> (digest: String, problems: [String])? {
        let (status, data) = try request(registry, "GET", "/v2/\(repository)/manifests/\(tag)")
        if status == 404 { return nil }
        guard status == 200 else { return ("", ["GET tag \(tag): HTTP \(status)"]) }
        let digest = "sha256:" + sha256(data)
        var problems: [String] = []
        var manifests: [Data] = []
        let root = try Run.json(String(decoding: data, as: UTF8.self))
        if let list = root["manifests"] as? [[String: Any]] {
            for entry in list {
                let child = entry["digest"] as? String ?? ""
                let (s, d) = try request(registry, "GET", "/v2/\(repository)/manifests/\(child)")
                if s != 200 { problems.append("manifest \(child): HTTP \(s)"); continue }
                if "sha256:" + sha256(d) != child { problems.append("manifest \(child): other bytes") }
                manifests.append(d)
            }
        } else {
            manifests.append(data)
        }
        for manifest in manifests {
            let object = try Run.json(String(decoding: manifest, as: UTF8.self))
            let blobs = [object["config"] as? [String: Any]].compactMap { $0 } + ((object["layers"] as? [[String: Any]]) ?? [])
            for blob in blobs {
                let child = blob["digest"] as? String ?? ""
                let (s, _) = try request(registry, "HEAD", "/v2/\(repository)/blobs/\(child)")
                if s != 200 { problems.append("blob \(child): HTTP \(s)") }
            }
        }
        return (digest, problems)
    }

    /// Every blob of an OCI layout directory's image (index, manifests, configs, layers): digest → size.
    public static func layoutBlobs(_ layout: String) throws -> [(digest: String, size: Int, isManifest: Bool)] {
        func read(_ digest: String) throws -> [String: Any] {
            try Run.json(String(contentsOfFile: layout + "/blobs/sha256/" + digest.dropFirst(7), encoding: .utf8))
        }
        var result: [(String, Int, Bool)] = []
        let top = try Run.json(String(contentsOfFile: layout + "/index.json", encoding: .utf8))
        for image in (top["manifests"] as? [[String: Any]]) ?? [] {
            let indexDigest = image["digest"] as? String ?? ""
            result.append((indexDigest, image["size"] as? Int ?? 0, true))
            for manifest in (try read(indexDigest)["manifests"] as? [[String: Any]]) ?? [] {
                let digest = manifest["digest"] as? String ?? ""
                result.append((digest, manifest["size"] as? Int ?? 0, true))
                let object = try read(digest)
                for blob in [object["config"] as? [String: Any]].compactMap({ $0 }) + ((object["layers"] as? [[String: Any]]) ?? []) {
                    result.append((blob["digest"] as? String ?? "", blob["size"] as? Int ?? 0, false))
                }
            }
        }
        var seen = Set<String>()
        return result.filter { seen.insert($0.0).inserted }
    }
}
