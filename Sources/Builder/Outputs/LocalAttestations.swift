import Foundation
import Layers
import OCI

/// Attestations of a `type=local` output, written as BuildKit's local exporter writes them
/// (exporter/local/fs.go): one file per attestation beside the platform's files —
/// `provenance.json` (BuildKit's provenance file name) and `sbom.spdx.json` (the SBOM
/// scanner's `sbom` core name) — each a whole in-toto Statement whose subjects are every
/// regular file of that output by path and SHA-256, not an image manifest (there is none).
/// Mode 0600, as BuildKit writes them. With several platforms each platform's directory
/// (`linux_amd64/`) gets its own, about its own files.
enum LocalAttestations {
    /// The file name BuildKit gives an attestation of this predicate type.
    static func fileName(predicateType: String) -> String {
        switch predicateType {
        case SPDXDocument.predicateType: return "sbom.spdx.json"
        case let type where type.hasPrefix("https://slsa.dev/provenance/"): return "provenance.json"
        default: return "attestation.json"
        }
    }

    /// The attestation files of one platform's output `tree`, as entries at its root.
    static func entries(for tree: FileTree, predicates: [(type: String, predicate: JSONValue)]) throws -> [LayerEntry] {
        guard !predicates.isEmpty else { return [] }
        let subjects = try fileSubjects(tree)
        return predicates.map { statement in
            let document = JSONValue.object([
                "_type": .string(Attestor.statementType), "subject": .array(subjects),
                "predicateType": .string(statement.type), "predicate": statement.predicate,
            ])
            return LayerEntry.file(fileName(predicateType: statement.type), source: .bytes(indented(document)), mode: 0o600)
        }
    }

    /// Every regular file (and hard link, which is one) of the tree, sorted by path, with the
    /// SHA-256 of its content: BuildKit's subjects for a local output.
    static func fileSubjects(_ tree: FileTree) throws -> [JSONValue] {
        var subjects: [(path: String, digest: Digest)] = []
        var byPath: [String: LayerEntry.FileSource] = [:]
        let entries = tree.allEntries.filter { !$0.path.isEmpty }
        for entry in entries { if case .regularFile(let source) = entry.kind { byPath[entry.path] = source } }
        for entry in entries {
            let source: LayerEntry.FileSource?
            switch entry.kind {
            case .regularFile(let own): source = own
            case .hardlink(let target): source = byPath[target]
            case .directory, .symlink, .special: source = nil
            }
            guard let source else { continue }
            subjects.append((entry.path, try digest(of: source, path: entry.path)))
        }
        return subjects.sorted { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }.map {
            .object(["name": .string($0.path), "digest": .strings(["sha256": $0.digest.hex])])
        }
    }

    /// Streams a file's content through SHA-256 (never whole in memory).
    private static func digest(of source: LayerEntry.FileSource, path: String) throws -> Digest {
        let hasher = SHA256Hasher()
        switch source {
        case .bytes(let bytes): hasher.update(bytes)
        case .path(let file):
            guard let handle = FileHandle(forReadingAtPath: file) else { throw BuildError("cannot read \(file) for the attestation subject \(path)") }
            defer { try? handle.close() }
            while true {
                let chunk = try handle.read(upToCount: 1 << 20) ?? Data()
                if chunk.isEmpty { break }
                chunk.withUnsafeBytes { hasher.update($0) }
            }
        }
        return hasher.finalize()
    }

    /// Two-space indented JSON as Go's `json.MarshalIndent(stmt, "", "  ")` writes a
    /// statement: the header fields in in-toto's order, object keys sorted below them.
    static func indented(_ document: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        write(document, depth: 0, topLevel: true, into: &out)
        return out + [0x0A]
    }

    private static let headerOrder = ["_type", "predicateType", "subject", "predicate"]

    private static func write(_ value: JSONValue, depth: Int, topLevel: Bool = false, into out: inout [UInt8]) {
        let indent = { (level: Int) -> [UInt8] in [0x0A] + Array(repeating: 0x20, count: level * 2) }
        switch value {
        case .array(let items):
            guard !items.isEmpty else { out += Array("[]".utf8); return }
            out.append(0x5B)
            for (offset, item) in items.enumerated() {
                if offset > 0 { out.append(0x2C) }
                out += indent(depth + 1)
                write(item, depth: depth + 1, into: &out)
            }
            out += indent(depth) + [0x5D]
        case .object(let members):
            guard !members.isEmpty else { out += Array("{}".utf8); return }
            let sorted = members.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            let keys = topLevel ? headerOrder.filter { members[$0] != nil } + sorted.filter { !headerOrder.contains($0) } : sorted
            out.append(0x7B)
            for (offset, key) in keys.enumerated() {
                if offset > 0 { out.append(0x2C) }
                out += indent(depth + 1) + JSONValue.string(key).serialized() + Array(": ".utf8)
                write(members[key] ?? .null, depth: depth + 1, into: &out)
            }
            out += indent(depth) + [0x7D]
        case .string, .int, .bool, .null:
            out += value.serialized()
        }
    }
}
