import Foundation
import HTTP

/// The ECS/EKS-Pod-Identity container credentials endpoint.
enum ECSCredentialSource {
    /// Plain-HTTP hosts the SDKs accept for `AWS_CONTAINER_CREDENTIALS_FULL_URI`.
    static func isAllowedHost(_ host: String) -> Bool {
        let h = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
        return h == "localhost" || h == "::1" || h.hasPrefix("127.") || h == "169.254.170.2" || h == "169.254.170.23" || h == "fd00:ec2::23"
    }

    static func load(_ env: AWSEnvironment) async throws -> SourceOutcome {
        let url: URL
        if let relative = env.value("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") {
            guard let u = URL(string: "http://169.254.170.2" + relative) else {
                throw AWSError.credentials(source: "ECS container credentials", message: "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is not a path")
            }
            url = u
        } else if let full = env.value("AWS_CONTAINER_CREDENTIALS_FULL_URI") {
            guard let u = URL(string: full), let scheme = u.scheme?.lowercased(), let host = u.host else {
                throw AWSError.credentials(source: "ECS container credentials", message: "AWS_CONTAINER_CREDENTIALS_FULL_URI is not a URL")
            }
            guard scheme == "https" || (scheme == "http" && isAllowedHost(host)) else {
                throw AWSError.credentials(source: "ECS container credentials", message: "AWS_CONTAINER_CREDENTIALS_FULL_URI must be https or a loopback/ECS/EKS address, not \(host)")
            }
            url = u
        } else {
            return .skipped("ECS container credentials: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and AWS_CONTAINER_CREDENTIALS_FULL_URI are not set")
        }
        let source = "ECS container credentials (\(url.hostAndPortText))"
        var request = HTTPRequest(method: "GET", url: url, headers: ["Accept": "application/json"], sink: .memory(limit: 1 << 20), followRedirects: false)
        if let file = env.value("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE") {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw AWSError.credentials(source: source, message: "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \(file)")
            }
            let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            Redactor.register(token)
            request.headers.set("Authorization", token)
        } else if let token = env.value("AWS_CONTAINER_AUTHORIZATION_TOKEN") {
            Redactor.register(token)
            request.headers.set("Authorization", token)
        }
        // Configured explicitly, so expected to be there: transient failures are retried.
        let response: HTTPResponse
        do { response = try await RetryingTransport(env.metadataTransport, policy: env.retry).send(request) } catch {
            throw AWSError.credentials(source: source, message: "\(error)")
        }
        guard response.status == 200 else {
            throw AWSError.credentials(source: source, message: "HTTP \(response.status)")
        }
        return .found(try MetadataCredentials.decode(response.body, source: source))
    }
}

/// The JSON both metadata services answer with.
enum MetadataCredentials {
    static func decode(_ body: Data, source: String) throws -> AWSCredentials {
        struct Answer: Decodable {
            var Code: String?
            var Message: String?
            var AccessKeyId: String?
            var SecretAccessKey: String?
            var Token: String?
            var Expiration: String?
        }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: body) else {
            throw AWSError.credentials(source: source, message: "the answer is not JSON credentials")
        }
        answer.SecretAccessKey.map(Redactor.register)
        answer.Token.map(Redactor.register)
        if let code = answer.Code, code != "Success" {
            throw AWSError.credentials(source: source, message: "\(code)\(answer.Message.map { ": " + $0 } ?? "")")
        }
        guard let id = answer.AccessKeyId, let secret = answer.SecretAccessKey else {
            throw AWSError.credentials(source: source, message: "the answer lacks AccessKeyId or SecretAccessKey")
        }
        return AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: answer.Token,
                              expiration: answer.Expiration.flatMap(AWSDate.parse), source: source)
    }
}

/// EC2 instance metadata, IMDSv2: a session token from `PUT /latest/api/token`, then the role
/// name and its credentials. Falls back to IMDSv1 only when the token call is not supported.
enum IMDSCredentialSource {
    static func endpoint(_ env: AWSEnvironment) -> String {
        if let e = env.value("AWS_EC2_METADATA_SERVICE_ENDPOINT") ?? env.profile["ec2_metadata_service_endpoint"] { return e }
        let mode = env.value("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE") ?? env.profile["ec2_metadata_service_endpoint_mode"] ?? ""
        return mode.lowercased() == "ipv6" ? "http://[fd00:ec2::254]" : "http://169.254.169.254"
    }

    static func load(_ env: AWSEnvironment) async throws -> SourceOutcome {
        if (env.value("AWS_EC2_METADATA_DISABLED") ?? "").lowercased() == "true" {
            return .skipped("EC2 instance metadata: disabled by AWS_EC2_METADATA_DISABLED")
        }
        var base = endpoint(env)
        while base.hasSuffix("/") { base.removeLast() }
        let label = "EC2 instance metadata (\(base))"
        guard let tokenURL = URL(string: base + "/latest/api/token"), let rolesURL = URL(string: base + "/latest/meta-data/iam/security-credentials/") else {
            throw AWSError.credentials(source: label, message: "bad endpoint \(base)")
        }
        let transport = env.metadataTransport
        var session: String?
        do {
            let put = HTTPRequest(method: "PUT", url: tokenURL, headers: ["X-aws-ec2-metadata-token-ttl-seconds": "21600"], sink: .memory(limit: 64 << 10), followRedirects: false)
            let r = try await transport.send(put)
            switch r.status {
            case 200:
                let token = String(decoding: r.body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                Redactor.register(token)
                session = token
            case 403: return .skipped("\(label): the token request was refused (HTTP 403)")
            case 404, 405: session = nil  // IMDSv1 only
            default: return .skipped("\(label): token request answered HTTP \(r.status)")
            }
        } catch {
            return .skipped("\(label): not reachable (\(error))")
        }
        // The service answered the token request: from here on transient failures are retried
        // (the probe itself is not, so a machine without IMDS moves on quickly).
        let answering = RetryingTransport(transport, policy: env.retry)
        var headers = HTTPHeaders()
        if let session { headers.set("X-aws-ec2-metadata-token", session) }
        let roles: HTTPResponse
        do { roles = try await answering.send(HTTPRequest(method: "GET", url: rolesURL, headers: headers, sink: .memory(limit: 64 << 10), followRedirects: false)) } catch {
            return .skipped("\(label): \(error)")
        }
        guard roles.status == 200, let role = String(decoding: roles.body, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init), !role.isEmpty else {
            return .skipped("\(label): no instance profile role (HTTP \(roles.status))")
        }
        guard let credentialsURL = URL(string: rolesURL.absoluteString + (role.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? role)) else {
            throw AWSError.credentials(source: label, message: "bad role name")
        }
        let answer: HTTPResponse
        do { answer = try await answering.send(HTTPRequest(method: "GET", url: credentialsURL, headers: headers, sink: .memory(limit: 1 << 20), followRedirects: false)) } catch {
            throw AWSError.credentials(source: label, message: "\(error)")
        }
        guard answer.status == 200 else { throw AWSError.credentials(source: label, message: "credentials of role \(role): HTTP \(answer.status)") }
        return .found(try MetadataCredentials.decode(answer.body, source: "\(label), role \(role)"))
    }
}
