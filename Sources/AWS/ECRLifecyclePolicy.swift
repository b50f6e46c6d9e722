import Foundation

/// An ECR lifecycle policy (the `lifecyclePolicyText` of PutLifecyclePolicy), built from
/// presets or read from a file, and checked against ECR's rules before it is sent, so a bad
/// policy fails with the rule and the reason instead of ECR's one-line refusal.
public struct ECRLifecyclePolicy: Sendable, Hashable, Codable {
    public struct Rule: Sendable, Hashable, Codable {
        public var rulePriority: Int
        public var description: String?
        public var selection: Selection
        public var action: Action
    }

    public struct Selection: Sendable, Hashable, Codable {
        /// `tagged`, `untagged` or `any`.
        public var tagStatus: String
        public var tagPrefixList: [String]?
        public var tagPatternList: [String]?
        /// `imageCountMoreThan` or `sinceImagePushed` (ECR also knows `sinceImagePulled`, `sinceImageTransitioned`).
        public var countType: String
        public var countUnit: String?
        public var countNumber: Int
    }

    public struct Action: Sendable, Hashable, Codable { public var type: String }

    public var rules: [Rule]

    /// The JSON ECR takes (sorted keys, no whitespace; pretty for display).
    public func json(pretty: Bool = false) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// Parses and checks a policy document (a file's text); unknown fields are ECR's business
    /// and are kept when the text itself is sent.
    public static func parse(_ text: String, source: String) throws -> ECRLifecyclePolicy {
        let policy: ECRLifecyclePolicy
        do {
            policy = try JSONDecoder().decode(ECRLifecyclePolicy.self, from: Data(text.utf8))
        } catch let DecodingError.keyNotFound(key, context) {
            throw AWSError.invalidRequest("\(source): not an ECR lifecycle policy: \(path(context.codingPath + [key])) is missing")
        } catch let DecodingError.typeMismatch(_, context) {
            throw AWSError.invalidRequest("\(source): not an ECR lifecycle policy: \(path(context.codingPath)) has the wrong type")
        } catch {
            throw AWSError.invalidRequest("\(source): not valid JSON for an ECR lifecycle policy")
        }
        try policy.validate(source: source)
        return policy
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? "." + $0.stringValue }.joined().trimmingCharacters(in: CharacterSet(charactersIn: "."))
    }

    /// ECR's documented constraints: unique priorities; `tagged` needs one of
    /// `tagPrefixList`/`tagPatternList` (not both), `untagged`/`any` neither; at most four `*`
    /// per pattern; `imageCountMoreThan` without a unit, the `since…` types in days; the `any`
    /// rule (at most one) has the highest priority.
    public func validate(source: String = "lifecycle policy") throws {
        func fail(_ rule: Rule?, _ message: String) -> AWSError {
            .invalidRequest("\(source)\(rule.map { ": rule \($0.rulePriority)" } ?? ""): \(message)")
        }
        guard !rules.isEmpty else { throw fail(nil, "has no rules") }
        var priorities = Set<Int>()
        for rule in rules {
            guard rule.rulePriority >= 1 else { throw fail(rule, "rulePriority must be 1 or more") }
            guard priorities.insert(rule.rulePriority).inserted else { throw fail(rule, "rulePriority \(rule.rulePriority) is used twice; each rule needs its own") }
            let s = rule.selection
            let prefixes = s.tagPrefixList ?? [], patterns = s.tagPatternList ?? []
            switch s.tagStatus {
            case "tagged":
                if prefixes.isEmpty == patterns.isEmpty {
                    throw fail(rule, "a tagged rule needs tagPrefixList or tagPatternList (exactly one of them)")
                }
            case "untagged", "any":
                if !prefixes.isEmpty || !patterns.isEmpty { throw fail(rule, "an \(s.tagStatus) rule takes no tagPrefixList or tagPatternList") }
            default:
                throw fail(rule, "tagStatus must be tagged, untagged or any, not '\(s.tagStatus)'")
            }
            if let bad = patterns.first(where: { $0.filter { $0 == "*" }.count > 4 }) { throw fail(rule, "pattern '\(bad)' has more than four '*'") }
            if let bad = (prefixes + patterns).first(where: { $0.isEmpty }) { throw fail(rule, "empty tag prefix or pattern '\(bad)'") }
            switch s.countType {
            case "imageCountMoreThan":
                if s.countUnit != nil { throw fail(rule, "imageCountMoreThan takes no countUnit") }
            case "sinceImagePushed", "sinceImagePulled", "sinceImageTransitioned":
                if s.countUnit != "days" { throw fail(rule, "\(s.countType) needs countUnit \"days\"") }
            default:
                throw fail(rule, "countType must be imageCountMoreThan or sinceImagePushed, not '\(s.countType)'")
            }
            guard s.countNumber >= 1 else { throw fail(rule, "countNumber must be 1 or more") }
            guard ["expire", "transition"].contains(rule.action.type) else { throw fail(rule, "action type must be expire, not '\(rule.action.type)'") }
        }
        let any = rules.filter { $0.selection.tagStatus == "any" }
        if any.count > 1 { throw fail(nil, "only one rule may have tagStatus any") }
        if let last = any.first, rules.contains(where: { $0.rulePriority > last.rulePriority }) {
            throw fail(last, "the tagStatus any rule must have the highest rulePriority (ECR evaluates it last)")
        }
    }
}

