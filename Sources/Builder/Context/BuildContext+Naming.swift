/// How messages name a context: the main one is "the build context", a named one
/// (`--build-context NAME=DIR`) is "build context 'NAME'", so an error about a file says which
/// directory it is in.
extension BuildContext {
    /// The name `Contexts` gives the main context.
    static let mainName = "context"

    var phrase: String { name == BuildContext.mainName ? "the build context" : "build context '\(name)'" }
}
