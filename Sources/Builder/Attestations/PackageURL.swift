import OCI
import Registry

/// Package URLs (github.com/package-url/purl-spec) for materials, subjects and SBOM
/// packages: the one identifier scanners, policy engines and BuildKit's own provenance use.
enum PackageURL {
    /// `pkg:TYPE/NAMESPACE/NAME@VERSION?QUALIFIERS`, each part percent-encoded as the spec says.
    static func make(type: String, namespace: String? = nil, name: String, version: String?, qualifiers: [(String, String)] = []) -> String {
        var text = "pkg:\(type)/"
        if let namespace, !namespace.isEmpty {
            text += namespace.split(separator: "/").map { encode(String($0)) }.joined(separator: "/") + "/"
        }
        text += encode(name)
        if let version, !version.isEmpty { text += "@" + encode(version) }
        let present = qualifiers.filter { !$0.1.isEmpty }.sorted { $0.0 < $1.0 }
        if !present.isEmpty { text += "?" + present.map { "\($0.0)=\(encode($0.1))" }.joined(separator: "&") }
        return text
    }

    /// BuildKit's form for images: `pkg:docker/alpine@3.20?platform=linux%2Famd64`
    /// (Docker Hub's `library/` and host dropped, other hosts kept in the name).
    static func docker(_ reference: String, platform: Platform?) -> String {
        let qualifiers = platform.map { [("platform", $0.description)] } ?? []
        guard let parsed = try? ImageReference(parsing: reference) else {
            return make(type: "docker", name: reference, version: nil, qualifiers: qualifiers)
        }
        var path = parsed.repository
        if parsed.registry == ImageReference.dockerHub {
            if path.hasPrefix("library/") { path.removeFirst("library/".count) }
        } else {
            path = parsed.registry + "/" + path
        }
        let parts = path.split(separator: "/").map(String.init)
        let version = parsed.tag ?? parsed.digest?.description
        return make(type: "docker", namespace: parts.dropLast().joined(separator: "/"), name: parts.last ?? path,
                    version: version, qualifiers: qualifiers)
    }

    /// Percent-encoding of a purl component: letters, digits and `.-_~` stay.
    static func encode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(Character(UnicodeScalar(byte)))
            default:
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
