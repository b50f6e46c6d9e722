import COpenSSL
import Foundation

/// Reads objects of a git repository without running git: loose objects
/// (`objects/ab/cdef…`, zlib) and objects in pack files (`objects/pack/*.idx` version 2 and
/// their `.pack`, with `OFS_DELTA` / `REF_DELTA` chains resolved). Everything is bounded: an
/// object of more than `objectLimit` bytes, a delta chain deeper than `depthLimit`, an index
/// file over `indexFileLimit` or anything malformed reads as nil ("cannot tell"), never a crash.
/// Used for one object per build (HEAD's commit, for its tree), so nothing is cached.
struct GitObjects {
    let objectsDirectory: String
    /// 20 (SHA-1 repositories) or 32 (SHA-256).
    let hashLength: Int
    static let objectLimit = 16 << 20
    static let depthLimit = 64
    static let indexFileLimit = 256 << 20

    enum Kind: Int { case commit = 1, tree = 2, blob = 3, tag = 4 }

    func read(_ hex: String) -> (kind: Kind, data: [UInt8])? {
        guard let id = GitObjects.bytes(hex), id.count == hashLength else { return nil }
        return readLoose(hex) ?? readPacked(id, depth: 0)
    }

    /// The tree a commit names (its first line, `tree <hex>`).
    func tree(ofCommit hex: String) -> String? {
        guard let commit = read(hex), commit.kind == .commit else { return nil }
        let firstLine = commit.data.prefix { $0 != 0x0A }
        let text = String(decoding: firstLine, as: UTF8.self)
        guard text.hasPrefix("tree ") else { return nil }
        let tree = String(text.dropFirst(5))
        return tree.count == hashLength * 2 ? tree : nil
    }

    private func readLoose(_ hex: String) -> (kind: Kind, data: [UInt8])? {
        let path = objectsDirectory + "/" + hex.prefix(2) + "/" + hex.dropFirst(2)
        guard let compressed = GitObjects.file(path, limit: Self.objectLimit + (1 << 20)),
              let raw = BoundedInflate.inflate(compressed[...], limit: Self.objectLimit + 64),
              let space = raw.firstIndex(of: 0x20), let nul = raw.firstIndex(of: 0), space < nul else { return nil }
        let kind: Kind
        switch String(decoding: raw[..<space], as: UTF8.self) {
        case "commit": kind = .commit
        case "tree": kind = .tree
        case "blob": kind = .blob
        case "tag": kind = .tag
        default: return nil
        }
        guard let size = Int(String(decoding: raw[(space + 1)..<nul], as: UTF8.self)), size == raw.count - nul - 1 else { return nil }
        return (kind, Array(raw[(nul + 1)...]))
    }

