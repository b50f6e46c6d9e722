import Foundation
import OCI
import Signing

/// What `verify` reads from a registry and from key files: simple-signing payloads (what
/// decodes must encode and decode to the same digest and claims) and PEM key text (refused or
/// read, never a crash).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Data(bytes: data, count: size)
    if let payload = try? SimpleSigningPayload.decode(bytes) {
        let claims = payload.optional?.filter { !$0.value.isEmpty }
        let again = SimpleSigningPayload(dockerReference: payload.dockerReference, manifestDigest: payload.manifestDigest, optional: claims)
        guard let decoded = try? SimpleSigningPayload.decode(again.encoded()), decoded == again else {
            fatalError("payload does not survive encode/decode: \(String(decoding: again.encoded(), as: UTF8.self))")
        }
    }
    _ = try? PEMKeyFile.privateKey(pem: bytes, named: "fuzz", password: "pw")
    _ = try? PEMKeyFile.publicKey(pem: bytes, named: "fuzz")
    return 0
}
