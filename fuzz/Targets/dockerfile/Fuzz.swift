import Dockerfile

/// Dockerfile text → syntax tree → typed plan, and every argument of every instruction through
/// the shell-word expander (with and without a matching variable). Errors are fine; traps are not.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let tree = try? DockerfileParser.parse(bytes) else { return 0 }
    _ = try? InstructionParser.plan(tree)
    let lexer = ShellLexer(escapeToken: tree.escapeToken)
    let env = ["A": "a b", "HOME": "/root", "EMPTY": "", "PATH": "/usr/bin:/bin"]
    for node in tree.nodes.prefix(64) {
        for word in (node.args + node.flags).prefix(64) {
            _ = try? lexer.processWord(word, env: env)
            _ = try? lexer.processWords(word, env: env)
            _ = try? lexer.processWordWithMatches(word, env: [:])
        }
        _ = try? InstructionParser.instruction(from: node)
    }
    return 0
}
