import Foundation

/// git's index file (`.git/index`, formats 2, 3 and 4), read without running git: each
/// entry's path, mode, size, modification time, object id, stage and skip-worktree /
/// intent-to-add flags. A split index (`link` extension) is not followed: `unsupported` says
/// so. Anything malformed reads as nil. `treeID` is what `git write-tree` would make of it.
struct GitIndex {
    struct Entry {
        var path: String
        var mode: UInt32
        var size: UInt32
        var mtimeSeconds: UInt32
        var mtimeNanoseconds: UInt32
        var id: [UInt8]
        var stage: Int
        var skipWorktree: Bool
        var intentToAdd: Bool
        /// `git update-index --assume-unchanged`: git does not look at the file.
        var assumeValid: Bool
    }

    var entries: [Entry] = []
    var unsupported: String?

    /// At most this many entries (git's own large repositories have a few million).
    static let entryLimit = 4_000_000
    static let fileLimit = 512 << 20

    static func read(_ path: String, hashLength: Int) -> GitIndex? {
        guard let data = GitObjects.file(path, limit: fileLimit) else { return nil }
        return parse(data, hashLength: hashLength)
    }

    static func parse(_ data: [UInt8], hashLength: Int) -> GitIndex? {
        func u32(_ at: Int) -> UInt32? {
            guard at >= 0, at + 4 <= data.count else { return nil }
            return UInt32(data[at]) << 24 | UInt32(data[at + 1]) << 16 | UInt32(data[at + 2]) << 8 | UInt32(data[at + 3])
        }
        func u16(_ at: Int) -> UInt16? {
            guard at >= 0, at + 2 <= data.count else { return nil }
            return UInt16(data[at]) << 8 | UInt16(data[at + 1])
        }
        guard data.count >= 12 + hashLength, data[0..<4].elementsEqual(Array("DIRC".utf8)),
              let version = u32(4), (2...4).contains(version), let count = u32(8), count <= entryLimit else { return nil }
        let end = data.count - hashLength
        var index = GitIndex()
        index.entries.reserveCapacity(Int(count))
        var position = 12
        var previous: [UInt8] = []
        for _ in 0..<count {
            let start = position
            guard let mtime = u32(start + 8), let mtimeNs = u32(start + 12), let mode = u32(start + 24), let size = u32(start + 36) else { return nil }
            let idStart = start + 40
            guard idStart + hashLength + 2 <= end, let flags = u16(idStart + hashLength) else { return nil }
            position = idStart + hashLength + 2
            var extended: UInt16 = 0
            if flags & 0x4000 != 0 {
                guard version >= 3, let more = u16(position) else { return nil }
                extended = more
                position += 2
                guard position <= end else { return nil }
            }
            var name: [UInt8]
            if version == 4 {
                // Prefix compression: drop N bytes of the previous path, then a NUL-terminated suffix.
                var strip = 0
                guard position < end else { return nil }
                var c = Int(data[position])
                strip = c & 0x7F
                while c & 0x80 != 0 {
                    position += 1
                    guard position < end, strip < 1 << 30 else { return nil }
                    c = Int(data[position])
                    strip = ((strip + 1) << 7) | (c & 0x7F)
                }
                position += 1
                guard strip <= previous.count, let nul = data[position..<end].firstIndex(of: 0) else { return nil }
                name = Array(previous.dropLast(strip)) + data[position..<nul]
                position = nul + 1
            } else {
                guard let nul = data[position..<end].firstIndex(of: 0) else { return nil }
                name = Array(data[position..<nul])
                // Entries are padded with 1-8 NULs to a multiple of 8 bytes.
                let length = nul - start
                position = start + ((length + 8) & ~7)
                guard position <= end else { return nil }
            }
            previous = name
            index.entries.append(Entry(path: String(decoding: name, as: UTF8.self), mode: mode, size: size, mtimeSeconds: mtime,
                                       mtimeNanoseconds: mtimeNs, id: Array(data[idStart..<(idStart + hashLength)]),
                                       stage: Int((flags >> 12) & 3), skipWorktree: extended & 0x4000 != 0, intentToAdd: extended & 0x2000 != 0,
                                       assumeValid: flags & 0x8000 != 0))
        }
        // Extensions: signature, size, data; until the trailing checksum.
        while position + 8 <= end {
            let signature = String(decoding: data[position..<(position + 4)], as: UTF8.self)
            guard let size = u32(position + 4), position + 8 + Int(size) <= end else { return nil }
            if signature == "link" { index.unsupported = "a split index" }
            position += 8 + Int(size)
        }
        return index
    }

    /// The id of the tree the index's entries make (git's `write-tree`, without writing
    /// anything): per directory, entries `<mode> <name>\0<id>` in the index's byte order (which
    /// is git's tree order), each directory a tree of its own. Only for an index of stage-0
    /// entries; a sparse index's directory entries (mode 040000) are trees already.
    func treeID(hashLength: Int) -> [UInt8] {
        var position = 0
        return tree(prefix: "", position: &position, hashLength: hashLength)
    }

    private func tree(prefix: String, position: inout Int, hashLength: Int) -> [UInt8] {
        var content: [UInt8] = []
        while position < entries.count, entries[position].path.hasPrefix(prefix) {
            let entry = entries[position]
            let rest = entry.path.dropFirst(prefix.count)
            if let slash = rest.firstIndex(of: "/") {
                let name = String(rest[..<slash])
                let id = tree(prefix: prefix + name + "/", position: &position, hashLength: hashLength)
                content += Array("40000 \(name)".utf8) + [0] + id
            } else {
                let mode = entry.mode & 0o170000 == 0o040000 ? "40000" : String(entry.mode, radix: 8)
                content += Array("\(mode) \(rest)".utf8) + [0] + entry.id
                position += 1
            }
        }
        return GitObjects.objectID(type: "tree", content, hashLength: hashLength)
    }
}
