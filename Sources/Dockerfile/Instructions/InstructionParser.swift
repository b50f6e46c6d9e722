/// Syntax tree to typed instructions and stages, with BuildKit's validation rules
/// (`instructions.Parse`), so that a Dockerfile Docker rejects is rejected here too, at the
/// same line, before anything is built.
public enum InstructionParser {
    /// Groups the instructions into stages. ARGs before the first FROM become `globalArgs`.
    /// Throws `InstructionError` for the first invalid instruction.
    public static func plan(_ tree: SyntaxTree) throws -> DockerfilePlan {
        var globalArgs: [ArgDefinition] = []
        var stages: [Stage] = []
        var stageLines: [String: Int] = [:]
        for node in tree.nodes {
            let instruction = try self.instruction(from: node)
            switch instruction.kind {
            case let .from(image, stageName, platform):
                if let stageName {
                    if let previous = stageLines[stageName] {
                        throw InstructionError(line: node.startLine, message:
                            "duplicate stage name \(GoStringRules.quote(stageName)) (already used by the stage at line \(previous)); give each stage a unique name")
                    }
                    stageLines[stageName] = node.startLine
                }
                stages.append(Stage(name: stageName, baseImage: image, platform: platform, line: node.startLine,
                                    instructions: [], index: stages.count))
            case .arg(let definitions) where stages.isEmpty:
                globalArgs += definitions
            default:
                guard !stages.isEmpty else {
                    throw InstructionError(line: node.startLine, message:
                        "\(node.keyword.uppercased()) instruction before the first FROM: a Dockerfile must start with FROM (only ARG may come before it)")
                }
                stages[stages.count - 1].instructions.append(instruction)
            }
        }
        guard !stages.isEmpty else {
            throw InstructionError(line: tree.nodes.last?.startLine ?? 1, message:
                "the Dockerfile has no FROM instruction: add `FROM <image>` to start a build stage")
        }
        return DockerfilePlan(globalArgs: globalArgs, stages: stages, escapeToken: tree.escapeToken)
    }

    /// Parses one node (including FROM, which `plan` turns into a stage).
    public static func instruction(from node: Node) throws -> Instruction {
        do {
            let kind = try parseKind(node)
            return Instruction(kind: kind, line: node.startLine, endLine: node.endLine, original: node.original, node: node)
        } catch let error as BuilderFlagsError {
            throw InstructionError(line: node.startLine, message: error.message)
        } catch let error as Failure {
            throw InstructionError(line: node.startLine, message: error.message)
        }
    }

    /// Every instruction name (uppercase), for messages.
    static let allInstructions = ["ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK",
                                  "LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"]

    struct Failure: Error {
        var message: String
        init(_ message: String) { self.message = message }
    }

