import Dockerfile

/// ONBUILD triggers, run as BuildKit runs them: when a stage starts from an image whose
/// config has triggers, or from a stage of this Dockerfile that declares them, the triggers
/// run first in the new stage, and its config no longer lists them. Triggers a base image
/// brings are reported at the FROM line (BuildKit's location for them); triggers of a local
/// stage at their own ONBUILD line, where the fix belongs.
enum OnBuildTriggers {
    /// The triggers a stage declares, each parsed at its ONBUILD line.
    static func declared(by stage: Stage, file: String, escapeToken: Character = "\\") throws -> [Instruction] {
        try stage.instructions.flatMap { instruction -> [Instruction] in
            guard case .onbuild(let trigger) = instruction.kind else { return [] }
            return try parse([trigger], line: instruction.line, file: file, escapeToken: escapeToken)
        }
    }

    /// Trigger expressions (from an image config), each parsed as one instruction at `line`;
    /// a `COPY --from` word must be literal, as in the Dockerfile itself (`CopyFromWord`).
    static func parse(_ triggers: [String], line: Int, file: String, escapeToken: Character = "\\") throws -> [Instruction] {
        try triggers.map { trigger in
            do {
                let tree = try DockerfileParser.parse(trigger)
                guard tree.nodes.count == 1, let node = tree.nodes.first else {
                    throw BuildError("onbuild trigger should be a single expression: '\(trigger)'", file: file, line: line)
                }
                var instruction = try InstructionParser.instruction(from: node)
                if case .from = instruction.kind {
                    throw BuildError("FROM isn't allowed as an ONBUILD trigger ('\(trigger)')", file: file, line: line)
                }
                instruction.line = line
                if case .copy(let command) = instruction.kind, let from = command.from {
                    try CopyFromWord.check(from, escapeToken: escapeToken, file: file, line: line)
                }
                return instruction
            } catch let error as SyntaxError {
                throw BuildError("ONBUILD \(trigger): \(error.message)", file: file, line: line)
            } catch let error as InstructionError {
                throw BuildError("ONBUILD \(trigger): \(error.message)", file: file, line: line)
            }
        }
    }

    /// The literal `COPY --from` names of triggers: stages and images the stage now needs.
    static func copySources(_ triggers: [Instruction]) -> [(from: String, line: Int)] {
        triggers.compactMap { instruction in
            guard case .copy(let command) = instruction.kind, let from = command.from else { return nil }
            return (from, instruction.line)
        }
    }
}
