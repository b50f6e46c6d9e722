import Foundation

/// The dependency list `cargo auditable` embeds in Rust binaries: an ELF section `.dep-v0`
/// holding zlib-compressed JSON (`{"packages":[{"name","version","source","root"?,
/// "dependencies"?}]}`). Found through the ELF section table, which sits at the end of the
/// file, so it needs random access: slipway's own layers are read back from their source
/// files, base-layer files are kept in memory while streamed (ELF files up to
/// `bufferLimit`). Bounded: at most 16 MiB of section, 64 MiB of JSON.
enum CargoAuditable {
    static let bufferLimit = 32 << 20
    static let sectionLimit = 16 << 20
    static let jsonLimit = 64 << 20

    /// `read(offset, count)` returns exactly `count` bytes at `offset`, or nil.
    static func packages(size: Int, location: String, read: (Int, Int) -> [UInt8]?) -> [FoundPackage] {
        guard let section = depSection(size: size, read: read), let json = BoundedInflate.inflate(section[...], limit: jsonLimit),
              let object = try? JSONSerialization.jsonObject(with: Data(json)) as? [String: Any],
              let list = object["packages"] as? [[String: Any]] else { return [] }
        var result: [FoundPackage] = []
        for entry in list {
            guard let name = entry["name"] as? String, let version = entry["version"] as? String else { continue }
            var package = FoundPackage(ecosystem: .cargo, name: name, version: version, location: location)
            if entry["root"] as? Bool == true { package.isApplication = true } else { package.isDependency = true }
            result.append(package)
        }
        // The root first, so its dependencies can be related to it.
        return result.filter(\.isApplication) + result.filter { !$0.isApplication }
    }

    private static func depSection(size: Int, read: (Int, Int) -> [UInt8]?) -> [UInt8]? {
        guard let header = read(0, 64), header.count == 64, header[0..<4] == [0x7f, 0x45, 0x4c, 0x46] else { return nil }
        let is64 = header[4] == 2, little = header[5] == 1
        func integer(_ bytes: [UInt8], _ offset: Int, _ width: Int) -> Int? {
            guard offset >= 0, offset + width <= bytes.count else { return nil }
            var value: UInt64 = 0
            for i in 0..<width {
                let byte = UInt64(bytes[offset + (little ? width - 1 - i : i)])
                value = value << 8 | byte
            }
            return value > UInt64(Int.max) ? nil : Int(value)
        }
        guard let shoff = integer(header, is64 ? 0x28 : 0x20, is64 ? 8 : 4),
              let entrySize = integer(header, is64 ? 0x3a : 0x2e, 2), let count = integer(header, is64 ? 0x3c : 0x30, 2),
              let namesIndex = integer(header, is64 ? 0x3e : 0x32, 2),
              entrySize >= (is64 ? 64 : 40), count > 0, namesIndex < count, shoff + entrySize * count <= size,
              let table = read(shoff, entrySize * count) else { return nil }
        func section(_ index: Int) -> (name: Int, offset: Int, size: Int)? {
            let base = index * entrySize
            guard let name = integer(table, base, 4),
                  let offset = integer(table, base + (is64 ? 0x18 : 0x10), is64 ? 8 : 4),
                  let length = integer(table, base + (is64 ? 0x20 : 0x14), is64 ? 8 : 4) else { return nil }
            return (name, offset, length)
        }
        guard let names = section(namesIndex), names.size <= 1 << 20, names.offset + names.size <= size,
              let nameTable = read(names.offset, names.size) else { return nil }
        let wanted = Array(".dep-v0".utf8) + [0]
        for index in 0..<count {
            guard let candidate = section(index), candidate.name + wanted.count <= nameTable.count,
                  Array(nameTable[candidate.name..<(candidate.name + wanted.count)]) == wanted else { continue }
            guard candidate.size <= sectionLimit, candidate.offset + candidate.size <= size else { return nil }
            return read(candidate.offset, candidate.size)
        }
        return nil
    }
}
