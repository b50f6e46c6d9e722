import AWS
import ArgumentParser
import Foundation
import Publish

/// `slipway ecr put-lifecycle-policy`: a lifecycle policy from a file or from presets.
struct ECRPutLifecyclePolicy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "put-lifecycle-policy",
        abstract: "Set a repository's lifecycle policy from a JSON file or presets.",
        usage: "slipway ecr put-lifecycle-policy [<options>] [<options>] <name>",
        discussion: """
        Presets combine: adjacent flags form one rule, in the order given (priority 1
        first; --keep-last without a prefix, for all images, goes
        last as ECR requires):
          --keep-last N --tag-prefix release-    keep the newest N release-*
          --expire-tag-prefix feature- --after-days D
                                                 expire feature-* after D days
          --expire-untagged-after-days D         expire untagged after D days
          --expire-tag-prefix cache- --keep-last N
                                                 keep the newest N cache-*
        A plain prefix becomes tagPrefixList; a value with * ('v*-rc') a
        tagPatternList pattern. The policy is checked before it is sent (unique
        priorities, one tag list per tagged rule, count types and units) and sent only
        when it differs from the repository's.

        Examples:
          slipway ecr put-lifecycle-policy app --keep-last 30 \\
              --tag-prefix release- --expire-tag-prefix feature- \\
              --after-days 14 --expire-untagged-after-days 1 \\
              --expire-tag-prefix cache- --keep-last 5 --dry-run
          slipway ecr put-lifecycle-policy app --policy-file lifecycle.json
        """
    )

    @Argument(help: "The repository name.")
    var name: String

    @Option(name: .customLong("policy-file"), help: "A lifecycle policy JSON document ('-': standard input).")
    var policyFile: String?

    @Option(name: .customLong("keep-last"), help: "Keep the newest N images of the prefix next to it (all images without one).")
    var keepLast: [Int] = []

    @Option(name: .customLong("tag-prefix"), help: "The tag prefix (or * pattern) of the --keep-last or --after-days next to it.")
    var tagPrefix: [String] = []

    @Option(name: .customLong("expire-tag-prefix"), help: "Same as --tag-prefix, reads better with --after-days.")
    var expireTagPrefix: [String] = []

    @Option(name: .customLong("after-days"), help: "Expire images of the prefix next to it this many days after they were pushed.")
    var afterDays: [Int] = []

    @Option(name: .customLong("expire-untagged-after-days"), help: "Expire untagged images this many days after they were pushed.")
    var expireUntaggedAfterDays: [Int] = []

    @Flag(name: .customLong("dry-run"), help: "Print the policy and send nothing (no AWS credentials needed).")
    var dryRun = false

    @OptionGroup var registry: ECRRegistryIDOption
    @OptionGroup var output: ECRFormatOption
    @OptionGroup var aws: AWSOptions

    var hasPresets: Bool { !(keepLast.isEmpty && tagPrefix.isEmpty && expireTagPrefix.isEmpty && afterDays.isEmpty && expireUntaggedAfterDays.isEmpty) }

    func validate() throws {
        if policyFile != nil && hasPresets { throw ValidationError("use --policy-file or the preset flags, not both") }
        if policyFile == nil && !hasPresets { throw ValidationError("give --policy-file FILE or presets such as --keep-last 30 --tag-prefix release-") }
        if hasPresets { _ = try presetPolicy() }
    }

    /// The presets in command-line order (the parser keeps each flag's values, not their interleaving).
    func presetPolicy() throws -> ECRLifecyclePolicy {
        let arguments = Array(CommandLine.arguments.dropFirst())
        do {
            guard let policy = try ECRLifecyclePresets.policy(from: arguments) else { throw ValidationError("no preset flags") }
            return policy
        } catch let error as AWSError {
            throw ValidationError(error.description)
        }
    }

    /// The policy text to send, checked.
    func policyText() throws -> String {
        guard let policyFile else { return try presetPolicy().json() }
        let data: Data
        if policyFile == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard let read = FileManager.default.contents(atPath: policyFile) else { throw PublishError.failed("cannot read --policy-file \(policyFile)") }
            data = read
        }
        guard data.count <= 30_720 else { throw PublishError.failed("\(policyFile): ECR takes lifecycle policies of at most 30720 characters") }
        let text = String(decoding: data, as: UTF8.self)
        _ = try ECRLifecyclePolicy.parse(text, source: policyFile)
        return text
    }

    func run() async throws {
        try await Console.run(mode: "plain") { console in
            let text = try policyText()
            var changed: Bool?
            if !dryRun {
                changed = try await aws.tasks(console: console).putLifecyclePolicy(name, text: text, registryID: registry.registryID).changed
            }
            if output.isJSON {
                var out: [String: Any] = ["repositoryName": name, "dryRun": dryRun,
                                          "lifecyclePolicy": (try? JSONSerialization.jsonObject(with: Data(text.utf8))) ?? text]
                if let changed { out["changed"] = changed }
                let data = try JSONSerialization.data(withJSONObject: out, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
                return console.result(String(decoding: data, as: UTF8.self))
            }
            if dryRun {
                let pretty = (try? JSONSerialization.jsonObject(with: Data(text.utf8)))
                    .flatMap { try? JSONSerialization.data(withJSONObject: $0, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]) }
                    .map { String(decoding: $0, as: UTF8.self) } ?? text
                return console.result(pretty)
            }
            console.result(changed == true ? "\(name): lifecycle policy set" : "\(name): lifecycle policy already as given: unchanged")
        }
    }
}
