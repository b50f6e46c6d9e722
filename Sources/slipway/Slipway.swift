import ArgumentParser
import HTTP

/// The `slipway` command: a daemonless replacement for `docker buildx build --push` and the
/// `aws ecr` steps around it.
@main
struct Slipway: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slipway",
        abstract: "Build multi-platform OCI images without a daemon, and publish them.",
        discussion: """
        Errors start with "error: ", warnings with "warning: "; results go to
        stdout, progress to stderr.

        Examples:
          slipway build --platform linux/amd64,linux/arm64 \\
              --output type=oci,dest=image.tar .
          slipway build -t registry.example.com/app:1.0 \\
              --output type=oci,dest=out,tar=false .
          slipway build --platform linux/amd64,linux/arm64 \\
              -t registry.example.com/app:1.0 --push .
          slipway push image.tar registry.example.com/app:1.0
          slipway --generate-completion-script bash > /etc/bash_completion.d/slipway
          slipway version --format json
        """,
        version: VersionReport.current().short,
        subcommands: [BuildCommand.self, BakeCommand.self, PushCommand.self, CopyCommand.self, InspectCommand.self, ImagetoolsCommand.self, CacheCommand.self, LoginCommand.self, LogoutCommand.self, ECRCommand.self, SignCommand.self, VerifyCommand.self, KeygenCommand.self, VersionCommand.self]
    )
}
