import Bake

/// A bake file of any kind (the first byte picks HCL, JSON or compose) read and every target
/// resolved, printed as `--print` prints it: an error is fine, a crash or a hang is not.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size > 0 else { return 0 }
    let names = ["docker-bake.hcl", "docker-bake.json", "compose.yaml", "bake.file"]
    let name = names[Int(data[0]) % names.count]
    let text = String(decoding: UnsafeBufferPointer(start: data + 1, count: size - 1), as: UTF8.self)
    guard let config = try? BakeFileReader.read([BakeFile(name: name, text: text)], environment: ["TAG": "1.0", "FLAG": "true"]) else { return 0 }
    let names2 = config.targets.map(\.name) + config.groups.map(\.name)
    if let plan = try? BakeResolver(config: config).resolve(Array(names2.prefix(8)), overrides: ["*.tags+=x:1", "*.platform=linux/arm64"]) {
        _ = BakePrinter.print(plan)
    }
    return 0
}
