/// One value of a list key written in buildx's CSV syntax or as an object: an `output`,
/// `cache-from`/`cache-to`, `attest`, `secret` or `ssh` entry. Kept as buildx keeps it
/// (type and attributes), so `--print` shows it as buildx does and the build gets it back as
/// the flag text.
public struct BakeEntry: Sendable, Equatable {
    public enum Kind: Sendable { case output, cache, attest, secret, ssh }

    public var attributes: [String: String]

    public init(_ attributes: [String: String]) { self.attributes = attributes }

    public var type: String? { attributes["type"] }

    /// The flag text (`type=registry,ref=…`): type first, the rest sorted.
    public var flagText: String {
        var fields: [String] = []
        if let type = attributes["type"] { fields.append("type=\(type)") }
        for key in attributes.keys.sorted() where key != "type" { fields.append("\(key)=\(attributes[key] ?? "")") }
        return fields.joined(separator: ",")
    }

    /// One text as buildx's list parsers read it: nothing for "", and for caches a list of
    /// bare references (`"ref1,ref2"`) is one registry entry each.
    public static func parseList(_ text: String, kind: Kind) throws -> [BakeEntry] {
        if text.isEmpty { return [] }
        if kind == .cache {
            let fields = try csvFields(text)
            if fields.count > 1, fields.allSatisfy({ !$0.contains("=") }) {
                return fields.map { BakeEntry(["type": "registry", "ref": $0]) }
            }
        }
        return [try parse(text, kind: kind)]
    }

    /// Parses buildx's CSV form (fields may be double-quoted, as `csvvalue` reads them).
    public static func parse(_ text: String, kind: Kind) throws -> BakeEntry {
        let fields = try csvFields(text)
        switch kind {
        case .output:
            if fields.count == 1, !text.hasPrefix("type="), !fields[0].contains("=") {
                return BakeEntry(text == "-" ? ["type": "tar", "dest": "-"] : ["type": "local", "dest": text])
            }
        case .cache:
            if fields.count == 1, !fields[0].contains("=") { return BakeEntry(["type": "registry", "ref": fields[0]]) }
        case .ssh:
            // buildx: ID[=PATH[,PATH…]]
            guard let first = fields.first else { throw BakeError("'\(text)': an ssh entry needs an id") }
            let pair = first.split(separator: "=", maxSplits: 1).map(String.init)
            var attributes = ["id": pair[0]]
            let paths = (pair.count == 2 ? [pair[1]] : []) + fields.dropFirst()
            if !paths.isEmpty { attributes["paths"] = paths.joined(separator: ",") }
            return BakeEntry(attributes)
        default:
            break
        }
        var attributes: [String: String] = [:]
        for field in fields {
            guard let eq = field.firstIndex(of: "=") else {
                if kind == .ssh { attributes["id"] = field; continue }
                throw BakeError("invalid value '\(field)' in '\(text)': expected key=value")
            }
            var key = String(field[..<eq]).lowercased().trimmingSpaces
            let value = String(field[field.index(after: eq)...])
            if kind == .secret && key == "source" { key = "src" }
            if kind == .secret && key == "target" { key = "env" }
            attributes[key] = value
        }
        switch kind {
        case .output, .cache, .attest:
            guard attributes["type"] != nil else { throw BakeError("'\(text)': type= is required") }
        case .secret:
            let type = attributes.removeValue(forKey: "type")
            if let type, type != "file", type != "env" { throw BakeError("'\(text)': unsupported secret type '\(type)'") }
            if type == "env", attributes["env"] == nil, let source = attributes.removeValue(forKey: "src") { attributes["env"] = source }
            if type == nil, attributes["src"] == nil, attributes["env"] == nil, let id = attributes["id"] { attributes["env"] = id }
        case .ssh:
            break
        }
        if kind == .attest, let disabled = attributes["disabled"] {
            guard let flag = Bool(disabled.lowercased()) else { throw BakeError("'\(text)': disabled= must be true or false") }
            attributes["disabled"] = flag ? "true" : nil
        }
        return BakeEntry(attributes)
    }

    /// Splits on commas outside double quotes; quotes are removed (`"a,b"` is one field).
    static func csvFields(_ text: String) throws -> [String] {
        var fields: [String] = []
        var current = ""
        var quoted = false
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if character == "\"" {
                let next = text.index(after: index)
                if quoted, next < text.endIndex, text[next] == "\"" { current.append("\""); index = text.index(after: next); continue }
                quoted.toggle()
            } else if character == ",", !quoted {
                fields.append(current)
                current = ""
            } else {
                current.append(character)
            }
            index = text.index(after: index)
        }
        guard !quoted else { throw BakeError("'\(text)': unterminated quote") }
        fields.append(current)
        return fields.filter { !$0.isEmpty }
    }
}

/// buildx's de-duplication rules for entry lists.
enum EntryRules {
    /// Exact duplicates removed, as buildx's `removeDupes` does (which moves a later duplicate
    /// to the end before dropping it, so the order is buildx's too).
    static func removeDuplicates(_ list: [BakeEntry]) -> [BakeEntry] {
        var s = list
        var i = s.count - 2
        while i >= 0 {
            var j = i + 1
            while j < s.count {
                if s[i] == s[j] {
                    s.swapAt(j, s.count - 1)
                    s.removeLast()
                    break
                }
                j += 1
            }
            i -= 1
        }
        return s
    }

    /// One entry per key (attest: `type`, secret: `id`); a later one replaces an earlier in place.
    static func lastPer(_ key: String, _ list: [BakeEntry]) -> [BakeEntry] {
        var result: [BakeEntry] = []
        var seen: [String: Int] = [:]
        for entry in list {
            let value = entry.attributes[key] ?? ""
            if let at = seen[value] { result[at] = entry } else { seen[value] = result.count; result.append(entry) }
        }
        return result
    }
}
