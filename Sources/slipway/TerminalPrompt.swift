import Foundation
import Publish
#if canImport(Glibc)
import Glibc
#endif

/// `docker login`'s interactive questions: asked on standard error, answered on standard
/// input, and only when standard input is a terminal (a script gets an error, never a hang).
/// The password is read with echo off; the terminal is restored even when Ctrl-C ends the run.
enum TerminalPrompt {
    static var isInteractive: Bool { isatty(0) == 1 }

    /// One line typed at the terminal, echoed.
    static func ask(_ question: String) throws -> String {
        FileHandle.standardError.write(Data(question.utf8))
        guard let line = readLine(strippingNewline: true) else { throw PublishError.failed("no answer to '\(question.trimmingCharacters(in: .whitespaces))' (end of input)") }
        return line
    }

    /// One line typed at the terminal with echo off.
    static func askSecret(_ question: String) throws -> String {
        var saved = termios()
        guard tcgetattr(0, &saved) == 0 else { return try ask(question) }
        var silent = saved
        silent.c_lflag &= ~tcflag_t(ECHO)
        let original = saved
        let restore: @Sendable () -> Void = {
            var terminal = original
            _ = tcsetattr(0, TCSAFLUSH, &terminal)
        }
        let key = Interruption.register(restore)
        defer {
            restore()
            Interruption.unregister(key)
            FileHandle.standardError.write(Data("\n".utf8))
        }
        _ = tcsetattr(0, TCSAFLUSH, &silent)
        return try ask(question)
    }
}
