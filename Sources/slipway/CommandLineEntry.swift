import ArgumentParser
import Foundation

extension Slipway {
    /// Parses and runs like swift-argument-parser's own `main`, but every failure reaches the
    /// user with the one prefix `error: ` — usage errors too, which the parser would start
    /// with `Error: ` — so scripts and people grep for one word. Help, `--version` and
    /// completion scripts go to stdout unchanged; `--generate-completion-script
    /// powershell` is answered here (`PowerShellCompletion`), as the parser knows no PowerShell.
    static func run(arguments: [String]) async -> Never {
        if arguments == ["--generate-completion-script", "powershell"] || arguments == ["--generate-completion-script=powershell"] {
            guard let script = PowerShellCompletion.script() else {
                FileHandle.standardError.write(Data("error: cannot describe the commands for a PowerShell completion script\n".utf8))
                finish(ExitCode.failure.rawValue)
            }
            print(script, terminator: "")
            finish(0)
        }
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            finish(0)
        } catch {
            let code = exitCode(for: error)
            let text = fullMessage(for: error)
            guard code != .success else {
                if !text.isEmpty { print(text) }
                finish(code.rawValue)
            }
            // The parser lists the shells it knows; PowerShell is answered above.
            let shells = text.replacingOccurrences(of: "\n    zsh bash fish\n", with: "\n    zsh bash fish powershell\n")
            if !shells.isEmpty { FileHandle.standardError.write(Data((prefixed(shells) + "\n").utf8)) }
            finish(code.rawValue)
        }
    }

    /// Ends the process once stdout and stderr are flushed, without running `atexit` handlers
    /// or library destructors: libcurl's transfer thread and Swift's worker threads may still
    /// hold OpenSSL locks when the command returns, and OpenSSL's exit-time cleanup freeing
    /// them under those threads crashed `slipway login` at exit (SIGSEGV in
    /// `pthread_rwlock_unlock`, seen once in CI). Everything slipway must leave behind is
    /// written and closed before this point; nothing of it is left to exit handlers.
    static func finish(_ code: Int32) -> Never {
        fflush(nil)
        _exit(code)
    }

    /// `Error: x` (the parser's spelling) becomes `error: x`; a message without a prefix gets one.
    static func prefixed(_ text: String) -> String {
        if text.hasPrefix("error: ") { return text }
        if text.hasPrefix("Error: ") { return "error: " + text.dropFirst("Error: ".count) }
        return "error: " + text
    }
}
