// Over 400 lines on purpose: one self-contained RE2-subset compiler and matcher, whose parts are only meaningful together.
extension PatternMatcher {
    /// A small re-implementation of the part of Go's `regexp` (RE2 syntax, default `Perl`
    /// flags) that moby/patternmatcher's pattern-to-regexp translation can produce.
    ///
    /// Why not NSRegularExpression/Swift Regex: patternmatcher passes `[...]` classes and
    /// `\x` escapes from the user's pattern straight into Go's regexp, so quirks such as
    /// `[*]` (which becomes `[[^/]*]`), `\d`, `[[:alpha:]]`, a mid-pattern `^` or an
    /// inverted range `[l-O]` (a compile error, reported as a bad pattern at match time)
    /// follow RE2's rules, not ICU's. Owning the parser keeps those cases faithful, and a
    /// Thompson-NFA simulation gives linear-time, allocation-light matching for the
    /// 100,000-file context walks.
    ///
    /// Supported: literals, `.`, `^`, `$`, `\A`, `\z`, `\b`, `\B`, `(...)`, `(?:...)`, `|`,
    /// `*`, `+`, `?` (and lazy forms), classes with ranges, negation, POSIX `[:name:]`,
    /// Perl `\d\s\w` (and negations), `\p`/`\P` with `Any` and general categories, escapes
    /// (`\a\f\t\n\r\v`, octal, `\x..`, `\x{...}`, punctuation), `\Q...\E`.
    /// Not supported (throws, i.e. reported as a bad pattern): `{n,m}` counted repetition
    /// (unreachable: patternmatcher always escapes `{`), `(?flags)`, Unicode script names
    /// in `\p{...}` (Swift's standard library has no script property).
    struct Regexp: Sendable {
        struct CompileError: Error {}

        enum Assertion: Sendable {
            case beginText, endText, wordBoundary, notWordBoundary
        }

        /// One element of a character class.
        enum ClassItem: Sendable {
            case range(UInt32, UInt32)
            case ranges([ClosedRange<UInt32>], negated: Bool)
            case categories(UInt64, negated: Bool)
        }

        struct CharClass: Sendable {
            var items: [ClassItem] = []
            var negated = false
            /// Membership of U+0000...U+007F, precomputed by `finalized()` (paths are
            /// mostly ASCII, so most tests are one shift and mask).
            var ascii: (UInt64, UInt64) = (0, 0)

            func finalized() -> CharClass {
                var copy = self
                var low: UInt64 = 0, high: UInt64 = 0
                for c in UInt32(0)..<64 where containsSlow(c) { low |= 1 << UInt64(c) }
                for c in UInt32(64)..<128 where containsSlow(c) { high |= 1 << UInt64(c - 64) }
                copy.ascii = (low, high)
                return copy
            }

            @inline(__always)
            func contains(_ c: UInt32) -> Bool {
                if c < 64 { return (ascii.0 >> UInt64(c)) & 1 != 0 }
                if c < 128 { return (ascii.1 >> UInt64(c - 64)) & 1 != 0 }
                return containsSlow(c)
            }

            func containsSlow(_ c: UInt32) -> Bool {
                var hit = false
                for item in items {
                    switch item {
                    case .range(let lo, let hi):
                        hit = lo <= c && c <= hi
                    case .ranges(let list, let negated):
                        hit = list.contains { $0.contains(c) } != negated
                    case .categories(let mask, let negated):
                        hit = ((mask & Regexp.categoryBit(c)) != 0) != negated
                    }
                    if hit { break }
                }
                return hit != negated
            }
        }

        indirect enum Node {
            case empty
            case chars(CharClass)
            case anyNotNL
            case assert(Assertion)
            case concat([Node])
            case alternate([Node])
            case star(Node)
            case plus(Node)
            case quest(Node)
        }

