import AWS
import ArgumentParser
import Foundation
import Publish

/// `slipway ecr get-registry-scanning-configuration`.
struct ECRGetRegistryScanningConfiguration: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get-registry-scanning-configuration",
        abstract: "Show the registry's scanning type and rules.",
        usage: "slipway ecr get-registry-scanning-configuration [<options>]",
        discussion: """
        Examples:
          slipway ecr get-registry-scanning-configuration --format json
        """
    )

    @OptionGroup var output: ECRFormatOption
    @OptionGroup var aws: AWSOptions

    func run() async throws {
        try await Console.run(mode: "plain") { console in
            let current = try await aws.tasks(console: console).registryScanningConfiguration()
            if output.isJSON {
                struct Out: Encodable { var scanningConfiguration: ECRRegistryScanningConfiguration }
                return try console.json(Out(scanningConfiguration: current))
            }
            console.result("scan type: \(current.scanType)")
            for rule in current.rules { console.result("  \(rule.scanFrequency): \(rule.repositoryFilters.map(\.filter).joined(separator: ", "))") }
            if current.rules.isEmpty { console.result("  no rules") }
        }
    }
}
