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