/// The presets of `put-lifecycle-policy`, in the order given on the command line, each
/// group of adjacent flags (a prefix and one count, either order) one rule: `--keep-last N --tag-prefix release-`,
/// `--expire-tag-prefix feature- --after-days D`, `--expire-untagged-after-days D`,
/// `--expire-tag-prefix cache- --keep-last N`.
public enum ECRLifecyclePresets {
    public static let flags: Set<String> = ["--keep-last", "--tag-prefix", "--expire-tag-prefix", "--after-days", "--expire-untagged-after-days"]

    private struct Group {
        var selector: String?
        var keepLast: Int?
        var afterDays: Int?
        var isEmpty: Bool { selector == nil && keepLast == nil && afterDays == nil }
    }

    /// The policy the preset flags among `arguments` describe; nil when there are none.
    public static func policy(from arguments: [String]) throws -> ECRLifecyclePolicy? {
        var tokens: [(flag: String, value: String)] = []
        var i = 0
        while i < arguments.count {
            let argument = arguments[i]
            if argument == "--" { break }
            let (flag, inline) = argument.firstIndex(of: "=").map { (String(argument[..<$0]), Optional(String(argument[argument.index(after: $0)...]))) } ?? (argument, nil)
            if flags.contains(flag) {
                if let inline {
                    tokens.append((flag, inline))
                } else {
                    guard i + 1 < arguments.count else { throw AWSError.invalidRequest("\(flag) needs a value") }
                    tokens.append((flag, arguments[i + 1]))
                    i += 1
                }
            }
            i += 1
        }
        guard !tokens.isEmpty else { return nil }

        var rules: [(Rule, isAny: Bool)] = []
        var group = Group()
        func close() throws {
            defer { group = Group() }
            guard !group.isEmpty else { return }
            rules.append(try rule(group))
        }
        for (position, (flag, value)) in tokens.enumerated() {
            switch flag {
            case "--tag-prefix", "--expire-tag-prefix":
                // A prefix joins the count before it (`--keep-last 30 --tag-prefix release-`)
                // unless a count of its own follows (`--keep-last 100 --expire-tag-prefix x --after-days 7`).
                let next = position + 1 < tokens.count ? tokens[position + 1].flag : nil
                let countFollows = next == "--keep-last" || next == "--after-days"
                if group.selector != nil || (countFollows && (group.keepLast != nil || group.afterDays != nil)) { try close() }
                guard !value.isEmpty else { throw AWSError.invalidRequest("\(flag) needs a tag prefix (or a pattern with '*')") }
                group.selector = value
            case "--keep-last":
                if group.keepLast != nil || group.afterDays != nil { try close() }
                group.keepLast = try number(flag, value)
            case "--after-days":
                if group.keepLast != nil || group.afterDays != nil { try close() }
                group.afterDays = try number(flag, value)
            default: // --expire-untagged-after-days
                try close()
                let days = try number(flag, value)
                rules.append((Rule(description: "expire untagged images \(days) day\(days == 1 ? "" : "s") after they were pushed",
                                   selection: .init(tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: days)), false))
            }
        }
        try close()
        if rules.filter(\.isAny).count > 1 { throw AWSError.invalidRequest("--keep-last without a tag prefix (all images) may be given once") }
        let ordered = rules.filter { !$0.isAny } + rules.filter(\.isAny)
        let policy = ECRLifecyclePolicy(rules: ordered.enumerated().map { index, entry in
            ECRLifecyclePolicy.Rule(rulePriority: index + 1, description: entry.0.description, selection: entry.0.selection, action: .init(type: "expire"))
        })
        try policy.validate(source: "the preset flags")
        return policy
    }

