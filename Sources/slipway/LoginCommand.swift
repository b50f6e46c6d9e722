import ArgumentParser
import Foundation
import Publish
import Registry

/// `slipway login`: check credentials against the registry and store them in the docker
/// config (mode 0600, other entries kept), where docker, skopeo and slipway all find them, or
/// in `$REGISTRY_AUTH_FILE` as podman and skopeo do.
struct LoginCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Log in to a registry (stores credentials in the docker config).",
        usage: "slipway login [<options>] <registry>",
        discussion: """
        The credentials are checked against the registry, then stored in
        $REGISTRY_AUTH_FILE when it is set (as podman and skopeo do), else in
        $DOCKER_CONFIG/config.json or ~/.docker/config.json (mode 0600; a credsStore
        or credHelpers entry there stores them in that helper).

        Without -p or --password-stdin, asks for the user name (unless -u is given)
        and the password on the terminal, the password without echo.

        Examples:
          echo "$TOKEN" | slipway login ghcr.io -u octocat --password-stdin
          slipway login registry.example.com -u ci   # asks for the password
        """
    )

    @Argument(help: "The registry host[:port].")
    var registry: String

    @Option(name: [.short, .customLong("username")], help: "User name (asked on the terminal when not given).")
    var username: String?

    @Option(name: [.short, .customLong("password")], help: "Password (insecure: visible to other processes; use --password-stdin).")
    var password: String?

    @Flag(name: .customLong("password-stdin"), help: "Read the password from standard input.")
    var passwordStdin = false

    @OptionGroup var options: TransportOptions

    func validate() throws {
        if passwordStdin && password != nil { throw ValidationError("--password-stdin and -p/--password exclude each other") }
        if passwordStdin && username == nil { throw ValidationError("--password-stdin needs -u/--username") }
    }

    func run() async throws {
        try await Console.run(mode: "plain") { console in
            let (user, secret) = try credentials(console: console)
            guard !user.isEmpty else { throw PublishError.failed("empty user name") }
            guard !secret.isEmpty else { throw PublishError.failed("empty password") }
            try await CredentialStore().login(registry: registry, username: user, password: secret,
                                              verifyingWith: options.settings(console: console).transport())
            console.result("Login Succeeded")
        }
    }

    /// The user name and password from the flags, standard input or the terminal.
    private func credentials(console: Console) throws -> (String, String) {
        if passwordStdin {
            var secret = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
            while secret.hasSuffix("\n") || secret.hasSuffix("\r") { secret.removeLast() }
            return (username ?? "", secret)
        }
        if let password {
            console.warn("using --password on the command line is insecure; use --password-stdin")
            guard let username else { throw PublishError.failed("-p/--password needs -u/--username") }
            return (username, password)
        }
        guard TerminalPrompt.isInteractive else {
            throw PublishError.failed("no password: standard input is not a terminal to ask on; pipe it to --password-stdin (or give -p)")
        }
        let user = try username ?? TerminalPrompt.ask("Username: ")
        return (user, try TerminalPrompt.askSecret("Password: "))
    }
}

/// `slipway logout`: remove a registry's stored credentials.
struct LogoutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logout",
        abstract: "Remove stored credentials for a registry.",
        discussion: """
        Removes them from $REGISTRY_AUTH_FILE when it is set, else from the docker
        config.

        Example:
          slipway logout registry.example.com
        """
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
