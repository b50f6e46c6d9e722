/// A build failure a user can act on: where (`Dockerfile:LINE`) and what to do.
public struct BuildError: Error, Sendable, CustomStringConvertible {
    public var file: String?
    public var line: Int?
    public var message: String

    public init(_ message: String, file: String? = nil, line: Int? = nil) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String {
        switch (file, line) {
        case let (file?, line?) where line > 0: return "\(file):\(line): \(message)"
        case let (file?, _): return "\(file): \(message)"
        default: return message
        }
    }
}
