import Foundation
import TestSupport
import XCTest

/// An IAM action on a resource: what one API call or registry request needs.
struct Permission: Hashable, CustomStringConvertible {
    var action: String
    var resource: String
    var description: String { "\(action) on \(resource)" }
}

/// What ECR's IAM requires for each thing a client does, as AWS documents it — the test's own
/// table, never slipway's:
/// - API calls: the action of the same name (service authorization reference for `ecr`:
///   https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerregistry.html);
///   `GetAuthorizationToken` takes no resource (`*`); `sts:AssumeRole` is on the role.
/// - Registry (data plane) requests, per ECR's push and pull permissions
///   (https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-push-iam.html, …/image-pull-iam.html)
///   and blob mounting (https://docs.aws.amazon.com/AmazonECR/latest/userguide/blob-mounting.html):
///   manifest HEAD/GET → BatchGetImage; blob GET → GetDownloadUrlForLayer (then the presigned
///   S3 URL, no IAM); blob HEAD → BatchCheckLayerAvailability; upload POST → InitiateLayerUpload
///   (a mount also GetDownloadUrlForLayer on the `from` repository); PATCH → UploadLayerPart;
///   the closing PUT → CompleteLayerUpload (and UploadLayerPart when it carries data); manifest
///   PUT → PutImage; tag list → ListImages; manifest DELETE → BatchDeleteImage; `/v2/` and a
///   cancelled upload (DELETE of the session) need nothing but the token.
enum ECRPermissionMap {
    static let region = "us-east-1"
    static let defaultAccount = "123456789012"

    static func repositoryARN(account: String, _ repository: String) -> String {
        "arn:aws:ecr:\(region):\(account):repository/\(repository)"
    }

    /// The account whose registry a Host header names (the proxy's own address: the default account's).
    static func account(ofHost host: String) -> String {
        let first = host.split(separator: ".").first.map(String.init) ?? ""
        return first.count == 12 && first.allSatisfy(\.isNumber) ? first : defaultAccount
    }

    /// `callerAccount`: the account of a call that names no registry id.
    static func permissions(_ call: AWSRecorder.Call, callerAccount: String = defaultAccount) throws -> [Permission] {
        switch (call.service, call.action) {
        case ("ecr", "GetAuthorizationToken"):
            return [Permission(action: "ecr:GetAuthorizationToken", resource: "*")]
        case ("ecr", _):
            let account = call.registryIDs.first ?? callerAccount
            guard !call.repositories.isEmpty else { throw TestError("ecr \(call.action) names no repository; add it to the map") }
            return call.repositories.map { Permission(action: "ecr:" + call.action, resource: repositoryARN(account: account, $0)) }
        case ("sts", "AssumeRole"):
            return [Permission(action: "sts:AssumeRole", resource: call.roleARN ?? "?")]
        case ("sts", "AssumeRoleWithWebIdentity"):
            return []  // unsigned: the role's trust policy decides, not the caller's policy
        case ("sts", "GetCallerIdentity"):
            return [Permission(action: "sts:GetCallerIdentity", resource: "*")]
        default:
            throw TestError("unmapped AWS call \(call.service):\(call.action)")
        }
    }

