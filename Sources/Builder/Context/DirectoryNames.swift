import Foundation
import Layers

/// The names in a directory of a build context, as `readdir` gives them: bytes kept through
/// `RawName` (a name that is not UTF-8 must still be found again and copied byte-exact) and
/// in bytewise order, as BuildKit walks.
enum DirectoryNames {
    /// nil when the directory cannot be opened (errno says why).
    static func list(_ path: String) -> [String]? {
        guard let stream = RawName.withCString(path, { opendir($0) }) else { return nil }
        defer { closedir(stream) }
        var names: [(bytes: [UInt8], name: String)] = []
        while let entry = readdir(stream) {
            let bytes = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
            if bytes == [0x2E] || bytes == [0x2E, 0x2E] { continue }
            names.append((bytes, RawName.decode(bytes)))
        }
        return names.sorted { $0.bytes.lexicographicallyPrecedes($1.bytes) }.map(\.name)
    }
}
