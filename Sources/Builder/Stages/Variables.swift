import Dockerfile
import OCI

/// The variables an instruction expands with: the stage's ARGs in scope overlaid by its ENV
/// (ENV wins, as in BuildKit), expanded with BuildKit's shell lexer.
struct Variables: Sendable {
    private(set) var args: [String: String] = [:]
    private(set) var env: [(key: String, value: String)] = []
    /// Position of each ENV name in `env` (its first and last, for an image list that repeats
    /// a name), so setting one costs the same however many exist.
    private var envIndex: [String: (first: Int, last: Int)] = [:]
    /// ARGs overlaid by ENV, kept up to date on every change: each expansion reads it, so
    /// rebuilding it per word would make a stage quadratic in its variables.
    private(set) var merged: [String: String] = [:]
    let lexer: ShellLexer

    init(escapeToken: Character) {
        lexer = ShellLexer(escapeToken: escapeToken)
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
        if let index = envIndex[key] {
            // The first of the name changes; the last one decides its value, as it always has.
            env[index.first].value = value
            merged[key] = env[index.last].value
        } else {
            envIndex[key] = (env.count, env.count)
            env.append((key, value))
            merged[key] = value
        }
    }

    /// An ARG value (ENV of the same name still wins in expansions).
    mutating func setArg(_ key: String, _ value: String) {
        args[key] = value
        if envIndex[key] == nil { merged[key] = value }
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
                setArg(definition.name, value)
            } else if let defaultValue = definition.defaultValue {
                setArg(definition.name, try expand(defaultValue, line: line, file: file))
            } else if let global = globalArgs[definition.name] {
                setArg(definition.name, global)
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

    /// Replaces ENV with an image config's list (a stage's start).
    mutating func loadEnv(_ list: [String]?) {
        for (key, _) in env { merged[key] = args[key] }
        env = []
        envIndex = [:]
        for item in list ?? [] {
            guard let eq = item.firstIndex(of: "=") else {
                appendLoaded(item, "")
                continue
            }
            appendLoaded(String(item[..<eq]), String(item[item.index(after: eq)...]))
        }
    }

    /// A loaded ENV item: the list is kept as the image has it, a repeated name included.
    private mutating func appendLoaded(_ key: String, _ value: String) {
        envIndex[key] = (envIndex[key]?.first ?? env.count, env.count)
        env.append((key, value))
        merged[key] = value
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
