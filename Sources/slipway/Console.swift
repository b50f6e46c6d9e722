import Builder
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
    func debug(_ message: String) { stderr("debug: \(message)") }

    /// Writes terminal control text as it is (live progress lines).
    func raw(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
    func error(_ message: String) { stderr("error: \(message)") }

    private func stderr(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Renders build events: one line per instruction and per finished layer.
    func buildEvents() -> (@Sendable (BuildEvent) -> Void)? {
        guard mode != "quiet" else { return nil }
        let console = self
        return { event in
            switch event {
            case .instruction(let platform, let stage, let line, let text):
                let short = text.count > 100 ? String(text.prefix(97)) + "..." : text
                console.step("[\(platform) \(stage)] \(line): \(short.replacingOccurrences(of: "\n", with: " "))")
            case .layerStarted(let index, let count, let entries):
                if console.mode == "plain" { console.step("layer \(index)/\(count): writing \(entries) entries") }
            case .layerFinished(let index, let count, let digest, let size, let seconds):
                console.step("layer \(index)/\(count): \(digest.short) \(Console.bytes(size)) in \(String(format: "%.2f", seconds))s")
            }
        }
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
