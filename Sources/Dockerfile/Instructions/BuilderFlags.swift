/// Validation of an instruction's `--flags` (BuildKit's `BFlags`): a Dockerfile with a typo in a
/// flag must fail at its line instead of silently building something else.
struct BuilderFlags {
    enum Kind {
        /// `--link`, `--link=true`, `--link=false` (case-insensitive values).
        case bool
        /// `--from=x`, at most once.
        case string
        /// `--exclude=x`, repeatable.
        case strings
    }

    /// Declared flags in declaration order (for messages).
    let declared: [(name: String, kind: Kind)]
    private(set) var bools: [String: Bool] = [:]
    private(set) var strings: [String: String] = [:]
    private(set) var lists: [String: [String]] = [:]

    init(_ declared: [(String, Kind)]) {
        self.declared = declared.map { (name: $0.0, kind: $0.1) }
    }

    /// Parses `flags` (as written, `--name[=value]`). `instruction` is used in messages.
    mutating func parse(_ flags: [String], instruction: String) throws(BuilderFlagsError) {
        var used: Set<String> = []
        for flag in flags {
            if flag == "--" { return }
            guard flag.unicodeScalars.starts(with: "--".unicodeScalars) else {
                throw BuilderFlagsError("arg should start with -- : \(flag)")
            }
            let flagName: Substring
            let value: Substring
            let hasValue: Bool
            if let eq = flag.unicodeScalars.firstIndex(of: "=") {
                flagName = flag[..<eq]
                value = flag[flag.unicodeScalars.index(after: eq)...]
                hasValue = true
            } else {
                flagName = flag[...]
                value = ""
                hasValue = false
            }
            let name = String(flagName.dropFirst(2))
            guard let kind = declared.first(where: { $0.name == name })?.kind else {
                throw BuilderFlagsError(unknownFlagMessage(String(flagName), name: name, instruction: instruction))
            }
            if used.contains(name) && kind != .strings {
                throw BuilderFlagsError("duplicate flag specified: \(flagName) (give it only once)")
            }
            used.insert(name)
            switch kind {
            case .bool:
                if hasValue && value.isEmpty {
                    throw BuilderFlagsError("missing a value on flag: \(flagName) (write \(flagName), \(flagName)=true or \(flagName)=false)")
                }
                switch value.lowercased() {
                case "true", "": bools[name] = true
                case "false": bools[name] = false
                default:
                    throw BuilderFlagsError("expecting boolean value for flag \(flagName), not: \(value) (use true or false)")
                }
            case .string:
                guard hasValue else {
                    throw BuilderFlagsError("missing a value on flag: \(flagName) (write \(flagName)=<value>)")
                }
                strings[name] = String(value)
            case .strings:
                guard hasValue else {
                    throw BuilderFlagsError("missing a value on flag: \(flagName) (write \(flagName)=<value>)")
                }
                lists[name, default: []].append(String(value))
            }
        }
    }

    /// A string flag's value, with empty treated as absent (BuildKit's zero value).
    func string(_ name: String) -> String? {
        guard let v = strings[name], !v.isEmpty else { return nil }
        return v
    }

    private func unknownFlagMessage(_ flag: String, name: String, instruction: String) -> String {
        var message = "unknown flag: \(flag)"
        if let suggestion = declared.map(\.name).min(by: { Self.editDistance($0, name) < Self.editDistance($1, name) }),
           Self.editDistance(suggestion, name) <= 2 {
            message += " (did you mean --\(suggestion)?)"
        } else if declared.isEmpty {
            message += " (\(instruction) takes no flags)"
        } else {
            message += " (\(instruction) accepts " + declared.map { "--" + $0.name }.joined(separator: ", ") + ")"
        }
        return message
    }

    /// Levenshtein distance, for "did you mean" hints.
    static func editDistance(_ a: String, _ b: String) -> Int { EditDistance.between(a, b) }
}

struct BuilderFlagsError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}
