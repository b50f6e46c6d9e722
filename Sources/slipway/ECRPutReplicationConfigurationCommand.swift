import AWS
import ArgumentParser
import Foundation
import Publish

/// `slipway ecr put-replication-configuration`: cross-region (and cross-account) replication.
struct ECRPutReplicationConfiguration: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "put-replication-configuration",
        abstract: "Replicate the registry's images to other regions or accounts.",
        usage: "slipway ecr put-replication-configuration [<options>]",
        discussion: """
        Replaces the registry's replication rules with one rule (ECR keeps one
        configuration per registry), sent only when it differs. A destination in
        another account also needs that registry's permission policy to allow
        ecr:ReplicateImage.

        Examples:
          slipway ecr put-replication-configuration --to-region eu-central-1
          slipway ecr put-replication-configuration --to-region us-west-2 \\
              --to-account 210987654321 --repository-prefix prod/
        """
    )

    @Option(name: .customLong("to-region"), help: "A destination region (repeatable).")
    var regions: [String] = []

    @Option(name: .customLong("to-account"), help: "The destination account (default: this registry's).")
    var account: String?

    @Option(name: .customLong("repository-prefix"), help: "Replicate only repositories starting with this (repeatable; default: all).")
    var prefixes: [String] = []

    @OptionGroup var output: ECRFormatOption
    @OptionGroup var aws: AWSOptions

    func validate() throws {
        if regions.isEmpty { throw ValidationError("give at least one --to-region") }
    }

    func run() async throws {
        try await Console.run(mode: "plain") { console in
            let done = try await aws.tasks(console: console).putReplication(regions: regions, account: account, prefixes: prefixes)
            if output.isJSON {
                struct Out: Encodable { var changed: Bool; var before: ECRReplicationConfiguration; var replicationConfiguration: ECRReplicationConfiguration }
                return try console.json(Out(changed: done.changed, before: done.before, replicationConfiguration: done.after))
            }
            let text = done.after.rules.flatMap(\.destinations).map { "\($0.region) (account \($0.registryId))" }.joined(separator: ", ")
            let filters = prefixes.isEmpty ? "every repository" : "repositories starting with \(prefixes.joined(separator: ", "))"
            console.result(done.changed ? "replication set: \(filters) to \(text)" : "replication already \(filters) to \(text): unchanged")
        }
    }
}
