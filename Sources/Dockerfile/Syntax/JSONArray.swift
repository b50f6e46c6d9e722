/// Decoding of the exec ("JSON") form `["a", "b"]` with the acceptance rules of Go's
/// `json.Unmarshal` into `[]any`, because whether a line is exec form or shell form changes
/// what the instruction does: the whole text must be one valid JSON document (anything else,
/// e.g. `['a']` or a missing `]`, means "not JSON, use shell form"), and only then does a
/// non-string element make the instruction an error.
enum JSONArrayForm {
    enum Outcome: Equatable {
        /// Not valid JSON (or not starting with `[`): the caller falls back to shell form.
        case notJSON
        /// Valid JSON array with an element that is not a string: a parse error.
        case notStringArray
        case strings([String])
    }

    /// Go's `encoding/json` nesting limit.
    static let maxDepth = 10000

    static func decode(_ text: String) -> Outcome {
        var p = Reader(GoStringRules.scalars(text))
        return p.topLevel()
    }

    private struct Reader {
        let u: [Unicode.Scalar]
        var i = 0

        init(_ u: [Unicode.Scalar]) { self.u = u }

        var atEnd: Bool { i >= u.count }
        var peek: Unicode.Scalar? { i < u.count ? u[i] : nil }

        mutating func skipWhitespace() {
            while let c = peek, c == " " || c == "\t" || c == "\n" || c == "\r" { i += 1 }
        }

        mutating func topLevel() -> Outcome {
            skipWhitespace()
            guard peek == "[" else { return .notJSON }
            i += 1
            var values: [String] = []
            var nonString = false
            skipWhitespace()
            if peek == "]" {
                i += 1
            } else {
                while true {
                    skipWhitespace()
                    if peek == "\"" {
                        guard let s = string() else { return .notJSON }
                        values.append(s)
                    } else {
                        guard skipValue(depth: 1) else { return .notJSON }
                        nonString = true
                    }
                    skipWhitespace()
                    guard let c = peek else { return .notJSON }
                    i += 1
                    if c == "]" { break }
                    if c != "," { return .notJSON }
                }
            }
            skipWhitespace()
            guard atEnd else { return .notJSON }
            return nonString ? .notStringArray : .strings(values)
        }

        /// Validates one value of any type without recursion (deep nesting must not blow the stack).
        mutating func skipValue(depth: Int) -> Bool {
            // Stack of open containers: true = object, false = array.
            var stack: [Bool] = []
            func depthOK(_ n: Int) -> Bool { depth + n <= JSONArrayForm.maxDepth }
            while true {
                skipWhitespace()
                guard let c = peek else { return false }
                // Parse a value start.
                switch c {
                case "\"":
                    guard string() != nil else { return false }
                case "{", "[":
                    i += 1
                    stack.append(c == "{")
                    guard depthOK(stack.count) else { return false }
                    skipWhitespace()
                    let close: Unicode.Scalar = c == "{" ? "}" : "]"
                    if peek == close {
                        i += 1
                        stack.removeLast()
                    } else {
                        if c == "{" {
                            guard objectKey() else { return false }
                        }
                        continue
                    }
                case "t": guard literal("true") else { return false }
                case "f": guard literal("false") else { return false }
                case "n": guard literal("null") else { return false }
                default:
                    guard number() else { return false }
                }
                // After a complete value: close containers or move to the next element.
                while true {
                    guard let isObject = stack.last else { return true }
                    skipWhitespace()
                    guard let d = peek else { return false }
                    i += 1
                    if d == "," {
                        if isObject { guard objectKey() else { return false } }
                        break
                    }
                    if d == (isObject ? "}" : "]") {
                        stack.removeLast()
                        continue
                    }
                    return false
                }
            }
        }

        /// `"key" :` inside an object.
        mutating func objectKey() -> Bool {
            skipWhitespace()
            guard peek == "\"", string() != nil else { return false }
            skipWhitespace()
            guard peek == ":" else { return false }
            i += 1
            return true
        }

        mutating func literal(_ word: String) -> Bool {
            for c in word.unicodeScalars {
                guard peek == c else { return false }
                i += 1
            }
            return true
        }

        mutating func digits() -> Int {
            var n = 0
            while let c = peek, ("0"..."9").contains(c) { i += 1; n += 1 }
            return n
        }

        mutating func number() -> Bool {
            if peek == "-" { i += 1 }
            guard let c = peek else { return false }
            if c == "0" {
                i += 1
            } else if ("1"..."9").contains(c) {
                _ = digits()
            } else {
                return false
            }
            if peek == "." {
                i += 1
                guard digits() > 0 else { return false }
            }
            if peek == "e" || peek == "E" {
                i += 1
                if peek == "+" || peek == "-" { i += 1 }
                guard digits() > 0 else { return false }
            }
            return true
        }

        mutating func hex4() -> UInt32? {
            guard i + 4 <= u.count else { return nil }
            var v: UInt32 = 0
            for k in 0..<4 {
                guard let d = hexValue(u[i + k]) else { return nil }
                v = v << 4 | d
            }
            i += 4
            return v
        }

        func hexValue(_ c: Unicode.Scalar) -> UInt32? {
            switch c {
            case "0"..."9": return c.value - 0x30
            case "a"..."f": return c.value - 0x61 + 10
            case "A"..."F": return c.value - 0x41 + 10
            default: return nil
            }
        }

        /// A string literal starting at `"`; Go semantics for escapes (lone surrogates become U+FFFD).
        mutating func string() -> String? {
            guard peek == "\"" else { return nil }
            i += 1
            var out = String.UnicodeScalarView()
            while true {
                guard let c = peek else { return nil }
                i += 1
                if c == "\"" { return String(out) }
                if c.value < 0x20 { return nil }
                if c != "\\" {
                    out.append(c)
                    continue
                }
                guard let e = peek else { return nil }
                i += 1
                switch e {
                case "\"", "\\", "/": out.append(e)
                case "b": out.append("\u{08}")
                case "f": out.append("\u{0C}")
                case "n": out.append("\n")
                case "r": out.append("\r")
                case "t": out.append("\t")
                case "u":
                    guard let v = hex4() else { return nil }
                    if (0xD800..<0xDC00).contains(v) {
                        // A high surrogate combines only with an immediately following \u low surrogate.
                        let save = i
                        if peek == "\\", i + 1 < u.count, u[i + 1] == "u" {
                            i += 2
                            if let low = hex4(), (0xDC00..<0xE000).contains(low) {
                                let combined = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00)
                                out.append(Unicode.Scalar(combined) ?? "\u{FFFD}")
                                continue
                            }
                        }
                        i = save
                        out.append("\u{FFFD}")
                    } else if let s = Unicode.Scalar(v) {
                        out.append(s)
                    } else {
                        out.append("\u{FFFD}")
                    }
                default:
                    return nil
                }
            }
        }
    }
}
