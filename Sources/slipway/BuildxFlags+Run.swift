import ArgumentParser
import Builder
import Foundation

extension BuildxFlags {
    /// `--allow` and `--network` as buildx reads them (`--allow a,b` or repeated).
    func runSettings() throws -> RunSettings {
        let granted = Set(allow.flatMap { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } })
        for entitlement in granted where entitlement != "network.host" && entitlement != "security.insecure" {
            throw ValidationError("--allow: unknown entitlement '\(entitlement)' (network.host or security.insecure)")
        }
        if granted.contains("security.insecure") {
            throw ValidationError("--allow security.insecure: slipway's RUN sandbox has no privileged mode")
        }
        if let network, !["default", "none", "host"].contains(network) {
            throw ValidationError("--network: unknown mode '\(network)' (default, none or host)")
        }
        var settings = RunSettings(allow: granted, network: network)
        do { settings.secrets = try RunSecrets.parse(secret) } catch let error as BuildError {
            throw ValidationError(error.message)
        }
        return settings
    }
}
