/// Why a key could not be used or a signature did not hold. Messages name files, key ids and
/// digests, never key material, passwords or signature bytes.
public enum SigningError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A key file that cannot be used (format, curve, password); the text says how to fix it.
    case unusableKey(String)
    /// A signature or payload that does not hold.
    case invalid(String)
    /// An OpenSSL call failed (its error queue, which never contains key material).
    case crypto(String)

    public var description: String {
        switch self {
        case .unusableKey(let m), .invalid(let m), .crypto(let m): return m
        }
    }
}
