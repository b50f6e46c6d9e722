import Foundation

/// compose's `.env` file, as buildx reads it for compose files: `KEY=VALUE` lines (optionally
/// `export KEY=…`, quoted values, `#` comments), values interpolated with what is known so far;
/// a key the environment already has keeps the environment's value.
public enum DotEnv {
    /// The `.env` text of `directory`, nil when there is none (or it is not a regular file).
    public static func read(directory: String) -> String? {
        let path = directory + "/.env"
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
              let data = FileManager.default.contents(atPath: path), data.count <= 1 << 20 else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// The environment compose files see: `environment` plus the file's keys it lacks.
    public static func merged(_ text: String, into environment: [String: String], file: String = ".env") throws -> [String: String] {
        var result = environment
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst("export ".count)).trimmingCharacters(in: .whitespaces) }
            let position = SourcePosition(file: file, line: number + 1, column: 1)
            guard let eq = line.firstIndex(of: "="), eq != line.startIndex else {
                throw BakeError("expected KEY=VALUE", at: position)
            }
            let key = String(line[..<eq]).trimmingCharacters(in: .whitespaces)
            var value = String(line[line.index(after: eq)...]).trimmingCharacters(in: .whitespaces)
            var interpolate = true
            if value.count >= 2, let quote = value.first, quote == "\"" || quote == "'", value.last == quote {
                value = String(value.dropFirst().dropLast())
                interpolate = quote == "\""
                if quote == "\"" { value = value.replacingOccurrences(of: "\\n", with: "\n").replacingOccurrences(of: "\\\"", with: "\"") }
            } else if let comment = value.range(of: " #") {
                value = String(value[..<comment.lowerBound]).trimmingCharacters(in: .whitespaces)
            }
            if interpolate { value = try ComposeInterpolation.expand(value, environment: result, at: position) }
            if environment[key] == nil { result[key] = value }
        }
        return result
    }
}
