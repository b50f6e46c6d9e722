import Dockerfile
import OCI

/// The variables an instruction expands with: the stage's ARGs in scope overlaid by its ENV
/// (ENV wins, as in BuildKit), expanded with BuildKit's shell lexer.
struct Variables: Sendable {
    var args: [String: String] = [:]
    var env: [(key: String, value: String)] = []
    let lexer: ShellLexer

    init(escapeToken: Character) {
        lexer = ShellLexer(escapeToken: escapeToken)
    }

    var merged: [String: String] {
        var all = args
        for (key, value) in env { all[key] = value }
        return all
    }

    func expand(_ word: String, line: Int, file: String) throws -> String {
        do {
            return try lexer.processWord(word, env: merged)
        } catch {
            throw BuildError("cannot expand '\(word)': \(error)", file: file, line: line)
        }
    }

    func expandWords(_ word: String, line: Int, file: String) throws -> [String] {
        do {
            return try lexer.processWords(word, env: merged)
        } catch {
            throw BuildError("cannot expand '\(word)': \(error)", file: file, line: line)
        }
    }

    mutating func setEnv(_ key: String, _ value: String) {
        if let index = env.firstIndex(where: { $0.key == key }) {
            env[index].value = value
        } else {
            env.append((key, value))
        }
    }

    var envList: [String] { env.map { "\($0.key)=\($0.value)" } }

    mutating func loadEnv(_ list: [String]?) {
        env = (list ?? []).map { item in
            guard let eq = item.firstIndex(of: "=") else { return (item, "") }
            return (String(item[..<eq]), String(item[item.index(after: eq)...]))
        }
    }

    /// BuildKit's automatic platform arguments for a target and the build machine.
    static func platformArgs(target: Platform, build: Platform) -> [String: String] {
        [
            "TARGETPLATFORM": target.description, "TARGETOS": target.os,
            "TARGETARCH": target.architecture, "TARGETVARIANT": target.variant ?? "",
            "BUILDPLATFORM": build.description, "BUILDOS": build.os,
            "BUILDARCH": build.architecture, "BUILDVARIANT": build.variant ?? "",
        ]
    }
}