        enum Inst {
            case chars(CharClass)
            case anyNotNL
            case assert(Assertion)
            case split(Int, Int)
            case jump(Int)
            case match
        }

        // The program, flattened into parallel arrays so the simulation loop does not copy
        // enum payloads (which costs retains/releases on every step).
        static let opChars: UInt8 = 0, opAny: UInt8 = 1, opAssert: UInt8 = 2
        static let opSplit: UInt8 = 3, opJump: UInt8 = 4, opMatch: UInt8 = 5
        let ops: [UInt8]
        /// Class index, assertion index, jump target or first split target.
        let arg1: [Int]
        /// Second split target.
        let arg2: [Int]
        let classes: [CharClass]
        let anchoredAtStart: Bool
        /// UTF-8 of the literal characters every match must start / end with (a regexp
        /// `^lit...` / `...lit$`), checked before running the automaton: most paths are
        /// rejected by a few byte comparisons.
        let requiredPrefix: [UInt8]
        let requiredSuffix: [UInt8]

        static let assertions: [Assertion] = [.beginText, .endText, .wordBoundary, .notWordBoundary]

        init(_ pattern: String) throws {
            var parser = Parser(Array(pattern.unicodeScalars.map(\.value)))
            let node = try parser.parse()
            var compiler = Compiler()
            compiler.emit(node)
            compiler.program.append(.match)
            var ops: [UInt8] = [], arg1: [Int] = [], arg2: [Int] = [], classes: [CharClass] = []
            for inst in compiler.program {
                switch inst {
                case .chars(let cls):
                    ops.append(Regexp.opChars); arg1.append(classes.count); arg2.append(0)
                    classes.append(cls.finalized())
                case .anyNotNL:
                    ops.append(Regexp.opAny); arg1.append(0); arg2.append(0)
                case .assert(let kind):
                    ops.append(Regexp.opAssert); arg1.append(Regexp.assertions.firstIndex(of: kind)!); arg2.append(0)
                case .split(let a, let b):
                    ops.append(Regexp.opSplit); arg1.append(a); arg2.append(b)
                case .jump(let target):
                    ops.append(Regexp.opJump); arg1.append(target); arg2.append(0)
                case .match:
                    ops.append(Regexp.opMatch); arg1.append(0); arg2.append(0)
                }
            }
            (self.ops, self.arg1, self.arg2, self.classes) = (ops, arg1, arg2, classes)
            let parts: [Node]
            if case .concat(let list) = node { parts = list } else { parts = [node] }
            if case .assert(.beginText)? = parts.first {
                anchoredAtStart = true
                requiredPrefix = Regexp.utf8(Regexp.literalRun(parts.dropFirst()))
            } else {
                anchoredAtStart = false
                requiredPrefix = []
            }
            if case .assert(.endText)? = parts.last {
                requiredSuffix = Regexp.utf8(Regexp.literalRun(parts.dropLast().reversed()).reversed())
            } else {
                requiredSuffix = []
            }
        }

        /// The leading run of single-character literals of `parts`.
        static func literalRun<S: Sequence<Node>>(_ parts: S) -> [Unicode.Scalar] {
            var scalars: [Unicode.Scalar] = []
            for part in parts {
                guard case .chars(let cls) = part, !cls.negated, cls.items.count == 1,
                      case .range(let lo, let hi) = cls.items[0], lo == hi, let scalar = Unicode.Scalar(lo) else { break }
                scalars.append(scalar)
            }
            return scalars
        }

        static func utf8<S: Sequence<Unicode.Scalar>>(_ scalars: S) -> [UInt8] {
            Array(String(String.UnicodeScalarView(scalars)).utf8)
        }

        /// Go's `Regexp.MatchString`: is there a match anywhere in `s`?
        func matches(_ s: String) -> Bool {
            var candidate = PatternMatcher.Candidate(s)
            return matches(&candidate)
        }

