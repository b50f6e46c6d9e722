import AWS
import ArgumentParser
import Foundation
import Publish

/// `slipway ecr put-image-tag-mutability`: tag mutability, with exclusions, of an existing repository.
struct ECRPutImageTagMutability: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "put-image-tag-mutability",
        abstract: "Make a repository's tags immutable or mutable, with exceptions.",
        usage: "slipway ecr put-image-tag-mutability [<options>] <name>",
        discussion: """
        Idempotent: nothing is sent when the repository already has these settings.
        Exclusion filters are ECR's WILDCARD filters (* matches anything; at most 5).

        Examples:
          slipway ecr put-image-tag-mutability app --image-tag-mutability IMMUTABLE
          slipway ecr put-image-tag-mutability app \\
              --mutable-tag latest --mutable-tag 'dev-*'
              # IMMUTABLE_WITH_EXCLUSION: releases immutable, latest and dev-* movable
          slipway ecr put-image-tag-mutability app --immutable-tag 'v*'
              # MUTABLE_WITH_EXCLUSION
        """
    )

    @Argument(help: "The repository name.")
    var name: String

    @Option(name: .customLong("image-tag-mutability"), help: "MUTABLE, IMMUTABLE, IMMUTABLE_WITH_EXCLUSION or MUTABLE_WITH_EXCLUSION (implied by --mutable-tag / --immutable-tag).")
    var imageTagMutability: String?

    @OptionGroup var exclusions: TagExclusionOptions
    @OptionGroup var registry: ECRRegistryIDOption
    @OptionGroup var output: ECRFormatOption
    @OptionGroup var aws: AWSOptions

    func settings() throws -> ECRRepositorySettings {
        try validating {
            try ECRTasks.repositorySettings(mutability: imageTagMutability, mutableTags: exclusions.mutableTags, immutableTags: exclusions.immutableTags,
                                            scanOnPush: false, encryption: nil, kmsKey: nil, tags: [])
        }
    }

    func validate() throws {
        if try settings().mutability == nil { throw ValidationError("give --image-tag-mutability, --mutable-tag or --immutable-tag") }
    }

    func run() async throws {
        try await Console.run(mode: "plain") { console in
            let outcome = try await aws.tasks(console: console).putImageTagMutability(name, settings: try settings(), registryID: registry.registryID)
            if output.isJSON { return try console.json(outcome) }
            console.result(outcome.changed ? "\(name): image tag mutability \(outcome.before ?? "-") -> \(outcome.after)"
                                           : "\(name): image tag mutability already \(outcome.after): unchanged")
        }
    }
}
