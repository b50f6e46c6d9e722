import Foundation

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
