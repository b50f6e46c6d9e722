import Foundation

/// The built-in functions of bake files: the part of buildx's standard library (go-cty's
/// stdlib and Terraform's) that release files use — strings, lists, maps, numbers, logic,
/// encoding, regular expressions and paths. `timestamp()` and the other clock functions are
/// left out on purpose: slipway's builds are reproducible (use `SOURCE_DATE_EPOCH`).
enum HCLFunctions {
    struct Failure: Error { var message: String }

    static func fail(_ message: String) -> Failure { Failure(message: message) }

    static func string(_ value: BakeValue, _ what: String = "argument") throws -> String {
        guard let text = value.stringValue else { throw fail("the \(what) must be a string, not a \(value.typeName)") }
        return text
    }

    static func list(_ value: BakeValue, _ what: String = "argument") throws -> [BakeValue] {
        guard case .list(let items) = value else { throw fail("the \(what) must be a list, not a \(value.typeName)") }
        return items
    }

    static func object(_ value: BakeValue) throws -> [String: BakeValue] {
        guard case .object(let members) = value else { throw fail("the argument must be a map or an object, not a \(value.typeName)") }
        return members
    }

    static func number(_ value: BakeValue) throws -> Double {
        switch value {
        case .number(let number): return number
        case .string(let text): if let number = Double(text) { return number }
        default: break
        }
        throw fail("the argument must be a number, not a \(value.typeName)")
    }

    /// A whole number within ±2^53 (HCL numbers are doubles; larger ones are no index or count).
    static func integer(_ value: BakeValue) throws -> Int {
        let n = try number(value)
        guard n == n.rounded(), abs(n) <= 9_007_199_254_740_992 else { throw fail("\(BakeValue.format(n)) is not a whole number in range") }
        return Int(n)
    }

    static func bool(_ value: BakeValue) throws -> Bool {
        switch value {
        case .bool(let flag): return flag
        case .string("true"): return true
        case .string("false"): return false
        default: throw fail("the argument must be a bool, not a \(value.typeName)")
        }
    }

    static func count(_ arguments: [BakeValue], _ expected: Int) throws {
        guard arguments.count == expected else { throw fail("takes \(expected) argument\(expected == 1 ? "" : "s"), got \(arguments.count)") }
    }

    static let names: Set<String> = [
        "absolute", "add", "and", "base64decode", "base64encode", "basename", "ceil", "chomp", "chunklist", "coalesce",
        "coalescelist", "compact", "concat", "contains", "csvdecode", "dirname", "distinct", "divide", "element", "equal",
        "flatten", "floor", "format", "formatlist", "greaterthan", "greaterthanorequalto", "hasindex", "homedir", "indent",
        "index", "indexof", "int", "join", "jsondecode", "jsonencode", "keys", "length", "lessthan", "lessthanorequalto",
        "lookup", "lower", "max", "merge", "min", "modulo", "multiply", "negate", "not", "notequal", "or", "parseint", "pow",
        "range", "regex", "regex_replace", "regexall", "replace", "reverse", "reverselist", "sanitize", "sethaselement",
        "setintersection", "setsubtract", "setunion", "signum", "slice", "sort", "split", "strlen", "substr", "subtract",
        "title", "tobool", "tolist", "tomap", "tonumber", "toset", "tostring", "trim", "trimprefix", "trimspace", "trimsuffix",
        "upper", "urlencode", "values", "zipmap",
    ]

