import ArgumentParser
import Foundation
import Publish

/// `slipway ecr get-lifecycle-policy`: a repository's lifecycle policy.
struct ECRGetLifecyclePolicy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get-lifecycle-policy",
        abstract: "Print a repository's lifecycle policy.",
        usage: "slipway ecr get-lifecycle-policy [<options>] <name>",
        discussion: """
        Text: the policy document; json: GetLifecyclePolicy's answer with the policy
        as an object. A repository without a policy fails (exit status 1) saying so.

        Examples:
          slipway ecr get-lifecycle-policy app > lifecycle.json
          slipway ecr get-lifecycle-policy app --format json
        """
    )

    @Argument(help: "The repository name.")
    var name: String

    @OptionGroup var registry: ECRRegistryIDOption
    @OptionGroup var output: ECRFormatOption
    @OptionGroup var aws: AWSOptions

    func run() async throws {
        try await Console.run(mode: "plain") { console in
            guard let record = try await aws.tasks(console: console).getLifecyclePolicy(name, registryID: registry.registryID) else {
                throw PublishError.failed("repository \(name) has no lifecycle policy (LifecyclePolicyNotFoundException)")
            }
            let policy = try? JSONSerialization.jsonObject(with: Data(record.lifecyclePolicyText.utf8))
            var out: Any = policy ?? record.lifecyclePolicyText
            if output.isJSON {
                var answer: [String: Any] = ["repositoryName": record.repositoryName, "lifecyclePolicy": out]
                if let id = record.registryId { answer["registryId"] = id }
                if let at = record.lastEvaluatedAt { answer["lastEvaluatedAt"] = at }
                out = answer
            }
            guard JSONSerialization.isValidJSONObject(out) else { return console.result(record.lifecyclePolicyText) }
            let data = try JSONSerialization.data(withJSONObject: out, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            console.result(String(decoding: data, as: UTF8.self))
        }
    }
}
