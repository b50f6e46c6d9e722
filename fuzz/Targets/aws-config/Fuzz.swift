@testable import AWS

/// `~/.aws/config` / `~/.aws/credentials` text, parsed in both dialects.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    _ = AWSSharedConfig.parse(text, isConfig: true)
    _ = AWSSharedConfig.parse(text, isConfig: false)
    return 0
}
