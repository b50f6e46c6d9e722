import Foundation
import HTTP

/// Sends one signed request and turns transport failures into `AWSError`s. The environment's
/// transport retries transient failures (`AWSEnvironment.transport`), so this is one API call.
enum AWSCall {
    static func send(_ request: HTTPRequest, via transport: any HTTPTransport, service: String, operation: String) async throws -> HTTPResponse {
        do {
            return try await transport.send(request)
        } catch {
            throw AWSError.transport(service: "\(service) (\(request.url.hostAndPortText))", message: "\(error)")
        }
    }
}

extension URL {
    var hostAndPortText: String {
        guard let host else { return absoluteString }
        return port.map { "\(host):\($0)" } ?? host
    }
}

/// A minimal reader for the small, flat XML documents of the STS Query API.
enum XMLText {
    /// The text of the first `<tag>…</tag>`, entities decoded.
    static func value(_ tag: String, in xml: String) -> String? {
        guard let open = xml.range(of: "<\(tag)>"), let close = xml.range(of: "</\(tag)>", range: open.upperBound..<xml.endIndex) else { return nil }
        return unescape(String(xml[open.upperBound..<close.lowerBound]))
    }

    static func unescape(_ s: String) -> String {
        s.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
    }
}

/// Who the credentials belong to (`sts get-caller-identity`).
public struct CallerIdentity: Sendable, Hashable, Codable {
    public var account: String
    public var arn: String
    public var userID: String
}

/// STS over its Query API: the caller's identity and the two AssumeRole flavours.
public struct STSClient: Sendable {
    public let environment: AWSEnvironment
    public let region: String

    public init(environment: AWSEnvironment, region: String? = nil) {
        self.environment = environment
        self.region = region ?? environment.configuredRegion ?? "us-east-1"
    }

    public func getCallerIdentity(credentials: AWSCredentials) async throws -> CallerIdentity {
        let xml = try await call("GetCallerIdentity", [:], credentials: credentials)
        guard let account = XMLText.value("Account", in: xml) else {
            throw AWSError.invalidResponse(service: "sts", operation: "GetCallerIdentity", detail: "no Account in the answer")
        }
        return CallerIdentity(account: account, arn: XMLText.value("Arn", in: xml) ?? "", userID: XMLText.value("UserId", in: xml) ?? "")
    }

    /// `AssumeRole` signed with `credentials`.
    public func assumeRole(roleARN: String, sessionName: String, externalID: String? = nil, durationSeconds: Int? = nil,
                           credentials: AWSCredentials, source: String) async throws -> AWSCredentials {
        var params = ["RoleArn": roleARN, "RoleSessionName": sessionName]
        if let externalID { params["ExternalId"] = externalID }
        if let durationSeconds { params["DurationSeconds"] = String(durationSeconds) }
        let xml = try await call("AssumeRole", params, credentials: credentials)
        return try Self.credentials(from: xml, operation: "AssumeRole", source: source)
    }

    /// `AssumeRoleWithWebIdentity`: unsigned, the OIDC token is the proof.
    public func assumeRoleWithWebIdentity(roleARN: String, sessionName: String, token: String, durationSeconds: Int? = nil,
                                          source: String) async throws -> AWSCredentials {
        Redactor.register(token)
        var params = ["RoleArn": roleARN, "RoleSessionName": sessionName, "WebIdentityToken": token]
        if let durationSeconds { params["DurationSeconds"] = String(durationSeconds) }
        let xml = try await call("AssumeRoleWithWebIdentity", params, credentials: nil)
        return try Self.credentials(from: xml, operation: "AssumeRoleWithWebIdentity", source: source)
    }

    static func credentials(from xml: String, operation: String, source: String) throws -> AWSCredentials {
        // Register the secrets before anything can quote the answer.
        for tag in ["SecretAccessKey", "SessionToken"] { XMLText.value(tag, in: xml).map(Redactor.register) }
        guard let id = XMLText.value("AccessKeyId", in: xml), let secret = XMLText.value("SecretAccessKey", in: xml) else {
            throw AWSError.invalidResponse(service: "sts", operation: operation, detail: "no credentials in the answer")
        }
        return AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: XMLText.value("SessionToken", in: xml),
                              expiration: XMLText.value("Expiration", in: xml).flatMap(AWSDate.parse), source: source)
    }

    func call(_ action: String, _ params: [String: String], credentials: AWSCredentials?) async throws -> String {
        let url = try environment.endpoint(.sts, region: region)
        let form = ([("Action", action), ("Version", "2011-06-15")] + params.sorted { $0.key < $1.key })
            .map { "\(SigV4.encode($0.0))=\(SigV4.encode($0.1))" }.joined(separator: "&")
        var request = HTTPRequest(method: "POST", url: url, headers: ["Content-Type": "application/x-www-form-urlencoded; charset=utf-8"],
                                  body: .data(Data(form.utf8)), sink: .memory(limit: 1 << 20), followRedirects: false)
        if let credentials {
            request = try SigV4.sign(request, credentials: credentials, region: region, service: "sts")
        }
        let response = try await AWSCall.send(request, via: environment.transport, service: "sts", operation: action)
        let text = String(decoding: response.body, as: UTF8.self)
        guard response.status == 200 else {
            let code = XMLText.value("Code", in: text) ?? "HTTP\(response.status)"
            let message = XMLText.value("Message", in: text) ?? String(text.prefix(200))
            throw AWSError.service(service: "sts", operation: action, status: response.status, code: code, message: message)
        }
        return text
    }
}

struct JSONErrorBody: Decodable {
    var __type: String?
    var message: String?
    var Message: String?
}

/// The JSON 1.1 protocol of ECR and ECR Public: `POST /`, `X-Amz-Target: PREFIX.Operation`.
struct JSONRPC: Sendable {
    let environment: AWSEnvironment
    let service: AWSService
    let targetPrefix: String
    let region: String
    let endpoint: URL

    func call<Input: Encodable, Output: Decodable>(_ operation: String, _ input: Input, as: Output.Type, credentials: AWSCredentials) async throws -> Output {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = try encoder.encode(input)
        var request = HTTPRequest(method: "POST", url: endpoint, headers: [
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "\(targetPrefix).\(operation)",
        ], body: .data(body), sink: .memory(limit: 16 << 20), followRedirects: false)
        request = try SigV4.sign(request, credentials: credentials, region: region, service: service.rawValue)
        let response = try await AWSCall.send(request, via: environment.transport, service: service.rawValue, operation: operation)
        guard response.status == 200 else {
            let decoded = try? JSONDecoder().decode(JSONErrorBody.self, from: response.body)
            var code = decoded?.__type ?? response.headers["x-amzn-ErrorType"] ?? "HTTP\(response.status)"
            if let hash = code.lastIndex(of: "#") { code = String(code[code.index(after: hash)...]) }
            if let colon = code.firstIndex(of: ":") { code = String(code[..<colon]) }
            let message = decoded?.message ?? decoded?.Message ?? String(decoding: response.body.prefix(200), as: UTF8.self)
            throw AWSError.service(service: service.rawValue, operation: operation, status: response.status, code: code, message: message)
        }
        do {
            return try JSONDecoder().decode(Output.self, from: response.body)
        } catch {
            throw AWSError.invalidResponse(service: service.rawValue, operation: operation, detail: "\(error)")
        }
    }
}
