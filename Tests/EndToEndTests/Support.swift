import Foundation
import XCTest

/// Runs programs (the built `slipway` and the independent tools that check its output) and
/// gives each test its own temporary directory.
enum Run {
    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// The `slipway` binary built next to this test bundle.
    static var slipway: String {
        if let explicit = ProcessInfo.processInfo.environment["SLIPWAY_BIN"] { return explicit }
        let bundle = Bundle(for: Marker.self).bundleURL
        for directory in [bundle, bundle.deletingLastPathComponent()] {
            let candidate = directory.appendingPathComponent("slipway").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return bundle.deletingLastPathComponent().appendingPathComponent("slipway").path
    }

    @discardableResult
    static func command(_ executable: String, _ arguments: [String], cwd: String? = nil,
                        environment: [String: String] = [:], stdin: Data? = nil) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable.hasPrefix("/") ? executable : "/usr/bin/env")
        process.arguments = executable.hasPrefix("/") ? arguments : [executable] + arguments
        if let cwd { process.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "SOURCE_DATE_EPOCH")
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(stdin) }
        try input.fileHandleForWriting.close()
        // Read both pipes concurrently so neither can fill up and block the child.
        let errData = ErrCollector()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errData.set(err.fileHandleForReading.readDataToEndOfFile())
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return Output(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData.get(), as: UTF8.self))
    }

    /// Runs slipway and fails the test with its stderr if it does not succeed.
    @discardableResult
    static func slipway(_ arguments: [String], cwd: String? = nil, environment: [String: String] = [:],
                        file: StaticString = #filePath, line: UInt = #line) throws -> Output {
        let output = try command(slipway, arguments, cwd: cwd, environment: environment)
        XCTAssertEqual(output.status, 0, "slipway \(arguments.joined(separator: " ")) failed:\n\(output.stderr)", file: file, line: line)
        return output
    }

    /// Runs a checking tool and returns its stdout, failing the test if it fails.
    static func tool(_ name: String, _ arguments: [String], cwd: String? = nil,
                     file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let output = try command(name, arguments, cwd: cwd)
        XCTAssertEqual(output.status, 0, "\(name) \(arguments.joined(separator: " ")) failed:\n\(output.stderr)", file: file, line: line)
        return output.stdout
    }

    static func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-e2e-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func json(_ text: String) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw NSError(domain: "e2e", code: 1, userInfo: [NSLocalizedDescriptionKey: "not a JSON object: \(text.prefix(200))"])
        }
        return object
    }

    /// Writes files (path → contents) under a directory, creating parents.
    static func write(_ files: [String: String], under root: String) throws {
        for (path, contents) in files {
            let url = URL(fileURLWithPath: root).appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(contents.utf8).write(to: url)
        }
    }
}

final class Marker {}

final class ErrCollector: @unchecked Sendable {
    private var data = Data()
    private let lock = NSLock()
    func set(_ d: Data) { lock.lock(); data = d; lock.unlock() }
    func get() -> Data { lock.lock(); defer { lock.unlock() }; return data }
}
