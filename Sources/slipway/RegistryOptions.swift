import ArgumentParser
import Foundation
import Publish

/// The registry flags of the commands that push (`build`, `push`, `copy`): the transport, the
/// AWS profile for ECR hosts, and the upload settings. `inspect` takes `RegistryReadOptions`
/// and `login` `TransportOptions`, so each lists only the flags it uses.
struct RegistryOptions: ParsableArguments {
    @OptionGroup var read: RegistryReadOptions

    @OptionGroup var upload: UploadOptions

    /// The workflows' view of these flags; `cacheDir` is the command's `--cache-dir`, if it has one.
    func settings(console: Console, cacheDir: String? = nil) throws -> RegistrySettings {
        var settings = try read.settings(console: console, cacheDir: cacheDir)
        try upload.apply(to: &settings)
        return settings
    }
}
