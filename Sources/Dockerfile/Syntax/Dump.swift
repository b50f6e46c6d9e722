/// BuildKit's `Node.Dump()` rendering: the reference format of the upstream parser test corpus,
/// so our trees can be compared with BuildKit's byte for byte (and eyeballed in the same notation).
extension Node {
    /// `keyword ["--flag" ...] "arg" ...`, or `onbuild (sub-instruction)`; no surrounding parens.
    public func dump() -> String {
        var out = keyword.lowercased()
        if !flags.isEmpty {
            out += " [" + flags.map(GoStringRules.quote).joined(separator: " ") + "]"
        }
        for arg in args {
            out += " " + GoStringRules.quote(arg)
        }
        for trigger in onbuild {
            out += " (" + trigger.dump() + ")"
        }
        return GoStringRules.trimSpace(out)
    }
}

extension SyntaxTree {
    /// One `(instruction)` line per node, joined by `\n`, without a trailing newline
    /// (the upstream `result` files are this plus `"\n"`).
    public func dump() -> String {
        GoStringRules.trimSpace(nodes.map { "(" + $0.dump() + ")" }.joined(separator: "\n"))
    }
}
