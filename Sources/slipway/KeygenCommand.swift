import ArgumentParser
import Foundation
import Signing

/// `slipway keygen`: a PEM ECDSA P-256 key pair for `sign` / `verify` (and cosign's `verify`).
struct KeygenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Write an ECDSA P-256 key pair: PREFIX.key (PEM, 0600), PREFIX.pub.",
        discussion: """
        The private key is PKCS#8 PEM, encrypted (AES-256-CBC, PBKDF2) when a
        password is given with --password-stdin or COSIGN_PASSWORD; the public
        key is the PEM that `cosign verify --key` and `slipway verify --key`
        take. Existing files are never overwritten.

        Examples:
          slipway keygen                          # cosign.key, cosign.pub
          slipway keygen --output-prefix release  # release.key, release.pub
        """
    )

    @Option(name: .customLong("output-prefix"), help: "Write PREFIX.key and PREFIX.pub.")
    var outputPrefix = "cosign"

    @Flag(name: .customLong("password-stdin"), help: "Encrypt the private key with a password read from standard input (default: $COSIGN_PASSWORD, else unencrypted).")
    var passwordStdin = false

    func run() async throws {
        try await Console.run(mode: "plain") { console in
            let privatePath = outputPrefix + ".key", publicPath = outputPrefix + ".pub"
            for path in [privatePath, publicPath] where FileManager.default.fileExists(atPath: path) {
                throw ValidationError("'\(path)' already exists: remove it or choose another --output-prefix")
            }
            let password = try KeyPassword.read(fromStandardInput: passwordStdin)
            let key = try ECKey.generateP256()
            try write(try key.privateKeyPEM(password: password), to: privatePath, mode: 0o600)
            try write(try key.publicKeyPEM(), to: publicPath, mode: 0o644)
            console.result("wrote \(privatePath) (private, 0600\(password == nil ? ", unencrypted" : ", encrypted")) and \(publicPath) (public, \(try key.fingerprint()))")
        }
    }

    /// Creates the file with its mode from the start (O_EXCL): the key is never readable by others.
    private func write(_ text: String, to path: String, mode: mode_t) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw KeygenError("cannot create '\(path)': \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        _ = fchmod(fd, mode)
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw KeygenError("cannot write '\(path)': \(String(cString: strerror(errno)))") }
            written += n
        }
    }
}

struct KeygenError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