    static func permissions(_ request: ECRProxyLog.Request) throws -> [Permission] {
        let path = request.path
        // `/`: the ECR API when routed through the proxy (its calls are the recorder's to map).
        if path == "/v2/" || path == "/" || path.hasPrefix("/_s3/") || path.hasPrefix("/_script/") { return [] }
        let pattern = try NSRegularExpression(pattern: #"^/v2/(.+?)/(blobs/uploads|blobs|manifests|tags)(/.*)?$"#)
        guard let m = pattern.firstMatch(in: path, range: NSRange(path.startIndex..., in: path)),
              let nameRange = Range(m.range(at: 1), in: path), let kindRange = Range(m.range(at: 2), in: path) else {
            throw TestError("unmapped registry request \(request.method) \(path)")
        }
        let account = account(ofHost: request.host)
        let resource = repositoryARN(account: account, String(path[nameRange]))
        func on(_ action: String) -> Permission { Permission(action: action, resource: resource) }
        switch (String(path[kindRange]), request.method) {
        case ("manifests", "GET"), ("manifests", "HEAD"): return [on("ecr:BatchGetImage")]
        case ("manifests", "PUT"): return [on("ecr:PutImage")]
        case ("manifests", "DELETE"): return [on("ecr:BatchDeleteImage")]
        case ("blobs", "GET"): return [on("ecr:GetDownloadUrlForLayer")]
        case ("blobs", "HEAD"): return [on("ecr:BatchCheckLayerAvailability")]
        case ("blobs/uploads", "POST"):
            var needed = [on("ecr:InitiateLayerUpload")]
            if request.query["mount"] != nil, let from = request.query["from"] {
                needed.append(Permission(action: "ecr:GetDownloadUrlForLayer", resource: repositoryARN(account: account, from)))
            }
            return needed
        case ("blobs/uploads", "PATCH"): return [on("ecr:UploadLayerPart")]
        case ("blobs/uploads", "PUT"): return request.length > 0 ? [on("ecr:UploadLayerPart"), on("ecr:CompleteLayerUpload")] : [on("ecr:CompleteLayerUpload")]
        case ("blobs/uploads", "DELETE"): return []
        case ("tags", "GET"): return [on("ecr:ListImages")]
        default: throw TestError("unmapped registry request \(request.method) \(path)")
        }
    }
}

/// An identity policy of `docs/iam/`, placeholders filled in: which actions it allows on what.
struct IAMPolicyDocument {
    struct Statement { var sid: String; var actions: [String]; var resources: [String] }
    let file: String
    let text: String
    let statements: [Statement]

    /// Several documents attached to one role, as one.
    init(merging documents: [IAMPolicyDocument]) {
        file = documents.map(\.file).joined(separator: " + ")
        text = ""
        statements = documents.flatMap(\.statements)
    }

    init(_ name: String, substitutions: [String: String]) throws {
        file = TestPaths.repositoryRoot.appendingPathComponent("docs/iam/\(name)").path
        var text = try String(contentsOfFile: file, encoding: .utf8)
        // Longest placeholder first: SOURCE_ACCOUNT_ID before ACCOUNT_ID.
        for (placeholder, value) in substitutions.sorted(by: { $0.key.count > $1.key.count }) {
            text = text.replacingOccurrences(of: placeholder, with: value)
        }
        self.text = text
        let object = try Run.json(text)
        guard object["Version"] as? String == "2012-10-17", let list = object["Statement"] as? [[String: Any]] else {
            throw TestError("\(name): not a 2012-10-17 policy with a Statement list")
        }
        statements = try list.map { s in
            guard s["Effect"] as? String == "Allow" else { throw TestError("\(name): only Allow statements are expected") }
            func strings(_ key: String) -> [String] { (s[key] as? [String]) ?? (s[key] as? String).map { [$0] } ?? [] }
            return Statement(sid: s["Sid"] as? String ?? "", actions: strings("Action"), resources: strings("Resource"))
        }
    }

    /// Every action the document grants.
    var actions: Set<String> { Set(statements.flatMap(\.actions)) }

    /// The statements allowing `permission` (IAM's `*` and `?` wildcards in resources).
    func allowing(_ permission: Permission) -> [Statement] {
        statements.filter { statement in
            statement.actions.contains(permission.action) && statement.resources.contains { Self.matches(pattern: $0, permission.resource) }
        }
    }

    static func matches(pattern: String, _ value: String) -> Bool {
        let regex = "^" + NSRegularExpression.escapedPattern(for: pattern).replacingOccurrences(of: "\\*", with: ".*").replacingOccurrences(of: "\\?", with: ".") + "$"
        return value.range(of: regex, options: .regularExpression) != nil
    }

    /// The document passes moto's IAM policy validator (the grammar IAM enforces), as written to `path`.
    func validateWithMoto(scratch: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let path = scratch + "/" + URL(fileURLWithPath: self.file).lastPathComponent
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        let out = try Run.command("python3", ["-c", "import sys\nfrom moto.iam.policy_validation import IAMPolicyDocumentValidator\nIAMPolicyDocumentValidator(open(sys.argv[1]).read()).validate()\nprint('valid')", path])
        XCTAssertEqual(out.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "valid", "\(self.file): \(out.stderr)", file: file, line: line)
    }
}
