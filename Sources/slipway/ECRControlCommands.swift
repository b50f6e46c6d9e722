import ArgumentParser

extension ECRCommand {
    /// The repository-control subcommands (issue 13), each in its own file.
    static let controls: [any ParsableCommand.Type] = [
        ECRPutImageTagMutability.self, ECRPutLifecyclePolicy.self, ECRGetLifecyclePolicy.self, ECRScanFindings.self,
        ECRListImages.self, ECRDeleteImages.self, ECRDescribeRepositories.self,
        ECRPutRegistryScanningConfiguration.self, ECRGetRegistryScanningConfiguration.self, ECRPutReplicationConfiguration.self,
    ]
}
