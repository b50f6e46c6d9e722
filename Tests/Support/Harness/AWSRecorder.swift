import Foundation

/// `scripts/test-moto/aws-recorder.py` in front of moto, for one test: every AWS API call a
/// client makes through `endpoint` (its AWS_ENDPOINT_URL), who signed it and what it named.
public final class AWSRecorder: @unchecked Sendable {
    /// One recorded API call.
    public struct Call: Sendable, Hashable {
        public var service: String
        public var action: String
        /// The signer's access key id; nil for an unsigned call (AssumeRoleWithWebIdentity).
        public var accessKeyID: String?
        public var status: Int
        /// `registryId` / `registryIds`.
        public var registryIDs: [String]
        /// `repositoryName` / `repositoryNames`.
        public var repositories: [String]
        public var roleARN: String?
        /// For AssumeRole: the key it handed out and the assumed role's ARN.
        public var issuedKey: String?
        public var issuedARN: String?
    }

    public let log: String
    public let endpoint: String
    private let server: BackgroundServer

    public init(moto: TestMoto, directory: String) throws {
        log = directory + "/aws-api.log"
        try Data().write(to: URL(fileURLWithPath: log))
        server = try BackgroundServer(["python3", TestPaths.script("test-moto/aws-recorder.py"), log, moto.moto])
        endpoint = "http://127.0.0.1:\(server.port)"
    }

    /// Forgets what was recorded so far.
    public func clear() throws { try Data().write(to: URL(fileURLWithPath: log)) }

    public func calls() throws -> [Call] {
        let text = try String(contentsOfFile: log, encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            let o = try Run.json(String(line))
            let params = o["params"] as? [String: Any] ?? [:]
            var registries = params["registryIds"] as? [String] ?? []
            if let one = params["registryId"] as? String { registries.append(one) }
            var repositories = params["repositoryNames"] as? [String] ?? []
            if let one = params["repositoryName"] as? String { repositories.append(one) }
            let issued = o["issued"] as? [String: Any]
            return Call(service: o["service"] as? String ?? "", action: o["action"] as? String ?? "", accessKeyID: o["accessKeyId"] as? String,
                        status: o["status"] as? Int ?? 0, registryIDs: registries, repositories: repositories, roleARN: params["RoleArn"] as? String,
                        issuedKey: issued?["accessKeyId"] as? String, issuedARN: issued?["arn"] as? String)
        }
    }

    public func stop() { server.stop() }
}

/// The requests `scripts/test-moto/ecr-proxy.py` saw (its log), from a point on: the ECR data
/// plane's view of a client (method, path, query, Host header, body length).
public struct ECRProxyLog: Sendable {
    public struct Request: Sendable, Hashable {
        public var method: String
        public var path: String
        public var query: [String: String]
        public var host: String
        public var length: Int
    }

    public let file: String
    public let offset: UInt64

    /// Marks the log's end: `requests()` returns what comes after.
    public init(moto: TestMoto) {
        file = moto.dir + "/ecr-proxy.log"
        offset = ((try? FileManager.default.attributesOfItem(atPath: file)[.size]) as? NSNumber)?.uint64Value ?? 0
    }

    public func requests() throws -> [Request] {
        guard let handle = FileHandle(forReadingAtPath: file) else { return [] }
        defer { try? handle.close() }
        try handle.seek(toOffset: offset)
        let text = String(decoding: try handle.readToEnd() ?? Data(), as: UTF8.self)
        return text.split(separator: "\n").compactMap { line -> Request? in
            let words = line.split(separator: " ").map(String.init)
            // Only request lines: the proxy also logs its own moto calls and errors.
            guard words.count >= 2, ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"].contains(words[0]), words[1].hasPrefix("/"),
                  let components = URLComponents(string: "http://x" + words[1]) else { return nil }
            var query: [String: String] = [:]
            for item in components.queryItems ?? [] { query[item.name] = item.value ?? "" }
            func field(_ name: String) -> String? { words.first { $0.hasPrefix(name + "=") }.map { String($0.dropFirst(name.count + 1)) } }
            return Request(method: words[0], path: components.path, query: query, host: field("host") ?? "", length: Int(field("len") ?? "") ?? 0)
        }
    }
}
