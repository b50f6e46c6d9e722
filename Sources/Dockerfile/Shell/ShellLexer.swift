/// BuildKit's Dockerfile word expansion (`frontend/dockerfile/shell`, `Lex`), reimplemented.
///
/// Dockerfile instructions such as FROM, COPY, ENV, WORKDIR... expand `$VAR`/`${VAR...}`
/// references and remove quotes *in the builder*, with a deliberately small, bash-like
/// language. Users depend on its exact edge cases (unset variables expand to nothing,
/// `\` escapes outside quotes, `${VAR:+alt}`, glob trimming...), so this follows BuildKit
/// rule for rule:
///
/// * `'...'` is literal; `"..."` expands `$` and lets the escape token escape only `"`,
///   `$` and itself; elsewhere the escape token escapes any character and a trailing lone
///   escape token is dropped.
/// * `$name` / `${name}`: a name is letters/digits/`_` (not starting with a digit), or a
///   run of digits, or one of `@ * # ? - $ !`; `$` followed by anything else is literal.
/// * `${name-word}` `${name:-word}` `${name+word}` `${name:+word}` `${name?msg}`
///   `${name:?msg}`, `${name#pat}` `${name##pat}` `${name%pat}` `${name%%pat}`,
///   `${name/pat/repl}` `${name//pat/repl}` with `*`/`?`/`\` glob patterns.
/// * Everything else in `${...}` (`:=`, `=`, `:offset`, `${#name}`, ...) is an error.
///
/// The lexer is a value type holding only options; every call uses fresh state, so it is
/// `Sendable` and can be shared freely (BuildKit's `Lex` is not safe for concurrent use).
public struct ShellLexer: Sendable {
    /// The Dockerfile escape character (`\` by default, or `` ` `` via `# escape=`).
    public let escapeToken: Character
    /// Keep quote characters in the result (BuildKit `RawQuotes`), e.g. for heredoc names.
    public var rawQuotes = false
    /// Keep escape characters in the result (BuildKit `RawEscapes`), e.g. for the parser's
    /// heredoc detection, which must see words as written.
    public var rawEscapes = false
    /// Treat quotes as ordinary characters (BuildKit `SkipProcessQuotes`).
    public var skipProcessQuotes = false
    /// Leave references to unset variables verbatim instead of expanding them to nothing
    /// (BuildKit `SkipUnsetEnv`), for expansions that a later stage completes.
    public var skipUnsetEnv = false
    /// Reproduce BuildKit's word buffer shared between nesting levels in the word list
    /// (see ``processWords(_:env:)``). Only heredoc detection turns this on: which words of a
    /// line open a heredoc must come out exactly as BuildKit's parser decides.
    var sharedWordBuffer = false

    let escapeScalar: Unicode.Scalar

    public init(escapeToken: Character = "\\") {
        self.escapeToken = escapeToken
        escapeScalar = escapeToken.unicodeScalars.first!
    }

    /// Expands `word` against `env` (unset names are absent keys; `""` is set-but-empty)
    /// and returns one string: quotes removed, whitespace kept, no word splitting.
    /// - Throws: ``ShellExpansionError`` for syntax errors, unterminated quotes,
    ///   unsupported modifiers and `${VAR?msg}` failures.
    public func processWord(_ word: String, env: [String: String]) throws -> String {
        try processWordWithMatches(word, env: env).result
    }

    /// Like ``processWord(_:env:)``, also reporting which variable names were looked up
    /// and found (`matched`) or not found (`unmatched`) — used for lint-style diagnostics
    /// about undefined variables.
    public func processWordWithMatches(_ word: String, env: [String: String]) throws -> (result: String, matched: Set<String>, unmatched: Set<String>) {
        var state = ShellWordState(lexer: self, word: word, env: env)
        let (result, _) = try state.process()
        return (result, state.matched, state.unmatched)
    }

    /// Expands `word`, then splits it into words on whitespace outside quotes: text that
    /// came from an unquoted expansion is split, quoted text is not, and empty quotes alone
    /// do not make a word (`EXPOSE`, heredoc detection).
    ///
    /// Deliberate divergence: BuildKit ≥ v0.15 shares one word buffer between nesting
    /// levels, so a word's text before a `${name:-...}`-style expansion is lost in the word
    /// list (`a${X:-b}` splits to `["b"]` although the string result is `ab`). That is an
    /// upstream bug no corpus case exercises; this implementation keeps the text (`["ab"]`)
    /// unless `sharedWordBuffer` is set.
    public func processWords(_ word: String, env: [String: String]) throws -> [String] {
        var state = ShellWordState(lexer: self, word: word, env: env)
        return try state.process().words
    }

    /// The words of `text` with no variable set, and failures carrying the bare message
    /// (no `failed to process` prefix): heredoc detection quotes the text its own way.
    func wordsWithoutEnvironment(_ text: String) throws -> [String] {
        var state = ShellWordState(lexer: self, word: text, env: [:])
        return try state.processStopOn(nil, rawEscapes: rawEscapes).words
    }
}

/// A word-expansion failure; `message` reads like BuildKit's
/// (`failed to process "${X?}": X: is not allowed to be unset`).
public struct ShellExpansionError: Error, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
