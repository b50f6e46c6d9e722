/// Errors of the OCI model and the on-disk store; each message says what is wrong and where.
public enum OCIError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidDigest(String)
    case digestMismatch(expected: Digest, actual: Digest, what: String)
    case blobMissing(Digest)
    case invalidPlatform(String)
    case invalidLayout(String)
    case io(String)

    public var description: String {
        switch self {
        case .invalidDigest(let s): return "invalid digest '\(s)': expected sha256:<64 lowercase hex>"
        case .digestMismatch(let e, let a, let what): return "\(what): content has digest \(a), expected \(e)"
        case .blobMissing(let d): return "blob \(d) is missing from the content store"
        case .invalidPlatform(let s): return "invalid platform '\(s)': expected os/arch[/variant], e.g. linux/amd64"
        case .invalidLayout(let s): return "invalid OCI layout: \(s)"
        case .io(let s): return s
        }
    }
}
