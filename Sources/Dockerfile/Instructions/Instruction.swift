// Typed Dockerfile instructions (BuildKit's `frontend/dockerfile/instructions`).
//
// This layer checks everything that can be checked without a build environment (argument
// counts, flags, stage names, ONBUILD triggers) so that mistakes are reported with their line
// before any work starts. Words are kept exactly as written: variable expansion and quote
// removal need the build arguments and the stage environment, so the builder does them.

/// A `key=value` pair of ENV or LABEL. Both sides are raw: the builder expands and unquotes
/// them (`ENV a="x y"` gives value `"x y"` with its quotes here).
public struct KeyValue: Sendable, Equatable {
    public var key: String
    public var value: String

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}

/// One name of an ARG instruction. `defaultValue` is nil for `ARG name` (no default, which is
/// different from `ARG name=`, an empty default); it is raw (may contain quotes / `$VARS`).
public struct ArgDefinition: Sendable, Equatable {
    public var name: String
    public var defaultValue: String?

    public init(name: String, defaultValue: String? = nil) {
        self.name = name
        self.defaultValue = defaultValue
    }
}

/// The command of RUN / CMD / ENTRYPOINT (and HEALTHCHECK): either exec form (`args` as given,
/// run directly) or shell form (one string in `args`, to be run through the stage's SHELL),
/// the distinction images record in their config.
public struct ContainerCommand: Sendable, Equatable {
    public var args: [String]
    /// True for shell form: the builder prepends the current SHELL (default `/bin/sh -c`).
    public var prependShell: Bool

    public init(args: [String], prependShell: Bool) {
        self.args = args
        self.prependShell = prependShell
    }
}

/// HEALTHCHECK, in the shape of the image config's `Healthcheck` so the builder can store it
/// almost directly. Flag values are kept as written (already validated: durations parse with
/// `HealthcheckCommand.durationNanoseconds`, retries is a non-negative 32-bit integer).
public struct HealthcheckCommand: Sendable, Equatable {
    /// `["NONE"]` (disable the inherited check), `["CMD", arg...]` (exec form) or
    /// `["CMD-SHELL", command]` (shell form). Never nil after parsing; optional so that callers
    /// can model "not set".
    public var test: [String]?
    public var interval: String?
    public var timeout: String?
    public var startPeriod: String?
    public var startInterval: String?
    public var retries: String?

    public init(test: [String]?, interval: String? = nil, timeout: String? = nil, startPeriod: String? = nil,
                startInterval: String? = nil, retries: String? = nil) {
        self.test = test
        self.interval = interval
        self.timeout = timeout
        self.startPeriod = startPeriod
        self.startInterval = startInterval
        self.retries = retries
    }
}

/// COPY or ADD.
///
/// Heredoc sources: `sources` lists every source word exactly as written, in order, including
/// heredoc words such as `<<EOF` or `<<-"EOF"` (a source list never contains the bare name
/// `EOF` unless the user wrote a file called `EOF`). `heredocs` holds one entry per heredoc
/// source word, in the same order; `Heredoc.name` is the decoded name (`EOF`), which is the
/// file name the inline content gets in the destination, and `content` is ready to write:
/// for `<<-` the leading tabs are already removed. Use `heredoc(forSource:)` to tell a
/// heredoc word from a path, or `sourcePaths` for the non-heredoc sources.
public struct CopyCommand: Sendable, Equatable {
    public var sources: [String]
    public var destination: String
    /// `--from=<stage|image|context>`; nil when absent or empty. COPY only.
    public var from: String?
    /// `--chown=`, raw; nil when absent or empty.
    public var chown: String?
    /// `--chmod=`, raw; nil when absent or empty.
    public var chmod: String?
    public var link: Bool
    /// `--parents` (COPY only).
    public var parents: Bool
    /// `--exclude=` patterns, in order (repeatable).
    public var excludes: [String]
    /// Inline sources, aligned with the heredoc words of `sources` (see the type's comment).
    public var heredocs: [Heredoc]
    /// `--checksum=` (ADD only); nil when absent or empty.
    public var checksum: String?
    /// `--keep-git-dir` (ADD only); nil when not given.
    public var keepGitDir: Bool?
    /// `--unpack` (ADD only); nil when not given (then archives are unpacked for local sources only).
    public var unpack: Bool?
    public var isAdd: Bool

    public init(sources: [String], destination: String, from: String? = nil, chown: String? = nil,
                chmod: String? = nil, link: Bool = false, parents: Bool = false, excludes: [String] = [],
                heredocs: [Heredoc] = [], checksum: String? = nil, keepGitDir: Bool? = nil,
                unpack: Bool? = nil, isAdd: Bool = false) {
        self.sources = sources
        self.destination = destination
        self.from = from
        self.chown = chown
        self.chmod = chmod
        self.link = link
        self.parents = parents
        self.excludes = excludes
        self.heredocs = heredocs
        self.checksum = checksum
        self.keepGitDir = keepGitDir
        self.unpack = unpack
        self.isAdd = isAdd
    }

