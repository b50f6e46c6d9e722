import Foundation
import HTTP
import OCI
import XCTest

/// The servers of `scripts/<name>/start` (the test registries, moto): when the test script has
/// started them, their settings are in their state directory and this process's environment;
/// otherwise the first test that needs them starts them once, in a private state directory,
/// and they are stopped when the test process exits. Without them a test skips, unless
/// `SLIPWAY_TEST_REQUIRE_REGISTRY=1` (CI), where a missing server is a failure.
enum ScriptedServices {
    /// Scripts started by this process, stopped at exit.
    private static let started = Locked<[(stop: String, state: String)]>([])

    /// The `KEY=value` settings of `scripts/<name>`: from `STATE_DIR/env` when `directory`
    /// names a state directory that has one, else this process's environment when `marker` is
    /// set there (the test script exported them), else from a private instance started now.
    static func settings(_ name: String, directory: String, marker: String) throws -> [String: String] {
        let environment = ProcessInfo.processInfo.environment
        if let state = environment[directory], let text = try? String(contentsOfFile: state + "/env", encoding: .utf8) {
            return parse(text)
        }
        if environment[marker] != nil { return environment }
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-\(name)-\(getpid())").path
        let output = try Run.command("bash", [TestPaths.script("\(name)/start"), state])
        guard output.status == 0 else { throw TestError("scripts/\(name)/start failed: \(output.stderr)") }
        let isFirst = started.withLock { list -> Bool in
            list.append((TestPaths.script("\(name)/stop"), state))
            return list.count == 1
        }
        if isFirst { atexit { ScriptedServices.stopAll() } }
        return parse(output.stdout)
    }

    private static func parse(_ text: String) -> [String: String] {
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let pair = line.split(separator: "=", maxSplits: 1).map(String.init)
            if pair.count == 2 { values[pair[0]] = pair[1] }
        }
        return values
    }

    /// Starts (or finds) `scripts/<name>` and makes the settings value from what it printed.
    static func load<T>(_ name: String, directory: String, marker: String, _ make: ([String: String]) throws -> T) -> Result<T, TestError> {
        do {
            return .success(try make(try settings(name, directory: directory, marker: marker)))
        } catch let error as TestError {
            return .failure(error)
        } catch {
            return .failure(TestError("\(error)"))
        }
    }

    /// The value, or a skip (a failure when the servers are required).
    static func require<T>(_ result: Result<T, TestError>, _ what: String) throws -> T {
        switch result {
        case .success(let value): return value
        case .failure(let error):
            if ProcessInfo.processInfo.environment["SLIPWAY_TEST_REQUIRE_REGISTRY"] == "1" { throw error }
            throw XCTSkip("\(what) unavailable: \(error)")
        }
    }

    private static func stopAll() {
        // system(3), not Run: at exit, nothing should depend on dispatch threads.
        for (stop, state) in started.withLock({ $0 }) {
            _ = system("bash '\(stop)' '\(state)' >/dev/null 2>&1 < /dev/null")
        }
    }
}

/// A required setting, or an error that names it.
func setting(_ values: [String: String], _ key: String) throws -> String {
    guard let value = values[key], !value.isEmpty else { throw TestError("\(key) is not set") }
    return value
}