        func matches(_ candidate: inout PatternMatcher.Candidate) -> Bool {
            let bytes = candidate.path.utf8
            if !requiredPrefix.isEmpty && !bytes.starts(with: requiredPrefix) { return false }
            if !requiredSuffix.isEmpty {
                if bytes.count < requiredSuffix.count || !bytes.suffix(requiredSuffix.count).elementsEqual(requiredSuffix) {
                    return false
                }
            }
            return matches(scalars: candidate.scalars())
        }

        /// Thompson-NFA simulation over Unicode scalar values (Go matches by rune).
        func matches(scalars text: [UInt32]) -> Bool {
            let n = text.count
            let count = ops.count
            var current: [Int] = []
            var next: [Int] = []
            var stack: [Int] = []
            current.reserveCapacity(count)
            next.reserveCapacity(count)
            stack.reserveCapacity(count)
            // `mark[pc] == generation` means pc is already on the list for this position.
            var mark = [Int](repeating: -1, count: count)

            // Adds pc and everything reachable from it without consuming input.
            func add(_ start: Int, _ pos: Int, _ list: inout [Int]) {
                stack.append(start)
                while let pc = stack.popLast() {
                    if mark[pc] == pos { continue }
                    mark[pc] = pos
                    switch ops[pc] {
                    case Regexp.opJump:
                        stack.append(arg1[pc])
                    case Regexp.opSplit:
                        stack.append(arg2[pc])
                        stack.append(arg1[pc])
                    case Regexp.opAssert:
                        if Regexp.holds(Regexp.assertions[arg1[pc]], text, pos) { stack.append(pc + 1) }
                    default:
                        list.append(pc)
                    }
                }
            }

            for pos in 0...n {
                if pos == 0 || !anchoredAtStart {
                    add(0, pos, &current)
                }
                if current.isEmpty && anchoredAtStart { return false }
                next.removeAll(keepingCapacity: true)
                if pos < n {
                    let c = text[pos]
                    for pc in current {
                        switch ops[pc] {
                        case Regexp.opMatch:
                            return true
                        case Regexp.opChars:
                            if classes[arg1[pc]].contains(c) { add(pc + 1, pos + 1, &next) }
                        case Regexp.opAny:
                            if c != 0x0A { add(pc + 1, pos + 1, &next) }
                        default:
                            break
                        }
                    }
                } else if current.contains(where: { ops[$0] == Regexp.opMatch }) {
                    return true
                }
                swap(&current, &next)
            }
            return false
        }

        static func isWordChar(_ c: UInt32) -> Bool {
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F
        }

        static func holds(_ kind: Assertion, _ text: [UInt32], _ pos: Int) -> Bool {
            switch kind {
            case .beginText: return pos == 0
            case .endText: return pos == text.count
            case .wordBoundary, .notWordBoundary:
                let before = pos > 0 && isWordChar(text[pos - 1])
                let after = pos < text.count && isWordChar(text[pos])
                return (before != after) == (kind == .wordBoundary)
            }
        }

        // MARK: Unicode general categories

        static func categoryBit(_ c: UInt32) -> UInt64 {
            guard let scalar = Unicode.Scalar(c) else { return 1 << 29 } // surrogates: Cs
            return 1 << UInt64(categoryIndex(scalar.properties.generalCategory))
        }

        static func categoryIndex(_ category: Unicode.GeneralCategory) -> Int {
            switch category {
            case .uppercaseLetter: return 0
            case .lowercaseLetter: return 1
            case .titlecaseLetter: return 2
            case .modifierLetter: return 3
            case .otherLetter: return 4
            case .nonspacingMark: return 5
            case .spacingMark: return 6
            case .enclosingMark: return 7
            case .decimalNumber: return 8
            case .letterNumber: return 9
            case .otherNumber: return 10
            case .connectorPunctuation: return 11
            case .dashPunctuation: return 12
            case .openPunctuation: return 13
            case .closePunctuation: return 14
            case .initialPunctuation: return 15
            case .finalPunctuation: return 16
            case .otherPunctuation: return 17
            case .mathSymbol: return 18
            case .currencySymbol: return 19
            case .modifierSymbol: return 20
            case .otherSymbol: return 21
            case .spaceSeparator: return 22
            case .lineSeparator: return 23
            case .paragraphSeparator: return 24
            case .control: return 25
            case .format: return 26
            case .privateUse: return 27
            case .unassigned: return 28
            case .surrogate: return 29
            @unknown default: return 28
            }
        }

