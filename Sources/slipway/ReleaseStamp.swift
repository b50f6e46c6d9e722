/// What `scripts/release` writes into its staged copy of the sources before building: the
/// commit and toolchain of the release. A plain `swift build` keeps the nils, and
/// `slipway version` reports a development build.
enum ReleaseStamp {
    static let commit: String? = nil
    static let toolchain: String? = nil
}
