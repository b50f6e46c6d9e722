import AWS
import ArgumentParser
import Foundation
import Publish

/// `slipway ecr list-images`: a repository's images, newest first.
struct ECRListImages: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list-images",
        abstract: "List a repository's images, newest first: digest, tags, size, pushed.",
        usage: "slipway ecr list-images [<options>] <name>",
        discussion: """
        The per-platform manifests of a multi-platform image are listed as untagged
        images (that is how ECR stores them); `ecr delete-images` never deletes those
        while their index stays.

        Examples:
          slipway ecr list-images app --untagged
          slipway ecr list-images app --tag-prefix feature- --format json
        """
    )

    @Argument(help: "The repository name.")
    var name: String

    @Flag(help: "Only images without tags.")
    var untagged = false

    @Option(name: .customLong("tag-prefix"), help: "Only images with a tag starting with this.")
    var tagPrefix: String?

    @OptionGroup var registry: ECRRegistryIDOption
    @OptionGroup var output: ECRFormatOption
    @OptionGroup var aws: AWSOptions

    func validate() throws {
        if untagged && tagPrefix != nil { throw ValidationError("--untagged and --tag-prefix exclude each other") }
    }

    func run() async throws {
        try await Console.run(mode: "plain") { console in
            let images = try await aws.tasks(console: console).listImages(name, untagged: untagged, tagPrefix: tagPrefix, registryID: registry.registryID)
            if output.isJSON {
                struct Out: Encodable { var imageDetails: [ECRImageDetail] }
                return try console.json(Out(imageDetails: images))
            }
            for image in images {
                let pushed = image.imagePushedAt.map { AWSDate.iso8601(Date(timeIntervalSince1970: $0)) } ?? "-"
                let tags = (image.imageTags ?? []).sorted().joined(separator: ",")
                console.result("\(image.imageDigest)\t\(tags.isEmpty ? "<untagged>" : tags)\t\(image.imageSizeInBytes.map(String.init) ?? "-")\t\(pushed)\t\(image.imageManifestMediaType ?? "-")")
            }
        }
    }
}
