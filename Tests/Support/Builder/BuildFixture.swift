import Foundation
import OCI
import Dockerfile
import Builder

/// Builds in this process, through `Builder.build(BuildRequest)`: a context directory the test
/// fills, and a content store and scratch space of its own, all removed with the fixture.
public final class BuildFixture: @unchecked Sendable {
    public let directory: TemporaryDirectory
    /// The build context: `context/` of the fixture's directory.
    public var context: String { directory.path + "/context" }

    public init(files: [String: String] = [:]) throws {
        directory = try TemporaryDirectory(prefix: "slipway-build")
        try FileManager.default.createDirectory(atPath: directory.path + "/context", withIntermediateDirectories: true)
        try write(files)
    }

    /// Writes text files into the context, mode 0644 whatever the umask.
    public func write(_ files: [String: String]) throws {
        try Run.write(files, under: context)
        for path in files.keys { chmod(context + "/" + path, 0o644) }
    }

    /// Writes bytes into the context (mode 0644) and returns the file's path.
    @discardableResult
    public func write(_ relative: String, _ bytes: [UInt8]) throws -> String {
        let path = try directory.write("context/" + relative, bytes)
        chmod(path, 0o644)
        return path
    }

    /// Builds `dockerfile` for `platforms`, reading the context's `.dockerignore` as
    /// `slipway build` does; `configure` sets anything else on the request.
    public func build(_ dockerfile: String, platforms: [String] = ["linux/amd64"],
                      configure: (inout BuildRequest) -> Void = { _ in }) async throws -> BuiltImage {
        let ignore = (try? String(contentsOfFile: context + "/.dockerignore", encoding: .utf8)).map(IgnoreFile.readAll) ?? []
        let scratch = try directory.makeSubdirectory("scratch")
        var request = BuildRequest(contextDirectory: context, dockerfileText: dockerfile, ignorePatterns: ignore,
                                   platforms: try platforms.map { try Platform(parsing: $0) },
                                   storeDirectory: directory.path + "/store", scratchDirectory: scratch)
        configure(&request)
        // The one call of the Builder in the tests.
        let result = try await Builder.build(request)
        return BuiltImage(result: result, fixture: self)
    }

    /// The `BuildError` a build fails with (its description: `Dockerfile:LINE: message`); a
    /// test failure when it succeeds or fails otherwise.
    public func failure(_ dockerfile: String, platforms: [String] = ["linux/amd64"], file: StaticString = #filePath, line: UInt = #line,
                        configure: (inout BuildRequest) -> Void = { _ in }) async -> BuildError? {
        await thrownError(BuildError.self, file: file, line: line) {
            _ = try await build(dockerfile, platforms: platforms, configure: configure)
        }
    }
}

extension BuildFixture {
    /// Builds `dockerfile` in a new fixture and exports it as an OCI layout directory: how a
    /// base image that BuildKit's tests push reaches a child build here (`--build-context`).
    /// The fixture owns the directory, so it must outlive the layout's use.
    public static func layout(_ dockerfile: String, files: [String: String] = [:]) async throws -> (BuildFixture, String) {
        let fixture = try BuildFixture(files: files)
        let image = try await fixture.build(dockerfile)
        let path = fixture.directory.path + "/layout"
        try Exporter.export(image.result, to: .oci(destination: path, tar: false), tags: [], sourceDateEpoch: 0)
        return (fixture, path)
    }
}
