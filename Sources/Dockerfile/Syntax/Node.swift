/// A heredoc body attached to an instruction, kept raw so later stages decide on expansion
/// and tab-chomping exactly as BuildKit does.
public struct Heredoc: Sendable, Equatable {
    public var name: String
    public var fileDescriptor: Int
    /// False when any part of the name was quoted (`<<'EOF'`): the body is taken literally.
    public var expand: Bool
    /// True for `<<-`: leading tabs are to be removed from every body line.
    public var chomp: Bool
    /// The raw body, each line with its `\n`, tabs not yet chomped.
    public var content: String

    public init(name: String, fileDescriptor: Int = 0, expand: Bool, chomp: Bool, content: String) {
        self.name = name
        self.fileDescriptor = fileDescriptor
        self.expand = expand
        self.chomp = chomp
        self.content = content
    }
}

/// One instruction of the raw syntax tree: text exactly as written (no unquoting, no expansion),
/// so that it can be dumped in BuildKit's format and expanded later with the right environment.
public struct Node: Sendable, Equatable {
    /// The keyword, lowercased (`from`, `copy`, …).
    public var keyword: String
    /// Leading `--flags` as written, quotes removed (`--from=build`).
    public var flags: [String]
    /// Argument words; their meaning depends on the instruction (see the conformance README).
    public var args: [String]
    /// ONBUILD's nested instruction.
    public var onbuild: [Node]
    public var heredocs: [Heredoc]
    /// True when the arguments came from a JSON array (exec form).
    public var isJSON: Bool
    /// The logical line as written (continuations joined), for messages.
    public var original: String
    /// 1-based physical line numbers the instruction spans.
    public var startLine: Int
    public var endLine: Int

    public init(keyword: String, flags: [String] = [], args: [String] = [], onbuild: [Node] = [],
                heredocs: [Heredoc] = [], isJSON: Bool = false, original: String = "",
                startLine: Int = 0, endLine: Int = 0) {
        self.keyword = keyword
        self.flags = flags
        self.args = args
        self.onbuild = onbuild
        self.heredocs = heredocs
        self.isJSON = isJSON
        self.original = original
        self.startLine = startLine
        self.endLine = endLine
    }
}

/// A parsed Dockerfile: instructions plus what the directives said.
public struct SyntaxTree: Sendable, Equatable {
    public var nodes: [Node]
    /// The escape token from the `escape` directive (`\` by default).
    public var escapeToken: Character
    /// Parser directives found at the top (`syntax`, `escape`, `check`), keys lowercased.
    public var directives: [String: String]
    /// Non-fatal findings (e.g. empty continuation lines), with line numbers.
    public var warnings: [String]

    public init(nodes: [Node], escapeToken: Character = "\\", directives: [String: String] = [:], warnings: [String] = []) {
        self.nodes = nodes
        self.escapeToken = escapeToken
        self.directives = directives
        self.warnings = warnings
    }
}

/// A syntax error with the line it was found on, so messages can say `Dockerfile:LINE`.
public struct SyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var message: String
    public init(line: Int, message: String) {
        self.line = line
        self.message = message
    }
    public var description: String { line > 0 ? "line \(line): \(message)" : message }
}
