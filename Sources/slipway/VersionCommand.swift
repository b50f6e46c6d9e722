import ArgumentParser
import Foundation
import HTTP

/// What `slipway --version` and `slipway version` report: the release, the commit it was built
/// from, and the C libraries it runs with (whose versions decide, among other things, the
/// compressed bytes of every layer).
struct VersionReport: Codable, Equatable {
    var version: String
    var commit: String
    var toolchain: String
    var platform: String
    var libraries: [LinkedLibrary]

    static func current() -> VersionReport {
        VersionReport(version: SlipwayVersion.current,
                      commit: ReleaseStamp.commit ?? "unknown (development build)",
                      toolchain: ReleaseStamp.toolchain ?? "unknown (development build)",
                      platform: "linux/" + hostArchitecture,
                      libraries: LinkedLibraries.all())
    }

    static var hostArchitecture: String {
        #if arch(x86_64)
        "amd64"
        #elseif arch(arm64)
        "arm64"
        #else
        "unknown"
        #endif
    }

    /// `--version`: one line that identifies the build, then the library versions on a second.
    var short: String {
        let commitPart = ReleaseStamp.commit.map { "commit " + String($0.prefix(12)) } ?? "development build"
        let statics = libraries.allSatisfy { $0.linkage == "static" } ? " (statically linked)" : ""
        return "slipway \(version) (\(commitPart), \(platform))\n"
            + libraries.map { "\($0.name) \($0.version)" }.joined(separator: ", ") + statics
    }

    var text: String {
        var lines = ["slipway \(version)", "commit:    \(commit)", "toolchain: \(toolchain)", "platform:  \(platform)", "libraries:"]
        func padded(_ text: String, _ column: KeyPath<LinkedLibrary, String>) -> String {
            text.padding(toLength: libraries.map { $0[keyPath: column].count }.max() ?? 0, withPad: " ", startingAt: 0)
        }
        for library in libraries {
            lines.append("  \(padded(library.name, \.name))  \(padded(library.version, \.version))  \(library.linkage)"
                         + (library.details.map { "  (\($0))" } ?? ""))
        }
        return lines.joined(separator: "\n")
    }
}

/// `slipway version`: the details behind `--version`, also as JSON for tooling.
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Show slipway's version, commit and the libraries it runs with.",
        discussion: """
        Examples:
          slipway version
          slipway version --format json | jq -r .commit
        """
    )

    @Option(help: "Output format: text or json.")
    var format: String = "text"

    func validate() throws {
        guard ["text", "json"].contains(format) else { throw ValidationError("--format must be text or json") }
    }

    func run() throws {
        let report = VersionReport.current()
        if format == "json" {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            FileHandle.standardOutput.write(try encoder.encode(report) + Data("\n".utf8))
        } else {
            print(report.text)
        }
    }
}
