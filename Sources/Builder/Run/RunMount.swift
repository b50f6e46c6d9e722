import Dockerfile

/// One `RUN --mount=…` as BuildKit's frontend reads it (`instructions/commands_runmount.go`):
/// the same keys, defaults and error texts, so a Dockerfile written for buildx means the
/// same here.
struct RunMount: Equatable {
    enum Kind: String, CaseIterable {
        case bind, cache, tmpfs, secret, ssh
    }

    enum Sharing: String, CaseIterable {
        case shared, `private`, locked
    }

    var type: Kind = .bind
    var from = ""
    var source = ""
    var target = ""
    var readOnly = false
    var sizeLimit: Int64 = 0
    var id = ""
    var sharing: Sharing?
    var required = false
    /// `env=NAME` (secrets): the variable that receives the secret.
    var env: String?
    var mode: UInt32?
    var uid: UInt32?
    var gid: UInt32?

    private static let allKeys = ["type", "from", "source", "target", "readonly", "id", "sharing", "required", "size", "mode",
                                  "uid", "gid", "src", "dst", "destination", "ro", "rw", "readwrite", "env"]

    /// The `from=` word as written, checked as BuildKit checks it at parse time (no variable).
    static func literalFrom(_ value: String) throws -> String? {
        var from: String?
        for field in try CSVFields.split(value, what: "mounts") {
            let (key, word, hasValue) = split(field)
            guard hasValue, key == "from" else { continue }
            if let dollar = word.firstIndex(of: "$"), word.index(after: dollar) != word.endIndex {
                throw BuildError("'from' doesn't support variable expansion, define alias stage instead")
            }
            from = word
        }
        return from
    }

    /// Parses the flag's value; `expand` substitutes the stage's variables in each value.
    static func parse(_ value: String, expand: (String) throws -> String) throws -> RunMount {
        _ = try literalFrom(value)
        var mount = RunMount()
        var readOnlyGiven = false
        for field in try CSVFields.split(value, what: "mounts") {
            let (key, rawValue, hasValue) = split(field)
            guard hasValue else {
                switch key {
                case "readonly", "ro": mount.readOnly = true; readOnlyGiven = true
                case "readwrite", "rw": mount.readOnly = false; readOnlyGiven = true
                case "required":
                    guard mount.type == .secret || mount.type == .ssh else {
                        throw BuildError("unexpected key '\(key)' for mount type '\(mount.type.rawValue)'")
                    }
                    mount.required = true
                default:
                    throw BuildError("invalid field '\(field)' must be a key=value pair")
                }
                continue
            }
            let value = try expand(rawValue)
            switch key {
            case "type":
                guard let kind = Kind(rawValue: value.lowercased()) else {
                    throw BuildError(suggesting("unsupported mount type \"\(value)\"", value, Kind.allCases.map(\.rawValue)))
                }
                mount.type = kind
            case "from": mount.from = value
            case "source", "src": mount.source = value
            case "target", "dst", "destination": mount.target = value
            case "readonly", "ro":
                mount.readOnly = try bool(value, key)
                readOnlyGiven = true
            case "readwrite", "rw":
                mount.readOnly = !(try bool(value, key))
                readOnlyGiven = true
            case "required":
                guard mount.type == .secret || mount.type == .ssh else {
                    throw BuildError("unexpected key '\(key)' for mount type '\(mount.type.rawValue)'")
                }
                mount.required = try bool(value, key)
            case "size":
                guard mount.type == .tmpfs else {
                    throw BuildError("unexpected key '\(key)' for mount type '\(mount.type.rawValue)'")
                }
                guard let bytes = ramInBytes(value) else { throw BuildError("invalid value for \(key): \(value)") }
                mount.sizeLimit = bytes
            case "id": mount.id = value
            case "sharing":
                guard let sharing = Sharing(rawValue: value.lowercased()) else {
                    throw BuildError(suggesting("unsupported sharing value \"\(value)\"", value, Sharing.allCases.map(\.rawValue)))
                }
                mount.sharing = sharing
            case "mode":
                guard let mode = UInt32(value, radix: 8) else { throw BuildError("invalid value \(value) for mode") }
                mount.mode = mode
            case "uid":
                guard let uid = UInt32(value) else { throw BuildError("invalid value \(value) for uid") }
                mount.uid = uid
            case "gid":
                guard let gid = UInt32(value) else { throw BuildError("invalid value \(value) for gid") }
                mount.gid = gid
            case "env": mount.env = value
            default:
                throw BuildError(suggesting("unexpected key '\(key)' in '\(field)'", key, allKeys))
            }
        }
        if ![.secret, .ssh, .cache].contains(mount.type) {
            if mount.mode != nil { throw BuildError("mode not allowed for \"\(mount.type.rawValue)\" type mounts") }
            if mount.uid != nil { throw BuildError("uid not allowed for \"\(mount.type.rawValue)\" type mounts") }
            if mount.gid != nil { throw BuildError("gid not allowed for \"\(mount.type.rawValue)\" type mounts") }
        }
        if !readOnlyGiven { mount.readOnly = mount.type != .cache && mount.type != .tmpfs }
        if mount.type == .secret {
            if !mount.from.isEmpty { throw BuildError("secret mount should not have a from") }
            if mount.sharing != nil { throw BuildError("secret mount should not define sharing") }
            if mount.source.isEmpty && mount.target.isEmpty && mount.id.isEmpty {
                throw BuildError("invalid secret mount. one of source, target required")
            }
            if !mount.source.isEmpty && !mount.id.isEmpty { throw BuildError("both source and id can't be set") }
        }
        if mount.sharing != nil && mount.type != .cache {
            throw BuildError("invalid cache sharing set for \(mount.type.rawValue) mount")
        }
        return mount
    }