    private func readPacked(_ id: [UInt8], depth: Int) -> (kind: Kind, data: [UInt8])? {
        let packDirectory = objectsDirectory + "/pack"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: packDirectory) else { return nil }
        for name in names.sorted() where name.hasSuffix(".idx") {
            let base = packDirectory + "/" + name.dropLast(4)
            guard let offset = offset(of: id, index: base + ".idx") else { continue }
            return object(pack: base + ".pack", at: offset, depth: depth)
        }
        return nil
    }

    /// The object's offset in the pack, from a version 2 index (fan-out, sorted names, offsets).
    private func offset(of id: [UInt8], index path: String) -> Int? {
        guard let index = GitObjects.file(path, limit: Self.indexFileLimit), index.count > 8 + 1024,
              index[0..<8] == [0xFF, 0x74, 0x4F, 0x63, 0, 0, 0, 2] else { return nil }
        func u32(_ at: Int) -> Int? {
            guard at >= 0, at + 4 <= index.count else { return nil }
            return Int(index[at]) << 24 | Int(index[at + 1]) << 16 | Int(index[at + 2]) << 8 | Int(index[at + 3])
        }
        let first = Int(id[0])
        guard let count = u32(8 + 255 * 4), let high = u32(8 + first * 4) else { return nil }
        let low = first == 0 ? 0 : (u32(8 + (first - 1) * 4) ?? 0)
        let names = 8 + 1024
        guard high <= count, low <= high, names + count * hashLength <= index.count else { return nil }
        var lower = low, upper = high
        while lower < upper {
            let middle = (lower + upper) / 2
            let start = names + middle * hashLength
            let candidate = index[start..<(start + hashLength)]
            if candidate.elementsEqual(id) {
                let offsets = names + count * hashLength + count * 4
                guard let small = u32(offsets + middle * 4) else { return nil }
                guard small & 0x8000_0000 != 0 else { return small }
                let large = offsets + count * 4 + (small & 0x7FFF_FFFF) * 8
                guard let hi = u32(large), let lo = u32(large + 4), hi < 1 << 20 else { return nil }
                return hi << 32 | lo
            }
            if candidate.lexicographicallyPrecedes(id) { lower = middle + 1 } else { upper = middle }
        }
        return nil
    }

    private func object(pack path: String, at offset: Int, depth: Int) -> (kind: Kind, data: [UInt8])? {
        guard depth <= Self.depthLimit, let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard (try? handle.seek(toOffset: UInt64(offset))) != nil, let head = try? handle.read(upToCount: 64), !head.isEmpty else { return nil }
        let header = [UInt8](head)
        var position = 0
        var byte = Int(header[0])
        let type = (byte >> 4) & 7
        var size = byte & 15
        var shift = 4
        while byte & 0x80 != 0 {
            position += 1
            guard position < header.count, shift < 56 else { return nil }
            byte = Int(header[position])
            size |= (byte & 0x7F) << shift
            shift += 7
        }
        position += 1
        guard size <= Self.objectLimit else { return nil }
        var base: (kind: Kind, data: [UInt8])?
        switch type {
        case 1, 2, 3, 4:
            break
        case 6: // OFS_DELTA: the base is earlier in this pack, at a distance in git's offset encoding.
            guard position < header.count else { return nil }
            var c = Int(header[position])
            var distance = c & 0x7F
            while c & 0x80 != 0 {
                position += 1
                guard position < header.count, distance < 1 << 48 else { return nil }
                c = Int(header[position])
                distance = ((distance + 1) << 7) | (c & 0x7F)
            }
            position += 1
            guard distance > 0, distance <= offset else { return nil }
            base = object(pack: path, at: offset - distance, depth: depth + 1)
            guard base != nil else { return nil }
        case 7: // REF_DELTA: the base is named by its id.
            guard position + hashLength <= header.count else { return nil }
            let id = Array(header[position..<(position + hashLength)])
            position += hashLength
            base = readLoose(GitObjects.hex(id)) ?? readPacked(id, depth: depth + 1)
            guard base != nil else { return nil }
        default:
            return nil
        }
        guard (try? handle.seek(toOffset: UInt64(offset + position))) != nil,
              let compressed = try? handle.read(upToCount: size + size / 64 + 4096),
              let data = BoundedInflate.inflate([UInt8](compressed)[...], limit: size), data.count == size else { return nil }
        guard let base else { return Kind(rawValue: type).map { ($0, data) } }
        return GitObjects.applyDelta(data, to: base.data).map { (base.kind, $0) }
    }

    /// git's delta format: source and target sizes, then copy (from the base) and insert ops.
    static func applyDelta(_ delta: [UInt8], to base: [UInt8]) -> [UInt8]? {
        var position = 0
        func size() -> Int? {
            var value = 0, shift = 0
            while position < delta.count, shift < 56 {
                let byte = Int(delta[position])
                position += 1
                value |= (byte & 0x7F) << shift
                shift += 7
                if byte & 0x80 == 0 { return value }
            }
            return nil
        }
        guard let source = size(), source == base.count, let target = size(), target <= objectLimit else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(target)
        while position < delta.count {
            let op = Int(delta[position])
            position += 1
            if op & 0x80 != 0 {
                var start = 0, length = 0
                for bit in 0..<4 where op & (1 << bit) != 0 {
                    guard position < delta.count else { return nil }
                    start |= Int(delta[position]) << (8 * bit)
                    position += 1
                }
                for bit in 0..<3 where op & (0x10 << bit) != 0 {
                    guard position < delta.count else { return nil }
                    length |= Int(delta[position]) << (8 * bit)
                    position += 1
                }
                if length == 0 { length = 0x10000 }
                guard start + length <= base.count, out.count + length <= target else { return nil }
                out += base[start..<(start + length)]
            } else if op != 0 {
                guard position + op <= delta.count, out.count + op <= target else { return nil }
                out += delta[position..<(position + op)]
                position += op
            } else {
                return nil
            }
        }
        return out.count == target ? out : nil
    }

    /// A whole file when it is at most `limit` bytes.
    static func file(_ path: String, limit: Int) -> [UInt8]? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let size = (attributes[.size] as? NSNumber)?.intValue, size <= limit,
              let data = FileManager.default.contents(atPath: path) else { return nil }
        return [UInt8](data)
    }

    static func bytes(_ hex: String) -> [UInt8]? {
        guard hex.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            out.append(byte)
            index = next
        }
        return out
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    /// git's object id of a blob: the hash of `blob <size>\0` and the content, streamed.
    static func blobID(streaming file: String, size: Int, hashLength: Int) -> [UInt8]? {
        guard let context = EVP_MD_CTX_new() else { return nil }
        defer { EVP_MD_CTX_free(context) }
        EVP_DigestInit_ex(context, hashLength == 32 ? EVP_sha256() : EVP_sha1(), nil)
        let header = Array("blob \(size)\0".utf8)
        header.withUnsafeBytes { _ = EVP_DigestUpdate(context, $0.baseAddress, $0.count) }
        guard let handle = FileHandle(forReadingAtPath: file) else { return nil }
        defer { try? handle.close() }
        var total = 0
        while true {
            let chunk: Data
            do { chunk = try handle.read(upToCount: 1 << 20) ?? Data() } catch { return nil }
            if chunk.isEmpty { break }
            total += chunk.count
            chunk.withUnsafeBytes { _ = EVP_DigestUpdate(context, $0.baseAddress, $0.count) }
        }
        guard total == size else { return nil }
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, &digest, &length)
        return Array(digest.prefix(Int(length)))
    }

    /// The same for bytes in memory (a symlink's target).
    static func blobID(_ content: [UInt8], hashLength: Int) -> [UInt8] {
        objectID(type: "blob", content, hashLength: hashLength)
    }

    /// git's id of an object of `type` with this content.
    static func objectID(type: String, _ content: [UInt8], hashLength: Int) -> [UInt8] {
        let hasher = FileDigests()
        let data = Array("\(type) \(content.count)\0".utf8) + content
        data.withUnsafeBytes { hasher.update($0) }
        let (sha1, sha256) = hasher.finish()
        return bytes(hashLength == 32 ? sha256 : sha1) ?? []
    }
}
