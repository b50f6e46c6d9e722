/// Errors of layer writing and archive extraction; each message names the entry (and the
/// archive or host file) so a user can find what to fix.
public enum LayerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A layer path that is not a clean relative path (`reason` says which rule it breaks).
    case invalidPath(String, reason: String)
    case duplicatePath(String)
    /// An entry that is well-formed alone but inconsistent with the layer (a parent that is not
    /// a directory, a hard link to a directory, a negative uid, ...).
    case invalidEntry(String, reason: String)
    case invalidOptions(String)
    /// A host file whose size differs from its size when the layer writer opened it.
    case fileChanged(entry: String, source: String, expected: Int64, actual: Int64)
    case io(String)
    /// libarchive reported a failure.
    case archive(String)
    /// An `ADD` archive entry that would land outside the destination or cannot be represented.
    case unsafeArchiveEntry(archive: String, entry: String, reason: String)
    /// An `ADD` archive whose content exceeds the allowed size (a decompression bomb guard).
    case archiveTooLarge(archive: String, entry: String, limit: Int64)

    public var description: String {
        switch self {
        case .invalidPath(let path, let reason):
            return "invalid layer path '\(path)': \(reason)"
        case .duplicatePath(let path):
            return "layer path '\(path)' appears more than once"
        case .invalidEntry(let path, let reason):
            return "invalid layer entry '\(path)': \(reason)"
        case .invalidOptions(let message):
            return "invalid layer options: \(message)"
        case .fileChanged(let entry, let source, let expected, let actual):
            let what = actual > expected ? "grew beyond" : "shrank to \(actual) bytes from"
            return "file \(source) (layer entry '\(entry)') changed while being read: it \(what) \(expected) bytes"
        case .io(let message):
            return message
        case .archive(let message):
            return "tar: \(message)"
        case .unsafeArchiveEntry(let archive, let entry, let reason):
            return "archive \(archive): refusing entry '\(entry)': \(reason)"
        case .archiveTooLarge(let archive, let entry, let limit):
            return "archive \(archive): content exceeds the limit of \(limit) bytes at entry '\(entry)' (decompression bomb?)"
        }
    }
}
