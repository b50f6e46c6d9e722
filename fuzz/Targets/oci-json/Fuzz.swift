import Foundation
import OCI

/// Registry/layout JSON: the same bytes decoded as a manifest, an index and an image config;
/// what decodes must encode canonically and decode again to an equal value.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let json = Data(bytes: data, count: size)
    roundTrip(Manifest.self, json)
    roundTrip(Index.self, json)
    roundTrip(ImageConfig.self, json)
    return 0
}

private func roundTrip<T: Codable & Equatable>(_ type: T.Type, _ json: Data) {
    guard let value = try? CanonicalJSON.decode(type, from: json, what: "fuzz input") else { return }
    guard let encoded = try? CanonicalJSON.encode(value) else { fatalError("\(type) decoded but does not encode") }
    guard let again = try? CanonicalJSON.decode(type, from: encoded, what: "re-encoded"), again == value else {
        fatalError("\(type) does not survive encode/decode: \(String(decoding: encoded, as: UTF8.self))")
    }
}
