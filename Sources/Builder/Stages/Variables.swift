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

    /// The environment a stage starts with when neither its base image nor its base stage
    /// sets one (Docker's default).
    static let defaultEnv = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]

    /// `ARG` inside a stage: a build argument wins, then the default (expanded), then the
    /// global ARG of that name. Shared by planning and the stage graph, so a `COPY --from`
    /// word expands the same in both.
    mutating func declare(_ definitions: [ArgDefinition], buildArgs: [String: String], globalArgs: [String: String],
                          line: Int, file: String) throws {
        for definition in definitions {
            if let value = buildArgs[definition.name] {
                args[definition.name] = value
            } else if let defaultValue = definition.defaultValue {
                args[definition.name] = try expand(defaultValue, line: line, file: file)
            } else if let global = globalArgs[definition.name] {
                args[definition.name] = global
            }
        }
    }

    /// `ENV`: keys and values expanded against the variables as they were before the
    /// instruction (BuildKit: `ENV A=2 B=$A` gives B the old A), then set in order.
    mutating func define(_ pairs: [KeyValue], line: Int, file: String) throws {
        let expanded = try pairs.map { pair in
            (key: try expand(pair.key, line: line, file: file), value: try expand(pair.value, line: line, file: file))
        }
        for (key, value) in expanded {
            guard !key.isEmpty else { throw BuildError("ENV names must not be empty", file: file, line: line) }
            setEnv(key, value)
        }
    }

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
