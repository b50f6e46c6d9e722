/// Failures of the workflows. `invalidArgument` marks a value the user typed that cannot mean
/// anything (a front end shows usage for it, as it does for its own flag checks); `failed` is
/// everything that went wrong while doing the work.
public enum PublishError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidArgument(String)
    case failed(String)

    public var description: String {
        switch self {
        case .invalidArgument(let message), .failed(let message): return message
        }
    }
}