    private static func split(_ field: String) -> (key: String, value: String, hasValue: Bool) {
        guard let eq = field.firstIndex(of: "=") else { return (field.lowercased(), "", false) }
        return (String(field[..<eq]).lowercased(), String(field[field.index(after: eq)...]), true)
    }

    /// Go's strconv.ParseBool.
    private static func bool(_ value: String, _ key: String) throws -> Bool {
        if ["1", "t", "T", "TRUE", "true", "True"].contains(value) { return true }
        if ["0", "f", "F", "FALSE", "false", "False"].contains(value) { return false }
        throw BuildError("invalid value for \(key): \(value)")
    }

    /// docker/go-units RAMInBytes: `128m`, `1g`, `512k`, `1024` (binary units, optional `b`/`ib`).
    static func ramInBytes(_ text: String) -> Int64? {
        let lower = text.lowercased()
        let number = lower.prefix { $0.isNumber || $0 == "." }
        var unit = String(lower.dropFirst(number.count)).trimmingCharacters(in: .whitespaces)
        if unit.hasSuffix("ib") { unit.removeLast(2) } else if unit.hasSuffix("b") { unit.removeLast() }
        let factors: [String: Double] = ["": 1, "k": 1024, "m": 1_048_576, "g": 1_073_741_824, "t": 1_099_511_627_776, "p": 1_125_899_906_842_624]
        guard let value = Double(number), value >= 0, let factor = factors[unit] else { return nil }
        return Int64(value * factor)
    }

    /// BuildKit's "(did you mean X?)" for a near miss (edit distance below 3).
    static func suggesting(_ message: String, _ value: String, _ options: [String]) -> String {
        var best: String?
        var distance = 3
        for option in options {
            if option == value.lowercased() { return message }
            let d = EditDistance.between(value.lowercased(), option)
            if d < distance { distance = d; best = option }
        }
        guard let best else { return message }
        return message + " (did you mean \(best)?)"
    }
}

/// Go's encoding/csv for one line, as BuildKit and buildx split `--mount` and `--secret`
/// values: `,` separates fields, a field may be double-quoted (`""` inside is a quote).
enum CSVFields {
    static func split(_ text: String, what: String) throws -> [String] {
        var fields: [String] = []
        var current = ""
        var index = text.startIndex
        var quotedField = false
        while index <= text.endIndex {
            if index == text.endIndex {
                fields.append(current)
                break
            }
            let c = text[index]
            if current.isEmpty && !quotedField && c == "\"" {
                quotedField = true
                index = text.index(after: index)
                var closed = false
                while index < text.endIndex {
                    let q = text[index]
                    index = text.index(after: index)
                    if q == "\"" {
                        if index < text.endIndex && text[index] == "\"" {
                            current.append("\"")
                            index = text.index(after: index)
                        } else {
                            closed = true
                            break
                        }
                    } else {
                        current.append(q)
                    }
                }
                guard closed, index == text.endIndex || text[index] == "," else {
                    throw BuildError("failed to parse csv \(what): extraneous or missing \" in quoted-field")
                }
                continue
            }
            if c == "," {
                fields.append(current)
                current = ""
                quotedField = false
            } else if c == "\"" {
                throw BuildError("failed to parse csv \(what): bare \" in non-quoted-field")
            } else {
                current.append(c)
            }
            index = text.index(after: index)
        }
        return fields
    }
}
