import AWS
import ArgumentParser
import Foundation
import Publish

/// AWS settings shared by the `ecr` subcommands.
struct AWSOptions: ParsableArguments {
    @Option(help: "AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, then the profile's region).")
    var region: String?

    @Option(help: "Named profile of ~/.aws/config and ~/.aws/credentials (default: AWS_PROFILE, else the 'default' profile).")
    var profile: String?

    @Flag(help: "Log every HTTP request and response (secrets, tokens and signatures are redacted).")
    var debug = false

    func tasks(console: Console) throws -> ECRTasks {
        var log: (@Sendable (String) -> Void)?
        if debug { log = { line in console.debug(line) } }
        return try ECRTasks(region: region, profile: profile, debugLog: log)
    }
}

/// `slipway ecr …`: the `aws ecr` steps of a release job, without the AWS CLI.
struct ECRCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ecr",
        abstract: "Amazon ECR: logins, repositories, images and their controls.",
        discussion: """
        Credentials come from the AWS chain, in the SDKs' order:
          1. AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY [, AWS_SESSION_TOKEN]
          2. the profile (--profile, AWS_PROFILE): static keys, role_arn with
             source_profile or credential_source, credential_process,
             web_identity_token_file
          3. AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN (GitHub OIDC, EKS IRSA)
          4. ECS container credentials
          5. EC2 instance metadata (IMDSv2)
        Endpoints: AWS_ENDPOINT_URL_ECR, AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL;
        AWS_USE_FIPS_ENDPOINT, AWS_USE_DUALSTACK_ENDPOINT.

        build --push and push log in to ECR hosts (ACCOUNT.dkr.ecr.REGION.
        amazonaws.com, public.ecr.aws) themselves: no `login` needed.

        Examples:
          slipway ecr create-repository app --image-tag-mutability IMMUTABLE \\
              --scan-on-push --if-not-exists
          ECR_REGISTRY=$(slipway ecr registry --region eu-west-1)
          slipway build --platform linux/amd64,linux/arm64 \\
              -t $ECR_REGISTRY/app:1.0 --push .
          slipway ecr describe-images app --tag 1.0
          slipway ecr get-login-password | skopeo login -u AWS \\
              --password-stdin $ECR_REGISTRY

        Repository controls (each idempotent, each with --format json):
          slipway ecr create-repository app --image-tag-mutability IMMUTABLE \\
              --mutable-tag latest --if-not-exists
          slipway ecr put-lifecycle-policy app --keep-last 30 --tag-prefix release- \\
              --expire-untagged-after-days 1 --dry-run
          slipway build -t $ECR_REGISTRY/app:1.0 --push --scan-gate HIGH .
          slipway ecr scan-findings app --tag 1.0 --wait --fail-on HIGH
          slipway ecr delete-images app --untagged-older-than 7d
          slipway ecr describe-repositories app
        """,
        subcommands: [ECRGetLoginPassword.self, ECRRegistryCommand.self, ECRCreateRepository.self, ECRDescribeImages.self] + ECRCommand.controls
            + [ECRSetRepositoryPolicy.self, ECRGetRepositoryPolicy.self]
    )
}

struct ECRGetLoginPassword: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get-login-password",
        abstract: "Print a registry password (valid 12 hours) for other tools.",
        usage: "slipway ecr get-login-password [<options>]",
        discussion: """
        Examples:
          slipway ecr get-login-password --region us-east-1 | skopeo login \\
              -u AWS --password-stdin 123456789012.dkr.ecr.us-east-1.amazonaws.com
          slipway ecr get-login-password --public   # public.ecr.aws (us-east-1)
        """
    )

    @OptionGroup var aws: AWSOptions

    @Flag(help: "A password for ECR Public (public.ecr.aws) instead.")
    var `public` = false

    func run() async throws {
        try await Console.run(mode: "plain") { console in
            console.result(try await aws.tasks(console: console).loginPassword(public: `public`))
        }
    }
}

struct ECRRegistryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "registry",
        abstract: "Print the caller's registry, ACCOUNT.dkr.ecr.REGION.amazonaws.com.",
        discussion: """
        The account comes from STS GetCallerIdentity. AWS_USE_FIPS_ENDPOINT
        and AWS_USE_DUALSTACK_ENDPOINT select the FIPS and dual-stack names.

        Examples:
          ECR_REGISTRY=$(slipway ecr registry --region eu-west-1)
          slipway build -t "$(slipway ecr registry)/app:1.0" --push .
        """
    )

    @OptionGroup var aws: AWSOptions

    func run() async throws {
        try await Console.run(mode: "plain") { console in
            console.result(try await aws.tasks(console: console).registryHost())
        }
    }
}