        /// Go's `unicode.Categories` names (the `C` group is Cc|Cf|Co|Cs, as in Go).
        static func categoryMask(_ name: String) -> UInt64? {
            func bits(_ indices: Int...) -> UInt64 { indices.reduce(0) { $0 | (1 << UInt64($1)) } }
            switch name {
            case "L": return bits(0, 1, 2, 3, 4)
            case "Lu": return bits(0)
            case "Ll": return bits(1)
            case "Lt": return bits(2)
            case "Lm": return bits(3)
            case "Lo": return bits(4)
            case "M": return bits(5, 6, 7)
            case "Mn": return bits(5)
            case "Mc": return bits(6)
            case "Me": return bits(7)
            case "N": return bits(8, 9, 10)
            case "Nd": return bits(8)
            case "Nl": return bits(9)
            case "No": return bits(10)
            case "P": return bits(11, 12, 13, 14, 15, 16, 17)
            case "Pc": return bits(11)
            case "Pd": return bits(12)
            case "Ps": return bits(13)
            case "Pe": return bits(14)
            case "Pi": return bits(15)
            case "Pf": return bits(16)
            case "Po": return bits(17)
            case "S": return bits(18, 19, 20, 21)
            case "Sm": return bits(18)
            case "Sc": return bits(19)
            case "Sk": return bits(20)
            case "So": return bits(21)
            case "Z": return bits(22, 23, 24)
            case "Zs": return bits(22)
            case "Zl": return bits(23)
            case "Zp": return bits(24)
            case "C": return bits(25, 26, 27, 29)
            case "Cc": return bits(25)
            case "Cf": return bits(26)
            case "Co": return bits(27)
            case "Cs": return bits(29)
            default: return nil
            }
        }

        // MARK: ASCII classes (Perl and POSIX), as RE2 defines them

        static let perlClasses: [UInt32: [ClosedRange<UInt32>]] = [
            0x64: [0x30...0x39],                                   // \d
            0x73: [0x09...0x0A, 0x0C...0x0D, 0x20...0x20],         // \s  [\t\n\f\r ]
            0x77: [0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A], // \w
        ]

        static let posixClasses: [String: [ClosedRange<UInt32>]] = [
            "alnum": [0x30...0x39, 0x41...0x5A, 0x61...0x7A],
            "alpha": [0x41...0x5A, 0x61...0x7A],
            "ascii": [0x00...0x7F],
            "blank": [0x09...0x09, 0x20...0x20],
            "cntrl": [0x00...0x1F, 0x7F...0x7F],
            "digit": [0x30...0x39],
            "graph": [0x21...0x7E],
            "lower": [0x61...0x7A],
            "print": [0x20...0x7E],
            "punct": [0x21...0x2F, 0x3A...0x40, 0x5B...0x60, 0x7B...0x7E],
            "space": [0x09...0x0D, 0x20...0x20],
            "upper": [0x41...0x5A],
            "word": [0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A],
            "xdigit": [0x30...0x39, 0x41...0x46, 0x61...0x66],
        ]

        // MARK: Parser (follows Go's regexp/syntax parser for the supported subset)

        struct Parser {
            let s: [UInt32]
            var i = 0

            init(_ s: [UInt32]) { self.s = s }

            static func ascii(_ c: Character) -> UInt32 { c.unicodeScalars.first!.value }

