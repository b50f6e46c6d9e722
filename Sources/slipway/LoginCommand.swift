import ArgumentParser
import Foundation
import Publish
import Registry

/// `slipway login`: check credentials against the registry and store them in the docker
/// config (mode 0600, other entries kept), where docker, skopeo and slipway all find them.
struct LoginCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Log in to a registry (stores credentials in the docker config).",
        discussion: """
        Examples:
          echo "$TOKEN" | slipway login ghcr.io -u octocat --password-stdin
          slipway login registry.example.com -u ci -p "$PASSWORD"   # visible in the process list: prefer --password-stdin
        """
    )

    @Argument(help: "The registry host[:port].")
    var registry: String

    @Option(name: [.short, .customLong("username")], help: "User name.")
    var username: String

    @Option(name: [.short, .customLong("password")], help: "Password (insecure: visible to other processes; use --password-stdin).")
    var password: String?

    @Flag(name: .customLong("password-stdin"), help: "Read the password from standard input.")
    var passwordStdin = false

    @OptionGroup var options: RegistryOptions

    func validate() throws {
        if passwordStdin == (password != nil) { throw ValidationError("give exactly one of --password-stdin or -p/--password") }
    }

    func run() async throws {
        try await Console.run(mode: "plain") { console in
            var secret = password ?? ""
            if passwordStdin {
                secret = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
                while secret.hasSuffix("\n") || secret.hasSuffix("\r") { secret.removeLast() }
            } else {
                console.warn("using --password on the command line is insecure; use --password-stdin")
            }
            guard !secret.isEmpty else { throw PublishError.failed("empty password") }
            try await CredentialStore().login(registry: registry, username: username, password: secret,
                                              verifyingWith: try options.settings(console: console).transport())
            console.result("Login Succeeded")
        }
    }
}

/// `slipway logout`: remove a registry's stored credentials.
struct LogoutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logout",
        abstract: "Remove stored credentials for a registry.",
        discussion: "Example:\n  slipway logout registry.example.com"
    )

    @Argument(help: "The registry host[:port].")
    var registry: String

    func run() async throws {
        try await Console.run(mode: "plain") { console in
            if try CredentialStore().logout(registry: registry) {
                console.result("Removed login credentials for \(registry)")
            } else {
                console.result("Not logged in to \(registry)")
            }
        }
    }
}