    private struct Rule { var description: String; var selection: ECRLifecyclePolicy.Selection }

    private static func number(_ flag: String, _ value: String) throws -> Int {
        guard let n = Int(value), n >= 1 else { throw AWSError.invalidRequest("\(flag) needs a whole number of at least 1, not '\(value)'") }
        return n
    }

    /// A plain prefix becomes `tagPrefixList`; a value with `*` is a `tagPatternList` pattern.
    private static func rule(_ group: Group) throws -> (Rule, isAny: Bool) {
        guard group.keepLast != nil || group.afterDays != nil else {
            throw AWSError.invalidRequest("--tag-prefix/--expire-tag-prefix \(group.selector ?? "") needs --keep-last N or --after-days D next to it")
        }
        var selection = ECRLifecyclePolicy.Selection(tagStatus: "any", countType: "imageCountMoreThan", countNumber: 1)
        var what = "images"
        if let selector = group.selector {
            selection.tagStatus = "tagged"
            if selector.contains("*") {
                selection.tagPatternList = [selector]
                what = "images tagged \(selector)"
            } else {
                selection.tagPrefixList = [selector]
                what = "images tagged \(selector)*"
            }
        } else if group.afterDays != nil {
            throw AWSError.invalidRequest("--after-days needs --expire-tag-prefix PREFIX next to it (use --expire-untagged-after-days for untagged images)")
        }
        if let keep = group.keepLast {
            selection.countNumber = keep
            return (Rule(description: "keep the last \(keep) \(what)", selection: selection), group.selector == nil)
        }
        let days = group.afterDays ?? 1
        selection.countType = "sinceImagePushed"
        selection.countUnit = "days"
        selection.countNumber = days
        return (Rule(description: "expire \(what) \(days) day\(days == 1 ? "" : "s") after they were pushed", selection: selection), false)
    }
}

extension ECRClient {
    /// What GetLifecyclePolicy returns.
    public struct LifecyclePolicyRecord: Sendable, Hashable, Codable {
        public var registryId: String?
        public var repositoryName: String
        public var lifecyclePolicyText: String
        public var lastEvaluatedAt: Double?
    }

    /// PutLifecyclePolicy with the text as given.
    public func putLifecyclePolicy(_ repository: String, text: String, registryID: String? = nil, credentials: AWSCredentials) async throws {
        struct Input: Encodable { var repositoryName: String; var registryId: String?; var lifecyclePolicyText: String }
        struct Output: Decodable {}
        _ = try await rpc.call("PutLifecyclePolicy", Input(repositoryName: repository, registryId: registryID, lifecyclePolicyText: text),
                               as: Output.self, credentials: credentials)
    }

    /// GetLifecyclePolicy; nil when the repository has none (LifecyclePolicyNotFoundException).
    public func getLifecyclePolicy(_ repository: String, registryID: String? = nil, credentials: AWSCredentials) async throws -> LifecyclePolicyRecord? {
        struct Input: Encodable { var repositoryName: String; var registryId: String? }
        do {
            return try await rpc.call("GetLifecyclePolicy", Input(repositoryName: repository, registryId: registryID), as: LifecyclePolicyRecord.self, credentials: credentials)
        } catch let error as AWSError where error.code == "LifecyclePolicyNotFoundException" {
            return nil
        }
    }
}
