import Builder
import Dockerfile
import Foundation

/// The Dockerfile a build reads and the ignore patterns that go with it, found as BuildKit
/// finds them: `-f FILE` (or `-` for standard input), else `CONTEXT/Dockerfile`; then
/// `FILE.dockerignore` beside the Dockerfile, else `CONTEXT/.dockerignore`. Each is read
/// through `ContainedFile`: a symlink leaving its directory is refused, never followed.
public struct DockerfileSource: Sendable {
    public var text: String
    /// How messages name the Dockerfile: `Dockerfile` by default, else the path given (`-`).
    public var name: String
    public var ignorePatterns: [String]

    public static func read(file: String?, contextDirectory: String,
                            standardInput: () -> Data = { FileHandle.standardInput.readDataToEndOfFile() }) throws -> DockerfileSource {
        let path: String
        let text: String
        if file == "-" {
            text = String(decoding: standardInput(), as: UTF8.self)
            path = "-"
        } else {
            path = file ?? contextDirectory + "/Dockerfile"
            guard let data = try ContainedFile.contents(atPath: path) else {
                throw PublishError.failed("cannot read Dockerfile '\(path)': \(FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file"); pass one with -f")
            }
            text = String(decoding: data, as: UTF8.self)
        }
        var ignoreText: String?
        if path != "-", let data = try ContainedFile.contents(atPath: path + ".dockerignore", role: ".dockerignore") {
            ignoreText = String(decoding: data, as: UTF8.self)
        } else if let data = try ContainedFile.contents(atPath: contextDirectory + "/.dockerignore", role: ".dockerignore") {
            ignoreText = String(decoding: data, as: UTF8.self)
        }
        return DockerfileSource(text: text, name: file == nil ? "Dockerfile" : path,
                                ignorePatterns: ignoreText.map(IgnoreFile.readAll) ?? [])
    }
}