            func peek(_ offset: Int = 0) -> UInt32? {
                i + offset < s.count ? s[i + offset] : nil
            }

            mutating func parse() throws -> Node {
                let node = try parseAlternation()
                if i < s.count { throw CompileError() } // unmatched ')'
                return node
            }

            mutating func parseAlternation() throws -> Node {
                var branches = [try parseConcat()]
                while peek() == 0x7C { // |
                    i += 1
                    branches.append(try parseConcat())
                }
                return branches.count == 1 ? branches[0] : .alternate(branches)
            }

            mutating func parseConcat() throws -> Node {
                var items: [Node] = []
                var lastWasRepeat = false
                while let c = peek(), c != 0x7C, c != 0x29 { // | )
                    switch c {
                    case 0x2A, 0x2B, 0x3F: // * + ?
                        i += 1
                        if peek() == 0x3F { i += 1 } // lazy: same language
                        // Go: "missing argument" / "invalid nested repetition operator".
                        guard let last = items.popLast(), !lastWasRepeat else { throw CompileError() }
                        items.append(c == 0x2A ? .star(last) : c == 0x2B ? .plus(last) : .quest(last))
                        lastWasRepeat = true
                        continue
                    case 0x7B: // {
                        // Counted repetition is unsupported; a `{` that is not one is a literal.
                        if Parser.looksLikeRepeat(s, i) { throw CompileError() }
                        i += 1
                        items.append(.chars(CharClass(items: [.range(c, c)])))
                    case 0x28: // (
                        i += 1
                        if peek() == 0x3F { // (?
                            guard peek(1) == 0x3A else { throw CompileError() } // only (?:
                            i += 2
                        }
                        let inner = try parseAlternation()
                        guard peek() == 0x29 else { throw CompileError() } // missing ')'
                        i += 1
                        items.append(inner)
                    case 0x5B: // [
                        items.append(.chars(try parseClass()))
                    case 0x2E: // .
                        i += 1
                        items.append(.anyNotNL)
                    case 0x5E: // ^
                        i += 1
                        items.append(.assert(.beginText))
                    case 0x24: // $
                        i += 1
                        items.append(.assert(.endText))
                    case 0x5C: // backslash
                        try parseTopLevelEscape(into: &items)
                    default:
                        i += 1
                        items.append(.chars(CharClass(items: [.range(c, c)])))
                    }
                    lastWasRepeat = false
                }
                if items.isEmpty { return .empty }
                return items.count == 1 ? items[0] : .concat(items)
            }

            static func looksLikeRepeat(_ s: [UInt32], _ start: Int) -> Bool {
                // {n}, {n,}, {n,m}
                var j = start + 1
                func digits() -> Bool {
                    let begin = j
                    while j < s.count, (0x30...0x39).contains(s[j]) { j += 1 }
                    return j > begin
                }
                guard digits() else { return false }
                if j < s.count && s[j] == 0x2C {
                    j += 1
                    _ = digits()
                }
                return j < s.count && s[j] == 0x7D
            }

            mutating func parseTopLevelEscape(into items: inout [Node]) throws {
                guard let c = peek(1) else { throw CompileError() } // trailing backslash
                switch c {
                case 0x41: i += 2; items.append(.assert(.beginText)); return       // \A
                case 0x7A: i += 2; items.append(.assert(.endText)); return         // \z
                case 0x62: i += 2; items.append(.assert(.wordBoundary)); return    // \b
                case 0x42: i += 2; items.append(.assert(.notWordBoundary)); return // \B
                case 0x43: throw CompileError()                                    // \C
                case 0x51: // \Q ... \E
                    i += 2
                    while i < s.count {
                        if s[i] == 0x5C && peek(1) == 0x45 { i += 2; return }
                        items.append(.chars(CharClass(items: [.range(s[i], s[i])])))
                        i += 1
                    }
                    return
                default:
                    break
                }
                if let item = try parseUnicodeClass() {
                    items.append(.chars(CharClass(items: [item])))
                    return
                }
                if let item = parsePerlClass() {
                    items.append(.chars(CharClass(items: [item])))
                    return
                }
                let r = try parseEscape()
                items.append(.chars(CharClass(items: [.range(r, r)])))
            }

