import ArgumentParser
import Foundation
import HTTP
import Publish

/// Where the command's words go: results to stdout (for scripts), progress and diagnostics
/// to stderr; `plain` timestamps each event for CI logs, `quiet` prints results only.
struct Console: Sendable {
    let mode: String

    init(mode: String) {
        if mode == "auto" {
            self.mode = isatty(2) == 1 ? "tty" : "plain"
        } else {
            self.mode = mode
        }
    }

    /// Every command's body runs here, so every failure is shown the same way: usage problems
    /// go to the argument parser (help and exit code 64), anything else becomes one redacted
    /// `error: …` line and exit code 1.
    static func run(mode: String, _ body: (Console) async throws -> Void) async throws {
        let console = Console(mode: mode)
        // Ctrl-C and SIGTERM remove what the run has half written, then end it by the signal.
        Interruption.installHandlers()
        do {
            try await body(console)
        } catch let error where error is ValidationError || error is ExitCode || error is CleanExit {
            throw error
        } catch PublishError.invalidArgument(let message) {
            throw ValidationError(message)
        } catch {
            console.error(Redactor.redact("\(error)"))
            throw ExitCode.failure
        }
    }

    func step(_ message: String) {
        switch mode {
        case "quiet": return
        case "plain": stderr("\(Console.timestamp()) \(message)")
        default: stderr("=> \(message)")
        }
    }

    func result(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    func warn(_ message: String) { stderr("warning: \(message)") }
    func debug(_ message: String) { stderr("debug: \(message)") }
    func error(_ message: String) { stderr("error: \(message)") }

    /// Writes terminal control text as it is (live progress lines).
    func raw(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    private func stderr(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    static func bytes(_ count: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB"]
        var value = Double(count)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
        return unit == 0 ? "\(count) B" : String(format: "%.1f %@", value, units[unit])
    }

    static func timestamp() -> String {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        return String(format: "%02d:%02d:%02d", Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    }
}

/// Runs a `validate()` check written in the workflows' terms: an invalid argument they report
/// is a usage error here.
func validating<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch PublishError.invalidArgument(let message) { throw ValidationError(message) }
}
