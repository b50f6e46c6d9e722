import ArgumentParser
import Foundation
import Publish

/// `slipway ecr delete-images`: by tag, by digest, or untagged images older than an age.
struct ECRDeleteImages: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete-images",
        abstract: "Delete images by tag, by digest, or untagged ones older than an age.",
        usage: "slipway ecr delete-images [<options>] <name>",
        discussion: """
        --tag removes that tag (the image goes with its last tag); --digest removes
        the image with all its tags; --untagged-older-than removes untagged images
        pushed before then. A platform manifest that an index staying in the
        repository references is never deleted, and --untagged-older-than spares
        referrers (signatures, SBOMs) of images that stay: each is listed as kept,
        with the reason. Tags and digests that are already gone are reported, not an
        error: a re-run succeeds.

        Examples:
          slipway ecr delete-images app --untagged-older-than 7d --dry-run
          slipway ecr delete-images app --tag feature-login --tag feature-search
          slipway ecr delete-images app --digest sha256:…
        """
    )

    @Argument(help: "The repository name.")
    var name: String

    @Option(name: .customLong("tag"), help: "A tag to remove (repeatable).")
    var tags: [String] = []

    @Option(name: .customLong("digest"), help: "An image to delete by digest (repeatable).")
    var digests: [String] = []

    @Option(name: .customLong("untagged-older-than"), help: "Delete untagged images pushed longer ago than this (36h, 7d, …).")
    var untaggedOlderThan: String?

    @Flag(name: .customLong("dry-run"), help: "Show what would be deleted and kept; delete nothing.")
    var dryRun = false

    @OptionGroup var registry: ECRRegistryIDOption
    @OptionGroup var output: ECRFormatOption
    @OptionGroup var aws: AWSOptions

    func age() throws -> TimeInterval? {
        try untaggedOlderThan.map { text in try validating { try ECRScanOptions.duration(text, flag: "--untagged-older-than") } }
    }

    func validate() throws {
        if tags.isEmpty && digests.isEmpty && untaggedOlderThan == nil { throw ValidationError("give --tag, --digest or --untagged-older-than") }
        for digest in digests where !digest.hasPrefix("sha256:") || digest.count != 71 {
            throw ValidationError("--digest '\(digest)' is not a sha256:… digest")
        }
        _ = try age()
    }

    func run() async throws {
        try await Console.run(mode: "plain") { console in
            let before = try age().map { Date().addingTimeInterval(-$0) }
            let done = try await aws.tasks(console: console).deleteImages(name, tags: tags, digests: digests, untaggedBefore: before, dryRun: dryRun,
                                                                          registryID: registry.registryID)
            if output.isJSON { try console.json(done) } else {
                let verb = dryRun ? "would delete" : "deleted"
                done.tags.forEach { console.result("\(verb) tag \($0)") }
                done.digests.forEach { console.result("\(verb) image \($0)") }
                done.kept.forEach { console.result("kept \($0.imageDigest): \($0.reason)") }
                done.notFound.forEach { console.result("not found (already gone): \($0)") }
                if done.tags.isEmpty && done.digests.isEmpty { console.result("nothing to delete") }
            }
            if !done.failures.isEmpty {
                for failure in done.failures {
                    console.error("could not delete \(failure.imageId?.imageDigest ?? failure.imageId?.imageTag ?? "?"): \(failure.failureCode ?? "") \(failure.failureReason ?? "")")
                }
                throw ExitCode.failure
            }
        }
    }
}
