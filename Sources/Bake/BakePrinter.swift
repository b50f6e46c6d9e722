/// `bake --print`: the resolved definition as buildx prints it — Go's
/// `json.MarshalIndent(…, "", "  ")` of buildx's structs (fields in buildx's order, map keys
/// sorted, `<`, `>`, `&` escaped as Go escapes them, `${` written `$${` so the output reads
/// back as the same file).
public enum BakePrinter {
    indirect enum Node {
        case string(String)
        case bool(Bool)
        case number(Double)
        case null
        case array([Node])
        /// Ordered members (struct fields); maps are sorted before they get here.
        case object([(String, Node)])
    }

    public static func print(_ plan: BakePlan) -> String {
        var root: [(String, Node)] = []
        if !plan.groups.isEmpty {
            root.append(("group", .object(plan.groups.keys.sorted().compactMap { name in
                guard let group = plan.groups[name] else { return nil }
                var fields: [(String, Node)] = []
                if let description = group.description, !description.isEmpty { fields.append(("description", .string(description))) }
                fields.append(("targets", .array(group.targets.map { .string($0) })))
                return (name, .object(fields))
            })))
        }
        root.append(("target", .object(plan.targets.keys.sorted().compactMap { name in
            plan.targets[name].map { (name, target($0)) }
        })))
        var out = ""
        write(.object(root), indent: "", into: &out)
        return out
    }

    static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "${", with: "$${").replacingOccurrences(of: "%{", with: "%%{")
    }

    static func target(_ t: BakeTarget) -> Node {
        var fields: [(String, Node)] = []
        func add(_ key: String, _ value: String?) { if let value { fields.append((key, .string(value))) } }
        func add(_ key: String, _ list: [String]?) { if let list, !list.isEmpty { fields.append((key, .array(list.map { .string($0) }))) } }
        func add(_ key: String, _ map: [String: String?]?, escape: Bool) {
            guard let map, !map.isEmpty else { return }
            fields.append((key, .object(map.keys.sorted().map { key in
                guard let value = map[key] ?? nil else { return (key, .null) }
                return (key, .string(escape ? escaped(value) : value))
            })))
        }
        func add(_ key: String, _ entries: [BakeEntry]?, attest: Bool = false) {
            guard let entries, !entries.isEmpty else { return }
            fields.append((key, .array(entries.map { entry in
                .object(entry.attributes.keys.sorted().map { name in
                    attest && name == "disabled" ? (name, .bool(entry.attributes[name] == "true")) : (name, .string(entry.attributes[name] ?? ""))
                })
            })))
        }
        func addSecrets(_ key: String, _ entries: [BakeEntry]?, order: [String]) {
            guard let entries, !entries.isEmpty else { return }
            fields.append((key, .array(entries.map { entry in
                .object(order.compactMap { name in entry.attributes[name].flatMap { $0.isEmpty ? nil : (name, .string($0)) } })
            })))
        }
        if let description = t.description, !description.isEmpty { add("description", description) }
        add("inherits", t.inherits)
        add("annotations", t.annotations.map { $0.map(escaped) })
        add("attest", t.attest, attest: true)
        add("context", t.context)
        add("contexts", t.contexts.map { $0.mapValues { Optional($0) } }, escape: false)
        add("dockerfile", t.dockerfile)
        add("dockerfile-inline", t.dockerfileInline.map(escaped))
        add("args", t.args, escape: true)
        add("labels", t.labels, escape: true)
        add("tags", t.tags)
        add("cache-from", t.cacheFrom)
        add("cache-to", t.cacheTo)
        add("target", t.target)
        addSecrets("secret", t.secret, order: ["id", "src", "env"])
        addSecrets("ssh", t.ssh, order: ["id", "paths"])
        add("platforms", t.platforms)
        add("output", t.output)
        if let pull = t.pull { fields.append(("pull", .bool(pull))) }
        if let noCache = t.noCache { fields.append(("no-cache", .bool(noCache))) }
        add("network", t.network)
        add("no-cache-filter", t.noCacheFilter)
        add("entitlements", t.entitlements)
        add("extra-hosts", t.extraHosts, escape: true)
        return .object(fields)
    }

    static func write(_ node: Node, indent: String, into out: inout String) {
        switch node {
        case .string(let text): out += quote(text)
        case .bool(let flag): out += flag ? "true" : "false"
        case .number(let number): out += BakeValue.format(number)
        case .null: out += "null"
        case .array(let items):
            guard !items.isEmpty else { out += "[]"; return }
            out += "[\n"
            for (i, item) in items.enumerated() {
                out += indent + "  "
                write(item, indent: indent + "  ", into: &out)
                out += i == items.count - 1 ? "\n" : ",\n"
            }
            out += indent + "]"
        case .object(let members):
            guard !members.isEmpty else { out += "{}"; return }
            out += "{\n"
            for (i, (key, value)) in members.enumerated() {
                out += indent + "  " + quote(key) + ": "
                write(value, indent: indent + "  ", into: &out)
                out += i == members.count - 1 ? "\n" : ",\n"
            }
            out += indent + "}"
        }
    }

    /// Go's `encoding/json` string escaping (HTML-safe, as `json.Marshal` writes).
    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "<": out += "\\u003c"
            case ">": out += "\\u003e"
            case "&": out += "\\u0026"
            case "\u{2028}": out += "\\u2028"
            case "\u{2029}": out += "\\u2029"
            default:
                if scalar.value < 0x20 {
                    out += "\\u00" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// `jsonencode`: compact JSON of a value (keys sorted).
    static func compact(_ value: BakeValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .number(let number): return BakeValue.format(number)
        case .string(let text): return quote(text)
        case .list(let items): return "[" + items.map(compact).joined(separator: ",") + "]"
        case .object(let members): return "{" + members.keys.sorted().map { quote($0) + ":" + compact(members[$0] ?? .null) }.joined(separator: ",") + "}"
        }
    }
}
