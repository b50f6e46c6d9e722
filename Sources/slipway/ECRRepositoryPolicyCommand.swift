import ArgumentParser
import Foundation
import Publish

/// `slipway ecr set-repository-policy`: who may pull from and push to a repository, as a
/// repository policy (cross-account pull for a prod account, push for a build role).
struct ECRSetRepositoryPolicy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set-repository-policy",
        abstract: "Grant pull or push rights on an ECR repository (SetRepositoryPolicy).",
        usage: "slipway ecr set-repository-policy [<options>] <name>",
        discussion: """
        Writes two statements: SlipwayPull (ecr:BatchGetImage, ecr:DescribeImages,
        ecr:GetDownloadUrlForLayer) for each --pull-principal, and SlipwayPush (the
        upload actions plus ecr:BatchGetImage, ecr:DescribeImages and
        ecr:DescribeRepositories, what a slipway push uses) for each
        --push-principal: the repository side of docs/iam/. The two statements
        are replaced each time (a list not given drops its statement); statements
        with another Sid are kept. Nothing is written when the repository already
        has that policy. A principal is a 12-digit account id (its root) or an
        IAM ARN (…:root, …:role/NAME, …:user/NAME).

        Examples:
          slipway ecr set-repository-policy app \\
              --pull-principal 444455556666 \\
              --push-principal arn:aws:iam::111122223333:role/ci-build
          slipway ecr set-repository-policy app --pull-principal 444455556666 --dry-run
        """
    )

    @Argument(help: "The repository name.")
    var name: String

    @Option(name: .customLong("pull-principal"), parsing: .upToNextOption, help: "Account id or IAM ARN allowed to pull (repeatable).")
    var pullPrincipals: [String] = []

    @Option(name: .customLong("push-principal"), parsing: .upToNextOption, help: "Account id or IAM ARN allowed to push (repeatable).")
    var pushPrincipals: [String] = []

    @Flag(name: .customLong("dry-run"), help: "Print the policy that would be written; change nothing.")
    var dryRun = false

    @Option(help: "Output: text (the policy on stdout) or json.")
    var format: String = "text"

    @Option(name: .customLong("registry-id"), help: "The account that owns the registry (default: the caller's).")
    var registryID: String?

    @OptionGroup var aws: AWSOptions

    func validate() throws {
        guard ["text", "json"].contains(format) else { throw ValidationError("--format must be text or json") }
        guard !pullPrincipals.isEmpty || !pushPrincipals.isEmpty else { throw ValidationError("name at least one --pull-principal or --push-principal") }
        for principal in pullPrincipals + pushPrincipals { _ = try validating { try ECRRepositoryPolicy.principal(principal) } }
    }

    func run() async throws {
        try await Console.run(mode: "plain") { console in
            let outcome = try await aws.tasks(console: console).setRepositoryPolicy(name, pullPrincipals: pullPrincipals, pushPrincipals: pushPrincipals,
                                                                                 registryID: registryID, dryRun: dryRun)
            if !outcome.kept.isEmpty { console.step("kept statements not written by slipway: \(outcome.kept.joined(separator: ", "))") }
            let state = !outcome.changed ? "unchanged (the repository already has this policy)" : dryRun ? "would be written (--dry-run)" : "written"
            console.step("repository policy of \(name): \(state)")
            let policy = try JSONSerialization.jsonObject(with: Data(outcome.policyText.utf8))
            if format == "json" {
                var out: [String: Any] = ["repositoryName": name, "changed": outcome.changed, "dryRun": dryRun, "policy": policy,
                                          "written": outcome.changed && !dryRun]
                if let registryID { out["registryId"] = registryID }
                let data = try JSONSerialization.data(withJSONObject: out, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
                console.result(String(decoding: data, as: UTF8.self))
            } else {
                let data = try JSONSerialization.data(withJSONObject: policy, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
                console.result(String(decoding: data, as: UTF8.self))
            }
        }
    }
}

/// `slipway ecr get-repository-policy`: the repository's policy as ECR stores it.
struct ECRGetRepositoryPolicy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get-repository-policy",
        abstract: "Print an ECR repository's policy (GetRepositoryPolicy).",
        usage: "slipway ecr get-repository-policy [<options>] <name>",
        discussion: """
        Exits 1 when the repository has no policy.


        Examples:
          slipway ecr get-repository-policy app
          slipway ecr get-repository-policy app --format json
        """
    )

    @Argument(help: "The repository name.")
    var name: String

    @Option(help: "Output: text (the policy) or json.")
    var format: String = "text"

    @Option(name: .customLong("registry-id"), help: "The account that owns the registry (default: the caller's).")
    var registryID: String?

    @OptionGroup var aws: AWSOptions

    func validate() throws {
        guard ["text", "json"].contains(format) else { throw ValidationError("--format must be text or json") }
    }

    func run() async throws {
        try await Console.run(mode: "plain") { console in
            guard let text = try await aws.tasks(console: console).repositoryPolicy(name, registryID: registryID) else {
                throw PublishError.failed("repository \(name) has no repository policy")
            }
            let policy = try JSONSerialization.jsonObject(with: Data(text.utf8))
            let shown: Any = format == "json" ? ["repositoryName": name, "policy": policy] : policy
            let data = try JSONSerialization.data(withJSONObject: shown, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            console.result(String(decoding: data, as: UTF8.self))
        }
    }
}
