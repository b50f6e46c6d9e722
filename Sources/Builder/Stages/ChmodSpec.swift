/// A `--chmod` value as BuildKit takes it: an octal mode (0 to 07777), or since Dockerfile
/// 1.14 a symbolic one in chmod(1) syntax (`u+x,g=r`, `a+X`) applied to each copied entry's
/// own mode. The two differ for directories COPY creates: an octal mode is theirs too, a
/// symbolic one leaves them at 0755.
enum ChmodSpec: Sendable, Equatable {
    case octal(UInt32)
    case symbolic(String, [Clause])

    struct Clause: Sendable, Equatable {
        /// The permission bits the clause may touch; 0 means "all, as the umask allows" (umask 0 here).
        var who: UInt32
        var actions: [Action]
    }

    struct Action: Sendable, Equatable {
        var op: Character
        var bits: UInt32
        /// `X`: execute bits, set only on directories and already-executable files.
        var conditionalExecute: UInt32
        /// `u`, `g` or `o` after the operator: copy that class's bits.
        var copyFrom: Character?
    }

    private static let standardBits: UInt32 = 0o6777

    static func parse(_ text: String) throws -> ChmodSpec {
        let nonOctal = BuildError("invalid chmod parameter: '\(text)'. it should be octal string and between 0 and 07777")
        if let value = UInt32(text, radix: 8) {
            guard value <= 0o7777 else { throw nonOctal }
            return .octal(value)
        }
        // BuildKit reports anything that starts like a number with its octal message.
        if let first = text.first, first.isASCII, first.isNumber { throw nonOctal }
        guard let clauses = parseSymbolic(text) else {
            throw BuildError("invalid chmod parameter: '\(text)': invalid syntax; use an octal mode such as 0755 or a symbolic one such as u+x,g=r")
        }
        return .symbolic(text, clauses)
    }

    private static func parseSymbolic(_ text: String) -> [Clause]? {
        var clauses: [Clause] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            var rest = Substring(part)
            var who: UInt32 = 0
            while let c = rest.first, "augo".contains(c) {
                switch c {
                case "a": who |= standardBits
                case "u": who |= 0o4700
                case "g": who |= 0o2070
                default: who |= 0o0007
                }
                rest = rest.dropFirst()
            }
            var actions: [Action] = []
            while let op = rest.first {
                guard "+-=".contains(op) else { return nil }
                rest = rest.dropFirst()
                var action = Action(op: op, bits: 0, conditionalExecute: 0, copyFrom: nil)
                while let p = rest.first, "rwxXstugo".contains(p) {
                    switch p {
                    case "r": action.bits |= 0o444
                    case "w": action.bits |= 0o222
                    case "x": action.bits |= 0o111
                    case "X": if op == "+" { action.conditionalExecute |= 0o111 }
                    case "s": if who == 0 || who & ~0o0007 != 0 { action.bits |= 0o6000 }
                    case "t": if who == 0 || who & ~0o0007 != 0 { action.bits |= 0o1000 }
                    default: action.copyFrom = p
                    }
                    rest = rest.dropFirst()
                }
                actions.append(action)
            }
            guard !actions.isEmpty else { return nil }
            clauses.append(Clause(who: who, actions: actions))
        }
        return clauses
    }

    /// The mode a copied entry gets.
    func apply(to mode: UInt32, isDirectory: Bool) -> UInt32 {
        switch self {
        case .octal(let value): return value
        case .symbolic(_, let clauses):
            let original = mode & 0o7777
            var result = original
            for clause in clauses {
                for action in clause.actions {
                    // The sticky bit is only ever touched when the clause names it.
                    let affected = (clause.who == 0 ? ChmodSpec.standardBits : clause.who) | (action.bits & 0o1000)
                    var bits = action.bits
                    if let from = action.copyFrom {
                        let shift: UInt32 = from == "u" ? 6 : from == "g" ? 3 : 0
                        let value = (result >> shift) & 0o7
                        bits |= value << 6 | value << 3 | value
                    }
                    if action.conditionalExecute != 0, isDirectory || original & 0o111 != 0 {
                        bits |= action.conditionalExecute
                    }
                    switch action.op {
                    case "+": result |= bits & affected
                    case "-": result &= ~(bits & affected)
                    default: result = (result & ~(affected & ~0o1000 | action.bits & 0o1000)) | (bits & affected)
                    }
                }
            }
            return result | (mode & ~0o7777)
        }
    }

    /// The mode of directories the instruction creates on the way to its destination.
    var createdDirectoryMode: UInt32 {
        if case .octal(let value) = self { return value }
        return 0o755
    }

    var text: String {
        switch self {
        case .octal(let value): return String(value, radix: 8)
        case .symbolic(let text, _): return text
        }
    }
}
