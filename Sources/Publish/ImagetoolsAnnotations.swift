import Foundation
import OCI

/// `imagetools create --annotation`, buildx's forms: `index:KEY=VALUE` (or `KEY=VALUE`, which
/// goes on the index too), `manifest-descriptor:KEY=VALUE` on every entry of the index and
/// `manifest-descriptor[os/arch]:KEY=VALUE` on that platform's entries. `manifest:` is refused:
/// annotating a manifest changes its digest, and imagetools never rewrites a manifest.
struct ImagetoolsAnnotations: Sendable {
    var index: [String: String]?
    var descriptors: [(platform: Platform?, key: String, value: String)] = []

    init(_ texts: [String]) throws {
        for text in texts {
            guard let equals = text.firstIndex(of: "=") else {
                throw PublishError.invalidArgument("--annotation '\(text)': expected [index:|manifest-descriptor[os/arch]:]KEY=VALUE")
            }
            let head = String(text[..<equals])
            let value = String(text[text.index(after: equals)...])
            var kind = "index"
            var key = head
            var platform: Platform?
            if let colon = head.firstIndex(of: ":") {
                kind = String(head[..<colon])
                key = String(head[head.index(after: colon)...])
                if kind.hasSuffix("]"), let open = kind.firstIndex(of: "[") {
                    let inner = String(kind[kind.index(after: open)..<kind.index(before: kind.endIndex)])
                    do { platform = try Platform(parsing: inner) } catch { throw PublishError.invalidArgument("--annotation '\(text)': \(error)") }
                    kind = String(kind[..<open])
                }
            }
            guard !key.isEmpty else { throw PublishError.invalidArgument("--annotation '\(text)': the key is empty") }
            switch kind {
            case "index" where platform == nil:
                index = (index ?? [:]).merging([key: value]) { $1 }
            case "manifest-descriptor":
                descriptors.append((platform, key, value))
            case "manifest":
                throw PublishError.invalidArgument("--annotation '\(text)': imagetools create cannot annotate manifests (that would change their digests); use manifest-descriptor: to annotate the index's entries")
            default:
                throw PublishError.invalidArgument("--annotation '\(text)': unknown type '\(kind)'; imagetools create takes index: and manifest-descriptor[os/arch]:")
            }
        }
    }

    /// The entries with the descriptor annotations set; one naming a platform no entry has is an error.
    func apply(to entries: [Descriptor]) throws -> [Descriptor] {
        var result = entries
        for annotation in descriptors {
            var matched = false
            for i in result.indices where annotation.platform.map({ wanted in result[i].platform.map { wanted.matches($0) } ?? false }) ?? true {
                result[i].annotations = (result[i].annotations ?? [:]).merging([annotation.key: annotation.value]) { $1 }
                matched = true
            }
            if !matched, let platform = annotation.platform {
                throw PublishError.invalidArgument("--annotation manifest-descriptor[\(platform)]: no source image has that platform; it has: "
                                                   + entries.compactMap { $0.platform?.description }.joined(separator: ", "))
            }
        }
        return result
    }
}
