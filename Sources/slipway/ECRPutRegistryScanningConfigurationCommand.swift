import AWS
import ArgumentParser
import Foundation
import Publish

/// `slipway ecr put-registry-scanning-configuration`: basic or enhanced scanning, with rules.
struct ECRPutRegistryScanningConfiguration: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "put-registry-scanning-configuration",
        abstract: "Set the registry's scanning, --enhanced or --basic, per repository.",
        usage: "slipway ecr put-registry-scanning-configuration [<options>]",
        discussion: """
        Filters are ECR's wildcard repository filters. Sent only when the registry's
        configuration differs (rule order aside).

        Examples:
          slipway ecr put-registry-scanning-configuration --enhanced \\
              --continuous 'prod/*' --on-push '*'
          slipway ecr put-registry-scanning-configuration --basic --on-push '*'
        """
    )

    @Flag(help: "Enhanced scanning (Amazon Inspector): OS and language packages, continuous rescans.")
    var enhanced = false

    @Flag(help: "Basic scanning (ECR's own, on push or manual).")
    var basic = false

    @Option(help: ArgumentHelp("Repositories rescanned continuously (enhanced only; repeatable).", valueName: "filter"))
    var continuous: [String] = []

    @Option(name: .customLong("on-push"), help: ArgumentHelp("Repositories scanned on push (repeatable).", valueName: "filter"))
    var onPush: [String] = []

    @OptionGroup var output: ECRFormatOption
    @OptionGroup var aws: AWSOptions

    func configuration() throws -> ECRRegistryScanningConfiguration {
        try validating { try ECRTasks.registryScanning(enhanced: enhanced, basic: basic, continuous: continuous, onPush: onPush) }
    }

    func validate() throws { _ = try configuration() }

    func run() async throws {
        try await Console.run(mode: "plain") { console in
            let wanted = try configuration()
            let (changed, before) = try await aws.tasks(console: console).putRegistryScanningConfiguration(wanted)
            if output.isJSON {
                struct Out: Encodable { var changed: Bool; var before: ECRRegistryScanningConfiguration; var scanningConfiguration: ECRRegistryScanningConfiguration }
                return try console.json(Out(changed: changed, before: before, scanningConfiguration: wanted))
            }
            console.result(changed ? "registry scanning set: \(RegistryScanningText.describe(wanted))"
                                   : "registry scanning already \(RegistryScanningText.describe(wanted)): unchanged")
        }
    }
}

enum RegistryScanningText {
    static func describe(_ c: ECRRegistryScanningConfiguration) -> String {
        ([c.scanType] + c.rules.map { "\($0.scanFrequency) \($0.repositoryFilters.map(\.filter).joined(separator: ","))" }).joined(separator: "; ")
    }
}
