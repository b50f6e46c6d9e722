import Dockerfile

/// `COPY --from` names a stage, context or image literally, as in BuildKit: a word that
/// shell processing would change (`$NAME`, `${NAME}`, quotes, escapes) is refused, because
/// which stages a build needs must be known before any stage runs. BuildKit checks every
/// stage of the Dockerfile, used or not, and ONBUILD triggers when they are loaded; so does
/// slipway, with BuildKit's words and the instruction's line.
enum CopyFromWord {
    static let refusal = "variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround"

    /// Throws unless `raw` is the same word after expansion with an empty environment.
    static func check(_ raw: String, escapeToken: Character, file: String, line: Int) throws {
        let expanded: String
        do { expanded = try ShellLexer(escapeToken: escapeToken).processWord(raw, env: [:]) } catch {
            throw BuildError("COPY --from=\(raw): \(error)", file: file, line: line)
        }
        guard expanded == raw else { throw BuildError(refusal, file: file, line: line) }
    }

    /// Checks every `COPY --from` of every stage.
    static func checkAll(_ plan: DockerfilePlan, file: String) throws {
        for stage in plan.stages {
            for instruction in stage.instructions {
                guard case .copy(let command) = instruction.kind, let raw = command.from else { continue }
                try check(raw, escapeToken: plan.escapeToken, file: file, line: instruction.line)
            }
        }
    }
}
