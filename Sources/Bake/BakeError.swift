/// Where in a bake file something is: errors name it as `FILE:LINE:COLUMN` so a user can go
/// straight to the mistake (as buildx names HCL diagnostics).
public struct SourcePosition: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}

/// A bake file or flag that cannot be used: a syntax error, an unknown key, a circular
/// `inherits`, a missing target. The message says what to change.
public struct BakeError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var position: SourcePosition?

    public init(_ message: String, at position: SourcePosition? = nil) {
        self.message = message
        self.position = position
    }

    public var description: String { position.map { "\($0): \(message)" } ?? message }
}