    static func call(_ name: String, _ a: [BakeValue]) throws -> BakeValue {
        switch name {
        // Logic and comparison
        case "equal": try count(a, 2); return .bool(a[0] == a[1])
        case "notequal": try count(a, 2); return .bool(a[0] != a[1])
        case "and": guard a.count >= 2 else { throw fail("takes at least 2 arguments") }; return .bool(try a.allSatisfy { try bool($0) })
        case "or": guard a.count >= 2 else { throw fail("takes at least 2 arguments") }; return .bool(try a.contains { try bool($0) })
        case "not": try count(a, 1); return .bool(!(try bool(a[0])))
        case "greaterthan": try count(a, 2); return .bool(try number(a[0]) > number(a[1]))
        case "greaterthanorequalto": try count(a, 2); return .bool(try number(a[0]) >= number(a[1]))
        case "lessthan": try count(a, 2); return .bool(try number(a[0]) < number(a[1]))
        case "lessthanorequalto": try count(a, 2); return .bool(try number(a[0]) <= number(a[1]))
        // Numbers
        case "add": try count(a, 2); return .number(try number(a[0]) + number(a[1]))
        case "subtract": try count(a, 2); return .number(try number(a[0]) - number(a[1]))
        case "multiply": try count(a, 2); return .number(try number(a[0]) * number(a[1]))
        case "divide":
            try count(a, 2)
            let divisor = try number(a[1])
            guard divisor != 0 else { throw fail("division by zero") }
            return .number(try number(a[0]) / divisor)
        case "modulo":
            try count(a, 2)
            let divisor = try number(a[1])
            guard divisor != 0 else { throw fail("modulo by zero") }
            return .number(try number(a[0]).truncatingRemainder(dividingBy: divisor))
        case "negate": try count(a, 1); return .number(-(try number(a[0])))
        case "absolute": try count(a, 1); return .number(abs(try number(a[0])))
        case "ceil": try count(a, 1); return .number(try number(a[0]).rounded(.up))
        case "floor": try count(a, 1); return .number(try number(a[0]).rounded(.down))
        case "int": try count(a, 1); return .number(try number(a[0]).rounded(.towardZero))
        case "signum": try count(a, 1); let n = try number(a[0]); return .number(n > 0 ? 1 : n < 0 ? -1 : 0)
        case "pow": try count(a, 2); return .number(Foundation.pow(try number(a[0]), try number(a[1])))
        case "max", "min":
            guard !a.isEmpty else { throw fail("takes at least 1 argument") }
            let numbers = try a.map(number)
            return .number((name == "max" ? numbers.max() : numbers.min()) ?? 0)
        case "parseint":
            try count(a, 2)
            guard let base = Int(exactly: try number(a[1])), (2...62).contains(base), let value = Int(try string(a[0]), radix: base) else {
                throw fail("cannot parse '\(a[0].stringValue ?? "")' as an integer in that base")
            }
            return .number(Double(value))
        case "tonumber": try count(a, 1); return a[0] == .null ? .null : .number(try number(a[0]))
        case "tostring": try count(a, 1); return a[0] == .null ? .null : .string(try string(a[0]))
        case "tobool": try count(a, 1); return a[0] == .null ? .null : .bool(try bool(a[0]))
        case "tolist", "toset": try count(a, 1); return .list(try list(a[0]))
        case "tomap": try count(a, 1); return .object(try object(a[0]))
        // Strings
        case "lower": try count(a, 1); return .string(try string(a[0]).lowercased())
        case "upper": try count(a, 1); return .string(try string(a[0]).uppercased())
        case "title":
            try count(a, 1)
            var result = ""
            var startOfWord = true
            for character in try string(a[0]) {
                result += startOfWord ? character.uppercased() : String(character)
                startOfWord = character.isWhitespace
            }
            return .string(result)
        case "strlen": try count(a, 1); return .number(Double(try string(a[0]).count))
        case "substr":
            try count(a, 3)
            let text = Array(try string(a[0]))
            var offset = try integer(a[1])
            var length = try integer(a[2])
            if offset < 0 { offset += text.count }
            guard offset >= 0, offset <= text.count else { throw fail("offset out of range") }
            if length < 0 || offset + length > text.count { length = text.count - offset }
            return .string(String(text[offset..<offset + length]))
        case "join":
            guard a.count >= 2 else { throw fail("takes a separator and at least one list") }
            let separator = try string(a[0], "separator")
            let items = try a.dropFirst().flatMap { try list($0) }
            return .string(try items.map { try string($0, "list element") }.joined(separator: separator))
        case "split":
            try count(a, 2)
            let separator = try string(a[0]), text = try string(a[1])
            if separator.isEmpty { return .list(text.map { .string(String($0)) }) }
            return .list(text.components(separatedBy: separator).map { .string($0) })
        case "replace":
            try count(a, 3)
            let text = try string(a[0]), search = try string(a[1]), replacement = try string(a[2])
            if search.count > 1, search.hasPrefix("/"), search.hasSuffix("/") {
                return .string(try regexReplace(text, String(search.dropFirst().dropLast()), replacement))
            }
            return .string(search.isEmpty ? text : text.replacingOccurrences(of: search, with: replacement))
        case "regex_replace":
            try count(a, 3)
            return .string(try regexReplace(try string(a[0]), try string(a[1]), try string(a[2])))
        case "regex", "regexall":
            try count(a, 2)
            return try regex(try string(a[0]), try string(a[1]), all: name == "regexall")
        case "trimprefix": try count(a, 2); let t = try string(a[0]), p = try string(a[1]); return .string(t.hasPrefix(p) ? String(t.dropFirst(p.count)) : t)
        case "trimsuffix": try count(a, 2); let t = try string(a[0]), s = try string(a[1]); return .string(t.hasSuffix(s) ? String(t.dropLast(s.count)) : t)
        case "trimspace": try count(a, 1); return .string(try string(a[0]).trimmingCharacters(in: .whitespacesAndNewlines))
        case "trim":
            try count(a, 2)
            return .string(try string(a[0]).trimmingCharacters(in: CharacterSet(charactersIn: try string(a[1]))))
        case "chomp":
            try count(a, 1)
            var text = try string(a[0])
            while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
            return .string(text)
        case "indent":
            try count(a, 2)
            let pad = String(repeating: " ", count: min(1024, max(0, try integer(a[0]))))
            let lines = try string(a[1]).components(separatedBy: "\n")
            return .string(lines.enumerated().map { $0.offset == 0 ? $0.element : pad + $0.element }.joined(separator: "\n"))
        case "format":
            guard !a.isEmpty else { throw fail("takes a format string") }
            return .string(try format(try string(a[0], "format"), Array(a.dropFirst())))
        case "formatlist":
            guard !a.isEmpty else { throw fail("takes a format string") }
            let pattern = try string(a[0], "format")
            let rest = Array(a.dropFirst())
            let lengths = Set(rest.compactMap { if case .list(let items) = $0 { return items.count } else { return nil } })
            guard lengths.count <= 1 else { throw fail("the lists must have the same length") }
            let n = lengths.first ?? 1
            return .list(try (0..<n).map { i in
                .string(try format(pattern, rest.map { if case .list(let items) = $0 { return items[i] } else { return $0 } }))
            })
        case "sanitize":
            try count(a, 1)
            return .string(String(try string(a[0]).map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") ? $0 : "_" }))
        case "urlencode":
            try count(a, 1)
            var allowed = CharacterSet.alphanumerics
            allowed.insert(charactersIn: "-._~")
            return .string(try string(a[0]).addingPercentEncoding(withAllowedCharacters: allowed) ?? "")
        case "base64encode": try count(a, 1); return .string(Data(try string(a[0]).utf8).base64EncodedString())
        case "base64decode":
            try count(a, 1)
            guard let data = Data(base64Encoded: try string(a[0])), let text = String(data: data, encoding: .utf8) else { throw fail("not valid base64 of UTF-8 text") }
            return .string(text)
        case "basename": try count(a, 1); return .string(pathBase(try string(a[0])))
        case "dirname": try count(a, 1); return .string(pathDir(try string(a[0])))
        case "homedir": try count(a, 0); return .string(FileManager.default.homeDirectoryForCurrentUser.path)
        case "jsonencode": try count(a, 1); return .string(BakePrinter.compact(a[0]))
        case "jsondecode":
            try count(a, 1)
            var reader = JSONReader(bytes: Array(try string(a[0]).utf8), file: "jsondecode")
            do { return BakeValue(json: try reader.document()) } catch { throw fail("\(error)") }
        case "csvdecode":
            try count(a, 1)
            let rows = try string(a[0]).split(separator: "\n", omittingEmptySubsequences: true).map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
            guard let header = rows.first else { return .list([]) }
            return .list(rows.dropFirst().map { row in .object(Dictionary(zip(header, row.map { BakeValue.string($0) }), uniquingKeysWith: { $1 })) })
        // Collections
        case "length":
            try count(a, 1)
            switch a[0] {
            case .list(let items): return .number(Double(items.count))
            case .object(let members): return .number(Double(members.count))
            case .string(let text): return .number(Double(text.count))
            default: throw fail("cannot take the length of a \(a[0].typeName)")
            }
        case "concat": return .list(try a.flatMap { try list($0) })
        case "contains": try count(a, 2); return .bool(try list(a[0]).contains(a[1]))
        case "sethaselement": try count(a, 2); return .bool(try list(a[0]).contains(a[1]))
        case "distinct", "setunion":
            var result: [BakeValue] = []
            for item in try a.flatMap({ try list($0) }) where !result.contains(item) { result.append(item) }
            return .list(result)
        case "setintersection":
            guard let first = a.first else { throw fail("takes at least 1 list") }
            let others = try a.dropFirst().map { try list($0) }
            var result: [BakeValue] = []
            for item in try list(first) where others.allSatisfy({ $0.contains(item) }) && !result.contains(item) { result.append(item) }
            return .list(result)
        case "setsubtract":
            try count(a, 2)
            let remove = try list(a[1])
            return .list(try list(a[0]).filter { !remove.contains($0) })
        case "compact": try count(a, 1); return .list(try list(a[0]).filter { $0 != .null && $0 != .string("") })
        case "coalesce":
            for value in a where value != .null && value != .string("") { return value }
            throw fail("no non-null, non-empty argument")
        case "coalescelist":
            for value in a { if case .list(let items) = value, !items.isEmpty { return value } }
            throw fail("no non-empty list")
        case "element":
            try count(a, 2)
            let items = try list(a[0])
            guard !items.isEmpty else { throw fail("cannot use element() with an empty list") }
            let i = try integer(a[1])
            return items[((i % items.count) + items.count) % items.count]
        case "index", "indexof":
            try count(a, 2)
            if name == "index", case .object = a[0] { return try object(a[0])[string(a[1])] ?? .null }
            guard let position = try list(a[0]).firstIndex(of: a[1]) else { throw fail("the value is not in the list") }
            return .number(Double(position))
        case "hasindex":
            try count(a, 2)
            switch a[0] {
            case .list(let items): let i = try integer(a[1]); return .bool(i >= 0 && i < items.count)
            case .object(let members): return .bool(members[try string(a[1])] != nil)
            default: throw fail("hasindex() needs a list or a map")
            }
        case "flatten":
            try count(a, 1)
            func flat(_ value: BakeValue) -> [BakeValue] { if case .list(let items) = value { return items.flatMap(flat) } else { return [value] } }
            return .list(flat(a[0]))
        case "chunklist":
            try count(a, 2)
            let items = try list(a[0])
            let size = try integer(a[1])
            guard size > 0 else { return .list([.list(items)]) }
            return .list(stride(from: 0, to: items.count, by: size).map { .list(Array(items[$0..<min($0 + size, items.count)])) })
        case "slice":
            try count(a, 3)
            let items = try list(a[0])
            let start = try integer(a[1]), end = try integer(a[2])
            guard start >= 0, end <= items.count, start <= end else { throw fail("slice indices out of range") }
            return .list(Array(items[start..<end]))
        case "reverse", "reverselist":
            try count(a, 1)
            if case .string(let text) = a[0], name == "reverse" { return .string(String(text.reversed())) }
            return .list(try list(a[0]).reversed())
        case "sort":
            try count(a, 1)
            return .list(try list(a[0]).map { try string($0, "list element") }.sorted().map { .string($0) })
        case "range":
            let numbers = try a.map(number)
            let (start, end, step): (Double, Double, Double)
            switch numbers.count {
            case 1: (start, end, step) = (0, numbers[0], 1)
            case 2: (start, end, step) = (numbers[0], numbers[1], numbers[0] <= numbers[1] ? 1 : -1)
            case 3: (start, end, step) = (numbers[0], numbers[1], numbers[2])
            default: throw fail("takes 1 to 3 arguments")
            }
            guard step != 0 else { throw fail("the step must not be zero") }
            var result: [BakeValue] = []
            var value = start
            while (step > 0 ? value < end : value > end) && result.count < 1024 { result.append(.number(value)); value += step }
            return .list(result)
        case "keys": try count(a, 1); return .list(try object(a[0]).keys.sorted().map { .string($0) })
        case "values": try count(a, 1); let members = try object(a[0]); return .list(members.keys.sorted().map { members[$0] ?? .null })
        case "lookup":
            guard a.count == 2 || a.count == 3 else { throw fail("takes 2 or 3 arguments") }
            if let value = try object(a[0])[string(a[1])] { return value }
            guard a.count == 3 else { throw fail("the map has no key '\(a[1].stringValue ?? "")'") }
            return a[2]
        case "merge":
            var result: [String: BakeValue] = [:]
            for value in a where value != .null { for (key, member) in try object(value) { result[key] = member } }
            return .object(result)
        case "zipmap":
            try count(a, 2)
            let keys = try list(a[0]), values = try list(a[1])
            guard keys.count == values.count else { throw fail("the lists must have the same length") }
            var result: [String: BakeValue] = [:]
            for (key, value) in zip(keys, values) { result[try string(key, "key")] = value }
            return .object(result)
        case "timestamp", "formatdate", "formattimestamp", "timeadd", "unixtimestampparse":
            throw fail("the clock functions are not supported: slipway's builds are reproducible (use SOURCE_DATE_EPOCH)")
        case "md5", "sha1", "sha256", "sha512", "bcrypt", "uuidv4", "uuidv5", "rsadecrypt":
            throw fail("hash, UUID and key functions are not supported by slipway's bake")
        default:
            throw fail("unknown function (known: \(names.sorted().joined(separator: ", ")))")
        }
    }

    static func pathBase(_ path: String) -> String {
        if path.isEmpty { return "." }
        var trimmed = path
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
        if trimmed == "/" { return "/" }
        return trimmed.split(separator: "/").last.map(String.init) ?? "/"
    }

    static func pathDir(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        var dir = String(path[..<slash])
        while dir.count > 1 && dir.hasSuffix("/") { dir.removeLast() }
        return dir.isEmpty ? "/" : dir
    }

    static func regexReplace(_ text: String, _ pattern: String, _ template: String) throws -> String {
        guard let expression = try? NSRegularExpression(pattern: pattern) else { throw fail("invalid regular expression '\(pattern)'") }
        return expression.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text), withTemplate: template)
    }

