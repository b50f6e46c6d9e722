import Foundation
import HTTP
// The one process runner of the tests is HTTP's `Subprocess` (posix_spawn with a clean
// signal mask, reaped with waitpid): safe from any thread, from async tests and from lazy
// static initialisers, where Foundation's `Process` is not on Linux.
import XCTest

/// Runs programs: the built `slipway`, the independent tools that check its output (skopeo,
/// umoci, bsdtar, …) and shell command lines.
public enum Run {
    public struct Output: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    public static var repositoryRoot: URL { TestPaths.repositoryRoot }

    /// The `slipway` binary built next to the test bundle (or `SLIPWAY_BIN`).
    public static var slipway: String {
        if let explicit = ProcessInfo.processInfo.environment["SLIPWAY_BIN"] { return explicit }
        let bundle = Bundle(for: Marker.self).bundleURL
        for directory in [bundle, bundle.deletingLastPathComponent()] {
            let candidate = directory.appendingPathComponent("slipway").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return bundle.deletingLastPathComponent().appendingPathComponent("slipway").path
    }

    /// Runs `executable` (a path, or a name looked up in PATH) with this process's environment
    /// minus `SOURCE_DATE_EPOCH`, with `BUILDX_NO_DEFAULT_ATTESTATIONS=1`, plus `environment`.
    @discardableResult
    public static func command(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                               stdin: Data? = nil) throws -> Output {
        guard let path = executable.hasPrefix("/") ? executable : Subprocess.find(executable) else {
            throw TestError("\(executable) is not installed (not found in PATH)")
        }
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "SOURCE_DATE_EPOCH")
        // Tests see images as they were before provenance became the default (a manifest
        // for one platform); the attestation tests turn the default back on by passing
        // BUILDX_NO_DEFAULT_ATTESTATIONS="" (AttestationTests, ReproducibilityTests).
        env["BUILDX_NO_DEFAULT_ATTESTATIONS"] = "1"
        env.merge(environment) { _, new in new }
        let result = try Subprocess.run(path, arguments, input: stdin ?? Data(), environment: env)
        return Output(status: result.status, stdout: String(decoding: result.stdout, as: UTF8.self),
                      stderr: String(decoding: result.stderr, as: UTF8.self))
    }

    /// Runs slipway and fails the test with its stderr if it does not succeed.
    @discardableResult
    public static func slipway(_ arguments: [String], environment: [String: String] = [:],
                               file: StaticString = #filePath, line: UInt = #line) throws -> Output {
        let output = try command(slipway, arguments, environment: environment)
        XCTAssertEqual(output.status, 0, "slipway \(arguments.joined(separator: " ")) failed:\n\(output.stderr)", file: file, line: line)
        return output
    }

    /// Runs a checking tool and returns its stdout, failing the test if it fails.
    @discardableResult
    public static func tool(_ name: String, _ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let output = try command(name, arguments)
        XCTAssertEqual(output.status, 0, "\(name) \(arguments.joined(separator: " ")) failed:\n\(output.stderr)", file: file, line: line)
        return output.stdout
    }

    /// Runs a `/bin/sh` command line (pipelines included).
    @discardableResult
    public static func shell(_ commandLine: String) throws -> Output {
        try command("/bin/sh", ["-c", commandLine])
    }

    /// Like `shell`, but fails the test unless the command exits 0; returns stdout.
    @discardableResult
    public static func mustShell(_ commandLine: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let result = try shell(commandLine)
        XCTAssertEqual(result.status, 0, "`\(commandLine)` failed: \(result.stderr)", file: file, line: line)
        return result.stdout
    }

    public static func isInstalled(_ name: String) -> Bool { Subprocess.find(name) != nil }

    /// Quoted for /bin/sh.
    public static func quoted(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    /// A fresh directory under the temporary directory; the caller removes it.
    public static func temporaryDirectory() throws -> String { try TemporaryDirectory.create(prefix: "slipway-e2e") }

    /// A JSON object, or an error that shows the start of the text.
    public static func json(_ text: String) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw TestError("not a JSON object: \(text.prefix(200))")
        }
        return object
    }

    /// Writes text files (relative path → contents) under `root`, creating parents.
    public static func write(_ files: [String: String], under root: String) throws {
        for (path, contents) in files {
            let url = URL(fileURLWithPath: root).appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(contents.utf8).write(to: url)
        }
    }
}

/// The sha256 of `data` in hex, computed by openssl (a tool independent of slipway's own
/// hashing); empty when openssl fails, which no digest equals.
public func sha256(_ data: Data) -> String {
    guard let directory = try? TemporaryDirectory(prefix: "slipway-sha") else { return "" }
    let path = directory.path + "/data"
    guard (try? data.write(to: URL(fileURLWithPath: path))) != nil,
          let out = try? Run.command("openssl", ["dgst", "-sha256", "-r", path]), out.status == 0 else { return "" }
    return String(out.stdout.prefix(64))
}

private final class Marker {}

/// `prefix-xxxxxxxx`: a name no other test run uses (repositories of a shared registry).
public func uniqueName(_ prefix: String) -> String { "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())" }
