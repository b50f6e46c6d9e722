import ArgumentParser
import Foundation
import Publish

/// `--format text|json` of the `ecr` subcommands: text for people, JSON (the API's field
/// names, sorted keys) for scripts.
struct ECRFormatOption: ParsableArguments {
    @Option(help: "Output: text or json.")
    var format: String = "text"

    var isJSON: Bool { format == "json" }

    func validate() throws {
        guard ["text", "json"].contains(format) else { throw ValidationError("--format must be text or json") }
    }
}

extension Console {
    /// One JSON document on stdout.
    func json<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        result(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}

/// `--registry-id` of the repository commands.
struct ECRRegistryIDOption: ParsableArguments {
    @Option(name: .customLong("registry-id"), help: "The account that owns the registry (default: the caller's).")
    var registryID: String?
}

/// `--mutable-tag` / `--immutable-tag`: the exclusion filters of `…_WITH_EXCLUSION`.
struct TagExclusionOptions: ParsableArguments {
    @Option(name: .customLong("mutable-tag"), help: ArgumentHelp("A tag (wildcard * allowed) that stays mutable in an immutable repository: IMMUTABLE_WITH_EXCLUSION (repeatable, at most 5).", valueName: "pattern"))
    var mutableTags: [String] = []

    @Option(name: .customLong("immutable-tag"), help: ArgumentHelp("A tag (wildcard * allowed) that is immutable in a mutable repository: MUTABLE_WITH_EXCLUSION (repeatable, at most 5).", valueName: "pattern"))
    var immutableTags: [String] = []
}

/// `create-repository --format json`.
struct CreateRepositoryOutput: Encodable {
    struct Change: Encodable { var setting: String; var existing: String; var requested: String }
    var repositoryUri: String
    var existed: Bool
    var updated: [Change]

    init(_ outcome: ECRTasks.RepositoryOutcome) {
        repositoryUri = outcome.uri
        existed = outcome.existed
        updated = outcome.updated.map { Change(setting: $0.setting.rawValue, existing: $0.existing, requested: $0.requested) }
    }
}