    static func regex(_ pattern: String, _ text: String, all: Bool) throws -> BakeValue {
        guard let expression = try? NSRegularExpression(pattern: pattern) else { throw fail("invalid regular expression '\(pattern)'") }
        let matches = expression.matches(in: text, range: NSRange(text.startIndex..., in: text))
        func value(_ match: NSTextCheckingResult) -> BakeValue {
            func group(_ i: Int) -> BakeValue {
                guard let range = Range(match.range(at: i), in: text) else { return .null }
                return .string(String(text[range]))
            }
            if match.numberOfRanges == 1 { return group(0) }
            return .list((1..<match.numberOfRanges).map(group))
        }
        if all { return .list(matches.map(value)) }
        guard let first = matches.first else { throw fail("the pattern did not match") }
        return value(first)
    }

    /// Go's `fmt` verbs as cty's `format` takes them: %s %d %f %v %q %t %% (with a width).
    static func format(_ pattern: String, _ arguments: [BakeValue]) throws -> String {
        var result = ""
        var next = 0
        var characters = Array(pattern)[...]
        while let character = characters.popFirst() {
            guard character == "%" else { result.append(character); continue }
            var flags = ""
            while let c = characters.first, "-+ 0#.".contains(c) || c.isNumber { flags.append(c); characters.removeFirst() }
            guard let verb = characters.popFirst() else { throw fail("the format ends in '%'") }
            if verb == "%" { result += "%"; continue }
            guard next < arguments.count else { throw fail("not enough arguments for the format") }
            let argument = arguments[next]
            next += 1
            var piece: String
            switch verb {
            case "s", "v": piece = argument.stringValue ?? BakePrinter.compact(argument)
            case "q": piece = BakePrinter.compact(.string(try string(argument)))
            case "d": piece = String(try integer(argument))
            case "f":
                let precision = min(64, flags.split(separator: ".").dropFirst().first.flatMap { Int($0) } ?? 6)
                piece = String(format: "%.\(precision)f", try number(argument))
            case "t": piece = try bool(argument) ? "true" : "false"
            default: throw fail("unsupported verb '%\(verb)'")
            }
            let width = min(1024, Int(String(flags.drop { "-+ #0".contains($0) }.prefix { $0.isNumber }).prefix(5)) ?? 0)
            if piece.count < width {
                let pad = String(repeating: flags.hasPrefix("0") && !flags.hasPrefix("-") ? "0" : " ", count: width - piece.count)
                piece = flags.hasPrefix("-") ? piece + pad : pad + piece
            }
            result += piece
        }
        guard next == arguments.count else { throw fail("too many arguments for the format") }
        return result
    }
}