    /// The inline file for a source word if it is a heredoc word (`<<EOF`), else nil.
    public func heredoc(forSource source: String) -> Heredoc? {
        guard let parsed = try? DockerfileParser.parseHeredoc(source) else { return nil }
        return heredocs.first { GoStringRules.same($0.name, parsed.name) }
    }

    /// The sources that are paths or URLs (not heredocs), in order.
    public var sourcePaths: [String] {
        sources.filter { (try? DockerfileParser.parseHeredoc($0)) == nil }
    }
}

/// RUN. `flags` are the validated `--mount=` / `--network=` / `--security=` words exactly as
/// written (e.g. `--mount=type=cache,target=/root/.cache`): their values may contain `$VARS`,
/// so the builder interprets them after expansion.
public struct RunCommand: Sendable, Equatable {
    public var command: ContainerCommand
    public var flags: [String]
    /// Heredocs of the line, raw (`content` not yet tab-chomped for `<<-`, `chomp` tells): the
    /// builder follows BuildKit's rules for turning them into the script or extra files.
    public var heredocs: [Heredoc]

    public init(command: ContainerCommand, flags: [String] = [], heredocs: [Heredoc] = []) {
        self.command = command
        self.flags = flags
        self.heredocs = heredocs
    }
}

/// What an instruction asks for, with its arguments still unexpanded.
public enum InstructionKind: Sendable, Equatable {
    /// `stageName` lowercased; `platform` from `--platform=` (nil when absent or empty).
    case from(image: String, stageName: String?, platform: String?)
    case arg([ArgDefinition])
    case env([KeyValue])
    case label([KeyValue])
    case copy(CopyCommand)
    case run(RunCommand)
    case workdir(String)
    case user(String)
    /// Ports as written, sorted like BuildKit does.
    case expose([String])
    case volume([String])
    case entrypoint(ContainerCommand)
    case cmd(ContainerCommand)
    /// Always exec form (SHELL requires JSON).
    case shell([String])
    case stopSignal(String)
    case healthcheck(HealthcheckCommand)
    /// The trigger as docker stores it in the image config's `OnBuild`, e.g. `RUN echo hi`
    /// (heredoc bodies appended as `\n<content><name>`, as BuildKit does).
    case onbuild(String)
    case maintainer(String)
}

/// One parsed instruction with where it came from (for messages and build logs).
public struct Instruction: Sendable, Equatable {
    public var kind: InstructionKind
    /// 1-based first and last physical line.
    public var line: Int
    public var endLine: Int
    /// The logical line as written (continuations joined).
    public var original: String
    public var node: Node

    public init(kind: InstructionKind, line: Int, endLine: Int, original: String, node: Node) {
        self.kind = kind
        self.line = line
        self.endLine = endLine
        self.original = original
        self.node = node
    }
}

/// A build stage: a FROM and the instructions up to the next FROM.
public struct Stage: Sendable, Equatable {
    /// `AS` name, lowercased like BuildKit (stage references are case-insensitive).
    public var name: String?
    /// The image reference as written; may contain `$VARS` (expanded with the global ARGs).
    public var baseImage: String
    /// `--platform=` as written; nil when absent or empty.
    public var platform: String?
    /// Line of the FROM instruction.
    public var line: Int
    /// Everything after the FROM (the FROM itself is not repeated here).
    public var instructions: [Instruction]
    /// Position in the Dockerfile, 0-based: `COPY --from=0` refers to it.
    public var index: Int

    public init(name: String?, baseImage: String, platform: String?, line: Int, instructions: [Instruction], index: Int) {
        self.name = name
        self.baseImage = baseImage
        self.platform = platform
        self.line = line
        self.instructions = instructions
        self.index = index
    }
}

/// A whole Dockerfile, ready for the builder.
public struct DockerfilePlan: Sendable, Equatable {
    /// ARGs before the first FROM: usable in FROM lines (and re-declarable inside stages).
    public var globalArgs: [ArgDefinition]
    public var stages: [Stage]
    /// The escape character in effect (`\` or `` ` ``), needed to expand words correctly.
    public var escapeToken: Character

    public init(globalArgs: [ArgDefinition], stages: [Stage], escapeToken: Character) {
        self.globalArgs = globalArgs
        self.stages = stages
        self.escapeToken = escapeToken
    }
}

/// A Dockerfile that parses but does not make sense as instructions. `message` says what is
/// wrong and what to write instead; `line` is 1-based.
public struct InstructionError: Error, Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var message: String

    public init(line: Int, message: String) {
        self.line = line
        self.message = message
    }

    public var description: String { "line \(line): \(message)" }
}
