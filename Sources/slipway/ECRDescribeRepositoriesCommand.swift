import AWS
import ArgumentParser
import Foundation
import Publish

/// `slipway ecr describe-repositories`: every control of each repository at a glance.
struct ECRDescribeRepositories: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "describe-repositories",
        abstract: "Show repositories: tag mutability, scanning, encryption, lifecycle.",
        usage: "slipway ecr describe-repositories [<options>] [<names> ...]",
        discussion: """
        Without names: every repository of the registry. Scanning shows the
        repository's scan on push and what the registry's scanning rules (basic or
        enhanced) give it.

        Examples:
          slipway ecr describe-repositories prod/app
          slipway ecr describe-repositories --format json
        """
    )

    @Argument(help: "Repository names (default: all).")
    var names: [String] = []

    @OptionGroup var registry: ECRRegistryIDOption
    @OptionGroup var output: ECRFormatOption
    @OptionGroup var aws: AWSOptions

    func run() async throws {
        try await Console.run(mode: "plain") { console in
            let reports = try await aws.tasks(console: console).describeRepositories(names, registryID: registry.registryID)
            if output.isJSON {
                struct Out: Encodable { var repositories: [ECRTasks.RepositoryReport] }
                return try console.json(Out(repositories: reports))
            }
            for r in reports {
                let exclusions = r.imageTagMutabilityExclusionFilters
                let mutability = exclusions.isEmpty ? r.imageTagMutability
                    : "\(r.imageTagMutability) (\(r.imageTagMutability.hasPrefix("IMMUTABLE") ? "mutable" : "immutable"): \(exclusions.joined(separator: ", ")))"
                var scanning = r.scanOnPush ? "scan on push" : "no scan on push"
                if let type = r.registryScanType {
                    scanning += "; registry \(type)\(r.registryScanFrequency.map { " \($0)" } ?? ": no rule for this repository")"
                }
                console.result(r.repositoryName)
                console.result("  uri:        \(r.repositoryUri ?? "-")")
                console.result("  mutability: \(mutability)")
                console.result("  scanning:   \(scanning)")
                console.result("  encryption: \(r.encryptionType)\(r.kmsKey.map { " " + $0 } ?? "")")
                console.result("  lifecycle:  \(r.lifecyclePolicyRules.map { "policy with \($0) rule\($0 == 1 ? "" : "s")" } ?? "no policy")")
            }
        }
    }
}
