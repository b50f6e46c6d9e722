import Bake
import XCTest

/// What the ported buildx tests call: buildx's `ReadTargets` and `ParseFiles`.
enum Bakefile {
    static func plan(_ files: [(String, String)], _ targets: [String], _ overrides: [String] = [],
                     environment: [String: String] = [:]) throws -> BakePlan {
        let config = try read(files, environment: environment)
        return try BakeResolver(config: config, environment: environment).resolve(targets, overrides: overrides)
    }

    static func plan(_ hcl: String, _ targets: [String], _ overrides: [String] = [], environment: [String: String] = [:]) throws -> BakePlan {
        try plan([("docker-bake.hcl", hcl)], targets, overrides, environment: environment)
    }

    static func read(_ files: [(String, String)], environment: [String: String] = [:]) throws -> BakeConfig {
        try BakeFileReader.read(files.map { BakeFile(name: $0.0, text: $0.1) }, environment: environment)
    }

    static func read(_ text: String, name: String = "docker-bake.hcl", environment: [String: String] = [:]) throws -> BakeConfig {
        try read([(name, text)], environment: environment)
    }

    /// buildx's `stringify`: each entry's CSV form, sorted.
    static func strings(_ entries: [BakeEntry]?) -> [String] { (entries ?? []).map(\.flagText).sorted() }

    static func error(_ body: () throws -> Any) -> String {
        do { _ = try body(); return "" } catch { return "\(error)" }
    }
}
