import Foundation

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
    func error(_ message: String) { stderr("error: \(message)") }

    private func stderr(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    static func timestamp() -> String {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        return String(format: "%02d:%02d:%02d", Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    }
}