    static func parseKind(_ node: Node) throws -> InstructionKind {
        let name = node.keyword.uppercased()
        let args = node.flatArgs
        switch node.keyword {
        case "env", "label":
            try checkNoFlags(node)
            let pairs = try keyValues(args, command: name)
            return node.keyword == "env" ? .env(pairs) : .label(pairs)
        case "maintainer":
            let value = try exactlyOne(args, command: name)
            try checkNoFlags(node)
            return .maintainer(value)
        case "add", "copy":
            return .copy(try copyCommand(node, args: args, isAdd: node.keyword == "add"))
        case "from":
            return try from(node, args: args)
        case "onbuild":
            return .onbuild(try onbuild(node, args: args))
        case "workdir":
            let value = try exactlyOne(args, command: name)
            try checkNoFlags(node)
            return .workdir(value)
        case "run":
            var flags = BuilderFlags([("mount", .strings), ("network", .string), ("security", .string)])
            try flags.parse(node.flags, instruction: name)
            return .run(RunCommand(command: commandLine(node, args: args), flags: node.flags, heredocs: node.heredocs))
        case "cmd":
            try checkNoFlags(node)
            return .cmd(commandLine(node, args: args))
        case "entrypoint":
            try checkNoFlags(node)
            return .entrypoint(commandLine(node, args: args))
        case "healthcheck":
            return .healthcheck(try healthcheck(node, args: args))
        case "expose":
            guard !args.isEmpty else { throw atLeastOne(name, example: "EXPOSE 8080/tcp") }
            try checkNoFlags(node)
            return .expose(args.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
        case "user":
            let value = try exactlyOne(args, command: name)
            try checkNoFlags(node)
            return .user(value)
        case "volume":
            guard !args.isEmpty else { throw atLeastOne(name, example: "VOLUME /data") }
            try checkNoFlags(node)
            var volumes: [String] = []
            for arg in args {
                let volume = GoStringRules.trimSpace(arg)
                guard !volume.isEmpty else {
                    throw Failure("VOLUME specified can not be an empty string (remove the empty entry)")
                }
                volumes.append(volume)
            }
            return .volume(volumes)
        case "stopsignal":
            // Like BuildKit, STOPSIGNAL does not look at flags.
            return .stopSignal(try exactlyOne(args, command: name))
        case "arg":
            // Like BuildKit, ARG does not look at flags.
            return .arg(try argDefinitions(args))
        case "shell":
            try checkNoFlags(node)
            guard !args.isEmpty else { throw atLeastOne(name, example: #"SHELL ["/bin/bash", "-c"]"#) }
            guard node.isJSON else {
                throw Failure(#"SHELL requires the arguments to be in JSON form (write SHELL ["executable", "parameters"])"#)
            }
            return .shell(args)
        default:
            throw Failure(unknownInstructionMessage(node.keywordAsWritten))
        }
    }

    // MARK: - helpers

    static func checkNoFlags(_ node: Node) throws {
        var flags = BuilderFlags([])
        try flags.parse(node.flags, instruction: node.keyword.uppercased())
    }

    static func atLeastOne(_ command: String, example: String) -> Failure {
        Failure("\(command) requires at least one argument (for example: \(example))")
    }

    static func exactlyOne(_ args: [String], command: String) throws -> String {
        guard args.count == 1 else {
            throw Failure("\(command) requires exactly one argument")
        }
        return args[0]
    }

    static func unknownInstructionMessage(_ keyword: String) -> String {
        // A word that cannot be a misspelt instruction is not shown: the "Dockerfile" may be
        // some other file (a secret's first line must not end up in a build log).
        guard keyword.utf8.count <= 16, keyword.utf8.allSatisfy({ (0x41...0x5a).contains($0 & ~0x20) }) else {
            return "unknown instruction: the line does not start with an instruction name (is this a Dockerfile? its text is not shown)"
        }
        var message = "unknown instruction: \(keyword)"
        let upper = keyword.uppercased()
        // Like BuildKit's suggestions: closest name within edit distance 2, in the user's case.
        if let best = allInstructions.min(by: { BuilderFlags.editDistance($0, upper) < BuilderFlags.editDistance($1, upper) }),
           BuilderFlags.editDistance(best, upper) <= 2 {
            message += " (did you mean \(keyword == keyword.lowercased() ? best.lowercased() : best)?)"
        } else {
            message += " (instructions are " + allInstructions.joined(separator: ", ") + ")"
        }
        return message
    }

    static func keyValues(_ args: [String], command: String) throws -> [KeyValue] {
        guard !args.isEmpty else {
            throw atLeastOne(command, example: "\(command) key=value")
        }
        guard args.count % 3 == 0 else {
            throw Failure("Bad input to \(command), too many arguments")
        }
        var pairs: [KeyValue] = []
        for i in stride(from: 0, to: args.count, by: 3) {
            guard !args[i].isEmpty else {
                throw Failure("\(command) names can not be blank (write \(command) name=value)")
            }
            pairs.append(KeyValue(key: args[i], value: args[i + 1]))
        }
        return pairs
    }

    static func argDefinitions(_ args: [String]) throws -> [ArgDefinition] {
        guard !args.isEmpty else { throw atLeastOne("ARG", example: "ARG name or ARG name=default") }
        return try args.map { arg in
            guard let (name, value) = GoStringRules.cut(arg, at: "=") else { return ArgDefinition(name: arg) }
            guard !name.isEmpty else { throw Failure("ARG names can not be blank (write ARG name=default)") }
            return ArgDefinition(name: name, defaultValue: value)
        }
    }

    /// BuildKit `handleJSONArgs`: exec form keeps the words, shell form is one string.
    static func commandLine(_ node: Node, args: [String]) -> ContainerCommand {
        if args.isEmpty { return ContainerCommand(args: [], prependShell: !node.isJSON) }
        if node.isJSON { return ContainerCommand(args: args, prependShell: false) }
        return ContainerCommand(args: [args.joined(separator: " ")], prependShell: true)
    }

    static func from(_ node: Node, args: [String]) throws -> InstructionKind {
        var stageName: String?
        if args.count == 3 && args[1].lowercased() == "as" {
            let name = args[2].lowercased()
            guard isValidStageName(name) else {
                throw Failure("invalid name for build stage: \(GoStringRules.quote(args[2])), name can't start with a number or contain symbols (use letters, digits, '-', '_' and '.', starting with a letter)")
            }
            stageName = name
        } else if args.count != 1 {
            throw Failure("FROM requires either one or three arguments (write FROM <image> or FROM <image> AS <name>)")
        }
        var flags = BuilderFlags([("platform", .string)])
        try flags.parse(node.flags, instruction: "FROM")
        return .from(image: args[0], stageName: stageName, platform: flags.string("platform"))
    }

    /// `^[a-z][a-z0-9-_.]*$`
    static func isValidStageName(_ name: String) -> Bool {
        let u = Array(name.unicodeScalars)
        guard let first = u.first, ("a"..."z").contains(first) else { return false }
        return u.dropFirst().allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0) }
    }

    static func copyCommand(_ node: Node, args: [String], isAdd: Bool) throws -> CopyCommand {
        let command = isAdd ? "ADD" : "COPY"
        guard args.count >= 2 else {
            throw Failure("\(command) requires at least two arguments, but only one was provided. Destination could not be determined (write \(command) <source>... <destination>)")
        }
        var flags = isAdd
            ? BuilderFlags([("chown", .string), ("chmod", .string), ("link", .bool), ("keep-git-dir", .bool),
                            ("checksum", .string), ("unpack", .bool), ("exclude", .strings)])
            : BuilderFlags([("chown", .string), ("from", .string), ("chmod", .string), ("link", .bool),
                            ("exclude", .strings), ("parents", .bool)])
        try flags.parse(node.flags, instruction: command)

        let sources = Array(args.dropLast())
        let destination = args[args.count - 1]
        if (try? DockerfileParser.parseHeredoc(destination)) != nil {
            throw Failure("\(command) cannot accept a heredoc as a destination (put the heredoc before the destination path)")
        }
        var heredocs: [Heredoc] = []
        for source in sources {
            guard let parsed = try? DockerfileParser.parseHeredoc(source) else { continue }
            // Content comes from the node's heredoc of that name (none in JSON form: empty file).
            var inline = parsed
            let body = node.heredocs.last { GoStringRules.same($0.name, parsed.name) }?.content ?? ""
            inline.content = parsed.chomp ? DockerfileParser.chompHeredocContent(body) : body
            heredocs.append(inline)
        }
        return CopyCommand(
            sources: sources, destination: destination,
            from: flags.string("from"), chown: flags.string("chown"), chmod: flags.string("chmod"),
            link: flags.bools["link"] ?? false, parents: flags.bools["parents"] ?? false,
            excludes: flags.lists["exclude"] ?? [], heredocs: heredocs,
            checksum: flags.string("checksum"), keepGitDir: flags.bools["keep-git-dir"],
            unpack: flags.bools["unpack"], isAdd: isAdd)
    }

    static func onbuild(_ node: Node, args: [String]) throws -> String {
        guard !args.isEmpty else { throw atLeastOne("ONBUILD", example: "ONBUILD RUN make") }
        try checkNoFlags(node)
        let trigger = GoStringRules.trimSpace(args[0]).uppercased()
        switch trigger {
        case "ONBUILD":
            throw Failure("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
        case "MAINTAINER", "FROM":
            throw Failure("\(trigger) isn't allowed as an ONBUILD trigger")
        default:
            break
        }
        // (?i)^\s*ONBUILD\s*  removed from the original line.
        var u = Array(node.original.unicodeScalars)[...]
        while let c = u.first, GoStringRules.isRegexSpace(c) { u = u.dropFirst() }
        if u.count >= 7, String(String.UnicodeScalarView(u.prefix(7))).uppercased() == "ONBUILD" {
            u = u.dropFirst(7)
            while let c = u.first, GoStringRules.isRegexSpace(c) { u = u.dropFirst() }
        } else {
            u = Array(node.original.unicodeScalars)[...]
        }
        var expression = String(String.UnicodeScalarView(u))
        for heredoc in node.heredocs {
            expression += "\n" + heredoc.content + heredoc.name
        }
        return expression
    }

    static func healthcheck(_ node: Node, args: [String]) throws -> HealthcheckCommand {
        guard !args.isEmpty else { throw atLeastOne("HEALTHCHECK", example: "HEALTHCHECK CMD curl -f http://localhost/ or HEALTHCHECK NONE") }
        let type = args[0].uppercased()
        let rest = Array(args.dropFirst())
        if type == "NONE" {
            guard rest.isEmpty else { throw Failure("HEALTHCHECK NONE takes no arguments (remove what follows NONE)") }
            return HealthcheckCommand(test: ["NONE"])
        }
        var flags = BuilderFlags([("interval", .string), ("timeout", .string), ("start-period", .string),
                                  ("start-interval", .string), ("retries", .string)])
        try flags.parse(node.flags, instruction: "HEALTHCHECK")
        guard type == "CMD" else {
            throw Failure("Unknown type \(GoStringRules.quote(type)) in HEALTHCHECK (try CMD)")
        }
        let command = commandLine(node, args: rest)
        guard !command.args.isEmpty else {
            throw Failure("Missing command after HEALTHCHECK CMD")
        }
        let test = (command.prependShell ? ["CMD-SHELL"] : ["CMD"]) + command.args

        for name in ["interval", "timeout", "start-period", "start-interval"] {
            guard let value = flags.string(name) else { continue }
            guard let nanoseconds = HealthcheckCommand.durationNanoseconds(value) else {
                throw Failure("invalid duration \(GoStringRules.quote(value)) for --\(name) (use a duration such as 30s, 1m30s or 500ms)")
            }
            if nanoseconds != 0 && nanoseconds < 1_000_000 {
                throw Failure("Interval \(GoStringRules.quote(name)) cannot be less than 1ms")
            }
        }
        if let retries = flags.string("retries") {
            guard let n = Int32(retries) else {
                throw Failure("invalid value \(GoStringRules.quote(retries)) for --retries (use a whole number such as 3)")
            }
            if n < 0 { throw Failure("--retries cannot be negative (\(n))") }
        }
        return HealthcheckCommand(test: test, interval: flags.string("interval"), timeout: flags.string("timeout"),
                                  startPeriod: flags.string("start-period"), startInterval: flags.string("start-interval"),
                                  retries: flags.string("retries"))
    }
}

extension Node {
    /// BuildKit `nodeArgs`: the arguments, with an ONBUILD trigger flattened to
    /// `[keyword as written, its args...]`.
    var flatArgs: [String] {
        var result = args
        for trigger in onbuild {
            result.append(trigger.keywordAsWritten)
            result += trigger.flatArgs
        }
        return result
    }

    /// The keyword with its original case (`keyword` is lowercased), for messages.
    var keywordAsWritten: String {
        let first = GoStringRules.splitWhitespace(GoStringRules.trimSpace(original), limit: 2)[0]
        return first.lowercased() == keyword ? first : keyword
    }
}
