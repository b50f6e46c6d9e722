import AWS
import Foundation

/// The repository policy `ecr set-repository-policy` writes: one statement granting the pull
/// actions to `--pull-principal`s (a deploy role, a prod account reading a dev repository) and
/// one granting the push actions to `--push-principal`s (a build role, a promotion role of
/// another account). The actions are those of `docs/iam/deploy-role.json` and
/// `docs/iam/build-role.json` on a repository — exactly what slipway's pulls and pushes use
/// (EndToEndTests `IAMPolicyTests` checks both against what slipway does). Statements of the
/// policy that slipway did not write (another `Sid`) are kept as they are.
public enum ECRRepositoryPolicy {
    /// What `inspect`, a pull and `ecr describe-images` use on a repository.
    public static let pullActions = ["ecr:BatchGetImage", "ecr:DescribeImages", "ecr:GetDownloadUrlForLayer"]
    /// What `build --push`, `push`, the destination side of `copy` and `ecr describe-images` use.
    public static let pushActions = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:CompleteLayerUpload", "ecr:DescribeImages",
                                     "ecr:DescribeRepositories", "ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:UploadLayerPart"]
    public static let pullSid = "SlipwayPull"
    public static let pushSid = "SlipwayPush"

    /// A principal as typed: a 12-digit account id (its root, i.e. whatever that account's IAM
    /// allows) or an IAM ARN of an account root, a role or a user.
    public static func principal(_ text: String) throws -> String {
        let value = text.trimmingCharacters(in: .whitespaces)
        if value.count == 12, value.allSatisfy(\.isNumber) { return "arn:aws:iam::\(value):root" }
        let parts = value.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "arn", parts[1].hasPrefix("aws"), parts[2] == "iam", parts[3].isEmpty,
              parts[4].count == 12, parts[4].allSatisfy(\.isNumber),
              parts[5] == "root" || parts[5].hasPrefix("role/") || parts[5].hasPrefix("user/") else {
            throw PublishError.invalidArgument("principal '\(text)' is neither a 12-digit account id nor an IAM ARN (arn:aws:iam::ACCOUNT:root, …:role/NAME, …:user/NAME)")
        }
        return value
    }

    /// The policy to store: `existing`'s own statements (in their order), then slipway's two
    /// (a list without principals drops its statement). Returns the text and the `Sid`s kept.
    public static func merged(existing: String?, pull: [String], push: [String]) throws -> (policy: [String: Any], kept: [String]) {
        var statements: [[String: Any]] = []
        var kept: [String] = []
        if let existing, !existing.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            guard let object = try? JSONSerialization.jsonObject(with: Data(existing.utf8)) as? [String: Any] else {
                throw PublishError.failed("the repository's current policy is not a JSON object; not changing it")
            }
            let current: [[String: Any]]
            if let list = object["Statement"] as? [[String: Any]] { current = list } else if let one = object["Statement"] as? [String: Any] { current = [one] } else { current = [] }
            for statement in current {
                let sid = statement["Sid"] as? String
                if sid == pullSid || sid == pushSid { continue }
                statements.append(statement)
                kept.append(sid ?? "(no Sid)")
            }
        }
        func statement(_ sid: String, _ principals: [String], _ actions: [String]) -> [String: Any] {
            ["Sid": sid, "Effect": "Allow", "Principal": ["AWS": Array(Set(principals)).sorted()], "Action": actions]
        }
        if !pull.isEmpty { statements.append(statement(pullSid, pull, pullActions)) }
        if !push.isEmpty { statements.append(statement(pushSid, push, pushActions)) }
        return (["Version": "2012-10-17", "Statement": statements], kept)
    }

    /// Canonical text (sorted keys), so equal policies compare equal as text.
    public static func text(_ policy: [String: Any], pretty: Bool = false) throws -> String {
        var options: JSONSerialization.WritingOptions = [.sortedKeys, .withoutEscapingSlashes]
        if pretty { options.insert(.prettyPrinted) }
        return String(decoding: try JSONSerialization.data(withJSONObject: policy, options: options), as: UTF8.self)
    }

    /// Whether two policy texts say the same (same JSON, key order aside).
    public static func same(_ a: String?, _ b: String) -> Bool {
        guard let a, let left = try? JSONSerialization.jsonObject(with: Data(a.utf8)) as? NSDictionary,
              let right = try? JSONSerialization.jsonObject(with: Data(b.utf8)) as? NSDictionary else { return false }
        return left.isEqual(right)
    }
}

extension ECRTasks {
    /// What `set-repository-policy` did (or, with `dryRun`, would do).
    public struct RepositoryPolicyOutcome: Sendable {
        public var policyText: String
        /// The stored policy differs from the one asked for (it was, or would be, written).
        public var changed: Bool
        /// `Sid`s of statements slipway did not write, kept.
        public var kept: [String]
    }

    /// Sets the repository policy granting pull and push to the principals; nothing is written
    /// when the repository already has exactly that policy (idempotent) or with `dryRun`.
    public func setRepositoryPolicy(_ name: String, pullPrincipals: [String], pushPrincipals: [String], registryID: String?,
                                    dryRun: Bool) async throws -> RepositoryPolicyOutcome {
        let pull = try pullPrincipals.map(ECRRepositoryPolicy.principal)
        let push = try pushPrincipals.map(ECRRepositoryPolicy.principal)
        guard !pull.isEmpty || !push.isEmpty else {
            throw PublishError.invalidArgument("name at least one --pull-principal or --push-principal")
        }
        let credentials = try await AWSCredentialChain(environment: environment).credentials()
        let client = try ECRClient(environment: environment, region: try environment.region())
        let existing = try await client.getRepositoryPolicy(name, registryID: registryID, credentials: credentials)
        let (policy, kept) = try ECRRepositoryPolicy.merged(existing: existing, pull: pull, push: push)
        let text = try ECRRepositoryPolicy.text(policy)
        let changed = !ECRRepositoryPolicy.same(existing, text)
        if changed && !dryRun {
            try await client.setRepositoryPolicy(name, policyText: text, registryID: registryID, credentials: credentials)
        }
        return RepositoryPolicyOutcome(policyText: text, changed: changed, kept: kept)
    }

    /// The repository's policy text; nil when it has none.
    public func repositoryPolicy(_ name: String, registryID: String?) async throws -> String? {
        let credentials = try await AWSCredentialChain(environment: environment).credentials()
        return try await ECRClient(environment: environment, region: try environment.region())
            .getRepositoryPolicy(name, registryID: registryID, credentials: credentials)
    }
}
