import Foundation
import OCI

/// A fresh directory under the system's temporary directory, removed with the value.
public final class TemporaryDirectory: @unchecked Sendable {
    public let path: String

    public init(prefix: String = "slipway-test") throws {
        path = try TemporaryDirectory.create(prefix: prefix)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Creates a uniquely named directory and returns its path; the caller removes it.
    public static func create(prefix: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    public var url: URL { URL(fileURLWithPath: path) }

    /// A new, uniquely named directory inside this one.
    public func makeSubdirectory(_ prefix: String) throws -> String {
        let sub = path + "/\(prefix)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true)
        return sub
    }

    public func url(_ relative: String) -> URL { url.appendingPathComponent(relative) }

    /// Writes bytes at a relative path (parents created) and returns the absolute path.
    @discardableResult
    public func write(_ relative: String, _ bytes: [UInt8]) throws -> String {
        let target = url(relative)
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: target)
        return target.path
    }

    /// Writes text files (relative path → contents), parents created.
    public func write(_ files: [String: String]) throws {
        try Run.write(files, under: path)
    }

    /// A content store in `store/`.
    public func store() throws -> ContentStore { try ContentStore(root: url("store")) }
}

/// A harness or fixture failure with a message.
public struct TestError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