            /// `\d \D \s \S \w \W`.
            mutating func parsePerlClass() -> ClassItem? {
                guard peek() == 0x5C, let c = peek(1) else { return nil }
                let lower = c | 0x20
                guard let ranges = Regexp.perlClasses[lower], c == lower || c == lower - 0x20 else { return nil }
                i += 2
                return .ranges(ranges, negated: c != lower)
            }

            /// `\pL`, `\p{Lu}`, `\p{^L}`, `\PL`, `\p{Any}`.
            mutating func parseUnicodeClass() throws -> ClassItem? {
                guard peek() == 0x5C, let p = peek(1), p == 0x70 || p == 0x50 else { return nil }
                var negated = p == 0x50
                var j = i + 2
                var name: [UInt32]
                if j < s.count && s[j] == 0x7B {
                    guard let end = s[j...].firstIndex(of: 0x7D) else { throw CompileError() }
                    name = Array(s[(j + 1)..<end])
                    j = end + 1
                } else {
                    guard j < s.count else { throw CompileError() }
                    name = [s[j]]
                    j += 1
                }
                if name.first == 0x5E { // ^
                    negated.toggle()
                    name.removeFirst()
                }
                let text = String(String.UnicodeScalarView(name.compactMap(Unicode.Scalar.init)))
                i = j
                if text == "Any" {
                    return .ranges([0...0x10FFFF], negated: negated)
                }
                guard let mask = Regexp.categoryMask(text) else { throw CompileError() }
                return .categories(mask, negated: negated)
            }

            /// Go's `parseEscape` (the escape starts at `i`, which points at the backslash).
            mutating func parseEscape() throws -> UInt32 {
                guard let c = peek(1) else { throw CompileError() }
                i += 2
                func isOctal(_ x: UInt32?) -> Bool { x.map { (0x30...0x37).contains($0) } ?? false }
                func unhex(_ x: UInt32?) -> UInt32? {
                    guard let x else { return nil }
                    switch x {
                    case 0x30...0x39: return x - 0x30
                    case 0x41...0x46: return x - 0x41 + 10
                    case 0x61...0x66: return x - 0x61 + 10
                    default: return nil
                    }
                }
                switch c {
                case 0x31...0x37 where isOctal(peek()), 0x30:
                    // Octal: up to two more digits (a single non-zero digit would be a
                    // back-reference, which RE2 rejects).
                    var r = c - 0x30
                    for _ in 1..<3 {
                        guard isOctal(peek()) else { break }
                        r = r * 8 + peek()! - 0x30
                        i += 1
                    }
                    return r
                case 0x78: // x
                    if peek() == 0x7B {
                        i += 1
                        var r: UInt32 = 0
                        var count = 0
                        while true {
                            guard let d = peek() else { throw CompileError() }
                            i += 1
                            if d == 0x7D { break }
                            guard let v = unhex(d) else { throw CompileError() }
                            r = r * 16 + v
                            if r > 0x10FFFF { throw CompileError() }
                            count += 1
                        }
                        if count == 0 { throw CompileError() }
                        return r
                    }
                    guard let x = unhex(peek()), let y = unhex(peek(1)) else { throw CompileError() }
                    i += 2
                    return x * 16 + y
                case 0x61: return 0x07 // \a
                case 0x66: return 0x0C // \f
                case 0x6E: return 0x0A // \n
                case 0x72: return 0x0D // \r
                case 0x74: return 0x09 // \t
                case 0x76: return 0x0B // \v
                default:
                    // Escaped ASCII punctuation stands for itself; anything else is invalid.
                    let isAlnum = (0x30...0x39).contains(c) || (0x41...0x5A).contains(c) || (0x61...0x7A).contains(c)
                    if c < 0x80 && !isAlnum { return c }
                    throw CompileError()
                }
            }

