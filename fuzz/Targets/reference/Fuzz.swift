import Registry

/// Image references: parsing must not trap, and a parsed reference must print as text that
/// parses back to the same reference.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let reference = try? ImageReference(parsing: text) else { return 0 }
    _ = (reference.name, reference.apiHost, reference.manifestReference)
    guard let again = try? ImageReference(parsing: reference.description), again == reference else {
        fatalError("'\(text)' parses to '\(reference)', which does not parse back to the same reference")
    }
    return 0
}
