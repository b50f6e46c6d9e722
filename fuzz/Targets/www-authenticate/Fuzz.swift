import Registry

/// `WWW-Authenticate` header values (several challenges, quoted strings, escapes).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    for challenge in AuthChallenge.parse(text) {
        _ = (challenge.scheme, challenge.realm, challenge.service, challenge.scope)
    }
    return 0
}
