import Foundation
import HTTP

/// `credential_process`: runs the command (through `/bin/sh -c`, with an empty stdin) and reads
/// the JSON it prints. The command runs through `Subprocess`, off the cooperative pool, with a
/// clean signal mask.
enum ProcessCredentialSource {
    static func run(_ command: String, profile: String) async throws -> AWSCredentials {
        let source = "profile '\(profile)' (credential_process)"
        let result: Subprocess.Result
        do {
            result = try await Subprocess.runInBackground("/bin/sh", ["-c", command])
        } catch let error as SubprocessError {
            throw AWSError.credentials(source: "credential_process", message: error.description)
        }
        struct Output: Decodable {
            var Version: Int?
            var AccessKeyId: String?
            var SecretAccessKey: String?
            var SessionToken: String?
            var Expiration: String?
        }
        let decoded = try? JSONDecoder().decode(Output.self, from: result.stdout)
        decoded?.SecretAccessKey.map(Redactor.register)
        decoded?.SessionToken.map(Redactor.register)
        guard result.status == 0 else {
            let message = String(decoding: result.stderr.prefix(500), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw AWSError.credentials(source: source, message: "the command exited with status \(result.status)\(message.isEmpty ? "" : ": " + message)")
        }
        guard let decoded else { throw AWSError.credentials(source: source, message: "the command did not print a JSON object") }
        guard decoded.Version == 1 else { throw AWSError.credentials(source: source, message: "unsupported Version \(decoded.Version.map(String.init) ?? "(missing)"); expected 1") }
        guard let id = decoded.AccessKeyId, let secret = decoded.SecretAccessKey else {
            throw AWSError.credentials(source: source, message: "the output lacks AccessKeyId or SecretAccessKey")
        }
        return AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: decoded.SessionToken,
                              expiration: decoded.Expiration.flatMap(AWSDate.parse), source: source)
    }
}