            /// Go's `parseClass`; `i` points at `[`.
            mutating func parseClass() throws -> CharClass {
                i += 1
                var cls = CharClass()
                if peek() == 0x5E { // ^
                    cls.negated = true
                    i += 1
                }
                var first = true // ']' is a literal when first
                while true {
                    guard let c = peek() else { throw CompileError() } // missing ']'
                    if c == 0x5D && !first { i += 1; break }
                    first = false
                    // POSIX [:name:] / [:^name:]; Go searches for ":]" in the whole rest.
                    if c == 0x5B, peek(1) == 0x3A, i + 2 < s.count {
                        if let end = Parser.find(s, [0x3A, 0x5D], from: i + 2) {
                            var name = Array(s[(i + 2)..<end])
                            var negated = false
                            if name.first == 0x5E { negated = true; name.removeFirst() }
                            let text = String(String.UnicodeScalarView(name.compactMap(Unicode.Scalar.init)))
                            guard let ranges = Regexp.posixClasses[text] else { throw CompileError() }
                            cls.items.append(.ranges(ranges, negated: negated))
                            i = end + 2
                            continue
                        }
                    }
                    if let item = try parseUnicodeClass() {
                        cls.items.append(item)
                        continue
                    }
                    if let item = parsePerlClass() {
                        cls.items.append(item)
                        continue
                    }
                    let lo = try parseClassChar()
                    var hi = lo
                    if peek() == 0x2D, let after = peek(1), after != 0x5D { // a-b (but [a-] is a|-)
                        i += 1
                        hi = try parseClassChar()
                        if hi < lo { throw CompileError() } // invalid character class range
                    }
                    cls.items.append(.range(lo, hi))
                }
                return cls
            }

            mutating func parseClassChar() throws -> UInt32 {
                guard let c = peek() else { throw CompileError() }
                if c == 0x5C { return try parseEscape() }
                i += 1
                return c
            }

            static func find(_ s: [UInt32], _ needle: [UInt32], from start: Int) -> Int? {
                guard needle.count <= s.count else { return nil }
                var j = start
                while j + needle.count <= s.count {
                    if s[j] == needle[0] && s[j + 1] == needle[1] { return j }
                    j += 1
                }
                return nil
            }
        }

        // MARK: Compiler (Thompson construction)

        struct Compiler {
            var program: [Inst] = []

            mutating func emit(_ node: Node) {
                switch node {
                case .empty:
                    break
                case .chars(let cls):
                    program.append(.chars(cls))
                case .anyNotNL:
                    program.append(.anyNotNL)
                case .assert(let kind):
                    program.append(.assert(kind))
                case .concat(let parts):
                    for part in parts { emit(part) }
                case .alternate(let branches):
                    var jumps: [Int] = []
                    for (k, branch) in branches.enumerated() {
                        if k < branches.count - 1 {
                            let split = program.count
                            program.append(.split(split + 1, -1))
                            emit(branch)
                            jumps.append(program.count)
                            program.append(.jump(-1))
                            program[split] = .split(split + 1, program.count)
                        } else {
                            emit(branch)
                        }
                    }
                    for j in jumps { program[j] = .jump(program.count) }
                case .star(let sub):
                    let split = program.count
                    program.append(.split(split + 1, -1))
                    emit(sub)
                    program.append(.jump(split))
                    program[split] = .split(split + 1, program.count)
                case .plus(let sub):
                    let start = program.count
                    emit(sub)
                    program.append(.split(start, program.count + 1))
                case .quest(let sub):
                    let split = program.count
                    program.append(.split(split + 1, -1))
                    emit(sub)
                    program[split] = .split(split + 1, program.count)
                }
            }
        }
    }
}