struct ECRCreateRepository: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create-repository",
        abstract: "Create an ECR repository and print its URI.",
        usage: "slipway ecr create-repository [<options>] <name>",
        discussion: """
        Examples:
          slipway ecr create-repository team/app \\
              --image-tag-mutability IMMUTABLE --scan-on-push
          slipway ecr create-repository app --encryption KMS \\
              --kms-key arn:aws:kms:eu-west-1:123456789012:key/… \\
              --tag team=core --if-not-exists
          slipway ecr create-repository app --image-tag-mutability IMMUTABLE \\
              --scan-on-push --if-not-exists --update   # fix an existing one
          slipway ecr create-repository app \\
              --image-tag-mutability IMMUTABLE_WITH_EXCLUSION \\
              --mutable-tag latest --mutable-tag 'dev-*' --if-not-exists

        With --if-not-exists, an existing repository must have the requested
        settings (those given; others are not compared): a difference is
        listed and fails, unless --update applies it. Encryption is fixed when
        a repository is created.
        """
    )

    @Argument(help: "The repository name, e.g. team/app.")
    var name: String

    @Option(name: .customLong("image-tag-mutability"), help: "MUTABLE (default), IMMUTABLE, IMMUTABLE_WITH_EXCLUSION or MUTABLE_WITH_EXCLUSION (implied by --mutable-tag / --immutable-tag).")
    var imageTagMutability: String?

    @OptionGroup var exclusions: TagExclusionOptions

    @Flag(name: .customLong("scan-on-push"), help: "Scan images for vulnerabilities when they are pushed.")
    var scanOnPush = false

    @Option(help: "AES256 (default) or KMS.")
    var encryption: String?

    @Option(name: .customLong("kms-key"), help: "The KMS key ARN or id for --encryption KMS (default: the AWS managed key).")
    var kmsKey: String?

    @Option(name: .customLong("tag"), help: "A resource tag KEY=VALUE (repeatable).")
    var tags: [String] = []

    @Flag(name: .customLong("if-not-exists"), help: "Succeed (printing the URI) when the repository already exists with the requested settings; other settings fail (see --update).")
    var ifNotExists = false

    @Flag(help: "With --if-not-exists: apply the requested tag mutability and scan-on-push to an existing repository (encryption cannot be changed).")
    var update = false

    @Option(name: .customLong("registry-id"), help: "The account that owns the registry (default: the caller's).")
    var registryID: String?

    @OptionGroup var output: ECRFormatOption

    @OptionGroup var aws: AWSOptions

    func settings() throws -> ECRRepositorySettings {
        try validating {
            try ECRTasks.repositorySettings(mutability: imageTagMutability, mutableTags: exclusions.mutableTags, immutableTags: exclusions.immutableTags, scanOnPush: scanOnPush, encryption: encryption, kmsKey: kmsKey, tags: tags)
        }
    }

    func validate() throws {
        _ = try settings()
        if update && !ifNotExists { throw ValidationError("--update needs --if-not-exists") }
    }

    func run() async throws {
        try await Console.run(mode: "plain") { console in
            let created = try await aws.tasks(console: console).createRepository(name, settings: try settings(), registryID: registryID,
                                                                                  ifNotExists: ifNotExists, update: update)
            if output.isJSON { return try console.json(CreateRepositoryOutput(created)) }
            if created.existed { console.step("repository \(name) already exists") }
            for change in created.updated { console.step("updated repository \(name): \(change.setting == .mutability ? "image tag mutability" : "scan on push") \(change.existing) -> \(change.requested)") }
            console.result(created.uri)
        }
    }
}

struct ECRDescribeImages: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "describe-images",
        abstract: "List an ECR repository's images, or print one image's digest.",
        usage: "slipway ecr describe-images [<options>] <name>",
        discussion: """
        Without --format json: with --tag/--digest one line, the digest (for
        pull-by-digest); otherwise one line per image: DIGEST TAGS SIZE PUSHED-AT.

        Examples:
          DIGEST=$(slipway ecr describe-images app --tag 1.0)
          slipway copy $ECR_REGISTRY/app@$DIGEST $PROD_REGISTRY/app:1.0
          slipway ecr describe-images app --format json
        """
    )

    @Argument(help: "The repository name.")
    var name: String

    @Option(help: "Only the image with this tag.")
    var tag: String?

    @Option(help: "Only the image with this digest (sha256:…).")
    var digest: String?

    @Option(help: "Output: text or json (the API's imageDetails).")
    var format: String = "text"

    @Option(name: .customLong("registry-id"), help: "The account that owns the registry (default: the caller's).")
    var registryID: String?

    @OptionGroup var aws: AWSOptions

    func validate() throws {
        if tag != nil && digest != nil { throw ValidationError("use --tag or --digest, not both") }
        guard ["text", "json"].contains(format) else { throw ValidationError("--format must be text or json") }
    }

    func run() async throws {
        try await Console.run(mode: "plain") { console in
            let images = try await aws.tasks(console: console).describeImages(name, tag: tag, digest: digest, registryID: registryID)
            if format == "json" {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                struct Out: Encodable { var imageDetails: [ECRImageDetail] }
                console.result(String(decoding: try encoder.encode(Out(imageDetails: images)), as: UTF8.self))
            } else if tag != nil || digest != nil {
                guard let image = images.first else { throw AWSError.invalidResponse(service: "ecr", operation: "DescribeImages", detail: "no image") }
                console.result(image.imageDigest)
            } else {
                for image in images {
                    let pushed = image.imagePushedAt.map { AWSDate.iso8601(Date(timeIntervalSince1970: $0)) } ?? "-"
                    let tags = (image.imageTags ?? []).joined(separator: ",")
                    console.result("\(image.imageDigest)\t\(tags.isEmpty ? "<untagged>" : tags)\t\(image.imageSizeInBytes.map(String.init) ?? "-")\t\(pushed)")
                }
            }
        }
    }
}
