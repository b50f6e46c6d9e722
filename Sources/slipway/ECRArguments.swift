import ArgumentParser
import Foundation
import Publish

extension Slipway {
    /// swift-argument-parser has no options with an optional value, so a bare
    /// `--create-repository` (ECR's defaults) becomes `--create-repository=default` before
    /// parsing; `--create-repository=IMMUTABLE,scan-on-push` passes through unchanged. Same for
    /// `build --pull=BOOL` next to buildx's bare `--pull` (`BuildCommand.normalizingPull`).
    static func main() async {
        await run(arguments: AttestationOptions.normalizing(BuildCommand.normalizingPull(ECRArguments.rewrite(Array(CommandLine.arguments.dropFirst())))))
    }
}

enum ECRArguments {
    static let commands: Set<String> = ["build", "push", "copy"]

    static func rewrite(_ arguments: [String]) -> [String] {
        guard let first = arguments.first, commands.contains(first) else { return arguments }
        var out: [String] = []
        var passthrough = false
        for (i, argument) in arguments.enumerated() {
            if argument == "--" { passthrough = true }
            if !passthrough && argument == "--create-repository" {
                let next = i + 1 < arguments.count ? arguments[i + 1] : nil
                // `--create-repository IMMUTABLE` (a settings word next) is kept as option + value.
                if let next, (try? RegistrySettings.parseRepositorySettings(next)) != nil, !next.isEmpty, !FileManager.default.fileExists(atPath: next) {
                    out.append(argument)
                    continue
                }
                out.append("--create-repository=default")
                continue
            }
            out.append(argument)
        }
        return out
    }
}
