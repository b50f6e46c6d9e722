import AWS
import Foundation
import XCTest

/// The lifecycle presets become ECR's JSON (priorities in order given, the `any` rule last,
/// tagPrefixList for a prefix and tagPatternList for a pattern), and policies that ECR would
/// refuse are refused here first, naming the rule.
final class ECRLifecyclePolicyTests: XCTestCase {
    private func rules(_ arguments: [String]) throws -> [[String: Any]] {
        let policy = try XCTUnwrap(try ECRLifecyclePresets.policy(from: ["ecr", "put-lifecycle-policy", "app"] + arguments))
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(policy.json().utf8)) as? [String: Any])
        return try XCTUnwrap(json["rules"] as? [[String: Any]])
    }

    private func selection(_ rule: [String: Any]) -> [String: Any] { rule["selection"] as? [String: Any] ?? [:] }

    func testTheIssuesFourPresetsCombineInTheOrderGiven() throws {
        let r = try rules(["--keep-last", "30", "--tag-prefix", "release-", "--expire-tag-prefix", "feature-", "--after-days", "14",
                           "--expire-untagged-after-days", "1", "--expire-tag-prefix=cache-", "--keep-last=5", "--region", "us-east-1"])
        XCTAssertEqual(r.map { $0["rulePriority"] as? Int }, [1, 2, 3, 4])
        XCTAssertEqual(r.map { selection($0)["tagStatus"] as? String }, ["tagged", "tagged", "untagged", "tagged"])
        XCTAssertEqual(selection(r[0])["tagPrefixList"] as? [String], ["release-"])
        XCTAssertEqual(selection(r[0])["countType"] as? String, "imageCountMoreThan")
        XCTAssertEqual(selection(r[0])["countNumber"] as? Int, 30)
        XCTAssertNil(selection(r[0])["countUnit"], "imageCountMoreThan takes no unit")
        XCTAssertEqual(selection(r[1])["countType"] as? String, "sinceImagePushed")
        XCTAssertEqual(selection(r[1])["countUnit"] as? String, "days")
        XCTAssertEqual(selection(r[1])["countNumber"] as? Int, 14)
        XCTAssertNil(selection(r[2])["tagPrefixList"], "an untagged rule has no tag list")
        XCTAssertEqual(selection(r[3])["tagPrefixList"] as? [String], ["cache-"])
        XCTAssertEqual(selection(r[3])["countNumber"] as? Int, 5)
        XCTAssertEqual(r.map { ($0["action"] as? [String: Any])?["type"] as? String }, Array(repeating: "expire", count: 4))
    }

    func testAPatternBecomesTagPatternListAndKeepLastForAllComesLast() throws {
        let r = try rules(["--keep-last", "100", "--expire-tag-prefix", "v*-rc*", "--after-days", "7"])
        XCTAssertEqual(selection(r[0])["tagPatternList"] as? [String], ["v*-rc*"])
        XCTAssertNil(selection(r[0])["tagPrefixList"])
        XCTAssertEqual(selection(r[1])["tagStatus"] as? String, "any", "keep-last without a prefix covers all images")
        XCTAssertEqual(r.map { $0["rulePriority"] as? Int }, [1, 2], "the any rule has the highest priority")
    }

    func testPresetMistakesAreRefusedWithTheReason() {
        let cases: [([String], String)] = [
            (["--tag-prefix", "release-"], "needs --keep-last N or --after-days D"),
            (["--after-days", "3"], "--after-days needs --expire-tag-prefix"),
            (["--keep-last", "0", "--tag-prefix", "x"], "at least 1"),
            (["--keep-last", "3", "--keep-last", "4"], "may be given once"),
            (["--expire-tag-prefix", "a*b*c*d*e*f", "--after-days", "1"], "more than four '*'"),
        ]
        for (arguments, expected) in cases {
            XCTAssertThrowsError(try ECRLifecyclePresets.policy(from: arguments), "\(arguments)") { error in
                XCTAssertTrue("\(error)".contains(expected), "\(arguments): \(error)")
            }
        }
        XCTAssertNil(try ECRLifecyclePresets.policy(from: ["--region", "x"]), "no presets: nil")
    }

    /// Policy files: what ECR's lifecycle documentation forbids, one row each.
    func testPolicyFilesAreCheckedAgainstECRsRules() {
        func rule(_ priority: Int, _ selection: String, action: String = "expire") -> String {
            #"{"rulePriority":\#(priority),"selection":\#(selection),"action":{"type":"\#(action)"}}"#
        }
        let count = #""countType":"imageCountMoreThan","countNumber":3"#
        let cases: [(String, String?)] = [
            (#"{"rules":[\#(rule(1, #"{"tagStatus":"tagged","tagPrefixList":["r"],\#(count)}"#))]}"#, nil),
            (#"{"rules":[\#(rule(1, #"{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":1}"#))]}"#, nil),
            ("not json", "not valid JSON"),
            (#"{"rules":[]}"#, "has no rules"),
            (#"{"rules":[{"selection":{}}]}"#, "rules[0].rulePriority is missing"),
            (#"{"rules":[\#(rule(1, #"{"tagStatus":"tagged",\#(count)}"#))]}"#, "rule 1: a tagged rule needs tagPrefixList or tagPatternList"),
            (#"{"rules":[\#(rule(1, #"{"tagStatus":"tagged","tagPrefixList":["a"],"tagPatternList":["b*"],\#(count)}"#))]}"#, "exactly one of them"),
            (#"{"rules":[\#(rule(1, #"{"tagStatus":"untagged","tagPrefixList":["a"],\#(count)}"#))]}"#, "takes no tagPrefixList"),
            (#"{"rules":[\#(rule(1, #"{"tagStatus":"any",\#(count)}"#)),\#(rule(2, #"{"tagStatus":"untagged",\#(count)}"#))]}"#, "must have the highest rulePriority"),
            (#"{"rules":[\#(rule(1, #"{"tagStatus":"untagged",\#(count)}"#)),\#(rule(1, #"{"tagStatus":"untagged",\#(count)}"#))]}"#, "used twice"),
            (#"{"rules":[\#(rule(1, #"{"tagStatus":"untagged","countType":"sinceImagePushed","countNumber":1}"#))]}"#, "needs countUnit \"days\""),
            (#"{"rules":[\#(rule(1, #"{"tagStatus":"untagged","countType":"imageCountMoreThan","countUnit":"days","countNumber":1}"#))]}"#, "takes no countUnit"),
            (#"{"rules":[\#(rule(1, #"{"tagStatus":"untagged",\#(count)}"#, action: "delete"))]}"#, "action type must be expire"),
            (#"{"rules":[\#(rule(1, #"{"tagStatus":"sometimes",\#(count)}"#))]}"#, "tagStatus must be tagged, untagged or any"),
        ]
        for (text, expected) in cases {
            if let expected {
                XCTAssertThrowsError(try ECRLifecyclePolicy.parse(text, source: "p.json"), text) { error in
                    XCTAssertTrue("\(error)".hasPrefix("p.json") && "\(error)".contains(expected), "\(text): \(error)")
                }
            } else {
                XCTAssertNoThrow(try ECRLifecyclePolicy.parse(text, source: "p.json"), text)
            }
        }
    }
}

/// Tag-mutability exclusions as ECR defines them: WILDCARD filters, at most five.
final class ECRTagExclusionTests: XCTestCase {
    private func repository(_ mode: String, _ filters: [String]) throws -> ECRRepository {
        let json: [String: Any] = ["repositoryName": "app", "imageTagMutability": mode,
                                   "imageTagMutabilityExclusionFilters": filters.map { ["filterType": "WILDCARD", "filter": $0] }]
        return try JSONDecoder().decode(ECRRepository.self, from: JSONSerialization.data(withJSONObject: json))
    }

    func testWhichTagsMayMove() throws {
        let immutable = try repository("IMMUTABLE_WITH_EXCLUSION", ["latest", "dev-*"])
        XCTAssertFalse(immutable.isImmutable(tag: "latest"))
        XCTAssertFalse(immutable.isImmutable(tag: "dev-1234"))
        XCTAssertTrue(immutable.isImmutable(tag: "1.4.0"))
        XCTAssertTrue(immutable.isImmutable(tag: "latest2"), "a filter matches the whole tag")
        XCTAssertTrue(immutable.isImmutable(tag: "xdev-1"))
        let mutable = try repository("MUTABLE_WITH_EXCLUSION", ["v*"])
        XCTAssertTrue(mutable.isImmutable(tag: "v1.0"))
        XCTAssertFalse(mutable.isImmutable(tag: "latest"))
        XCTAssertTrue(try repository("IMMUTABLE", []).isImmutable(tag: "latest"))
        XCTAssertFalse(try repository("MUTABLE", []).isImmutable(tag: "1.0"))
        XCTAssertEqual(immutable.mutabilityDescription, "IMMUTABLE_WITH_EXCLUSION (mutable: latest, dev-*)")
    }

    func testWildcards() {
        let cases: [(String, String, Bool)] = [("*", "", true), ("*", "abc", true), ("a*c", "abc", true), ("a*c", "ac", true), ("a*c", "abd", false),
                                               ("*-rc*", "v1-rc2", true), ("*-rc*", "v1rc2", false), ("a**b", "ab", true), ("abc", "ab", false)]
        for (pattern, text, expected) in cases { XCTAssertEqual(Wildcard.matches(pattern, text), expected, "\(pattern) ~ \(text)") }
    }

    func testFlagsResolveToTheExclusionForms() throws {
        var (mode, filters) = try ECRRepositorySettings.tagMutability(nil, mutableTags: ["latest", "dev-*", "latest"], immutableTags: [])
        XCTAssertEqual(mode, .immutableWithExclusion)
        XCTAssertEqual(filters, ["latest", "dev-*"])
        (mode, filters) = try ECRRepositorySettings.tagMutability("IMMUTABLE", mutableTags: ["latest"], immutableTags: [])
        XCTAssertEqual(mode, .immutableWithExclusion)
        (mode, _) = try ECRRepositorySettings.tagMutability("mutable", mutableTags: [], immutableTags: ["v*"])
        XCTAssertEqual(mode, .mutableWithExclusion)
        let refused: [(String?, [String], [String], String)] = [
            ("MUTABLE", ["latest"], [], "does not go with"),
            (nil, ["a"], ["b"], "not both"),
            ("IMMUTABLE_WITH_EXCLUSION", [], [], "needs its exceptions"),
            (nil, ["a", "b", "c", "d", "e", "f"], [], "at most 5"),
            (nil, ["dev/x"], [], "may hold only"),
            ("SOMETIMES", [], [], "must be MUTABLE, IMMUTABLE"),
        ]
        for (m, mutableTags, immutableTags, expected) in refused {
            XCTAssertThrowsError(try ECRRepositorySettings.tagMutability(m, mutableTags: mutableTags, immutableTags: immutableTags)) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(error)")
            }
        }
    }

    func testExclusionsAreComparedByIfNotExists() throws {
        let existing = try repository("IMMUTABLE_WITH_EXCLUSION", ["latest"])
        var wanted = ECRRepositorySettings(mutability: .immutableWithExclusion)
        wanted.mutabilityExclusions = ["latest"]
        XCTAssertEqual(wanted.differences(from: existing), [])
        wanted.mutabilityExclusions = ["latest", "dev-*"]
        XCTAssertEqual(wanted.differences(from: existing).map(\.description),
                       ["image tag mutability is IMMUTABLE_WITH_EXCLUSION (mutable: latest), requested IMMUTABLE_WITH_EXCLUSION (mutable: latest, dev-*)"])
        XCTAssertEqual(ECRRepositorySettings(mutability: .immutable).differences(from: existing).count, 1, "IMMUTABLE is not IMMUTABLE_WITH_EXCLUSION")
    }
}
