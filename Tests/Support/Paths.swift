import Foundation

/// Where the repository's test inputs are: the checkout this file belongs to.
public enum TestPaths {
    /// The repository root (Tests/Support/Paths.swift → three levels up, symlinks resolved).
    public static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// `testdata/<relative>`, or below `SLIPWAY_TESTDATA` when that is set (a copy elsewhere).
    public static func testdata(_ relative: String) -> URL {
        if let root = ProcessInfo.processInfo.environment["SLIPWAY_TESTDATA"] {
            return URL(fileURLWithPath: root).appendingPathComponent(relative)
        }
        return repositoryRoot.appendingPathComponent("testdata").appendingPathComponent(relative)
    }

    /// `scripts/<relative>`.
    public static func script(_ relative: String) -> String {
        repositoryRoot.appendingPathComponent("scripts").appendingPathComponent(relative).path
    }
}
