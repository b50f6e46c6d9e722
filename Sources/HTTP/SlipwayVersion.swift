/// The version slipway reports (`--version`, `User-Agent: slipway/VERSION`), defined in the
/// lowest module so the builder, the registry client and the command line agree.
public enum SlipwayVersion {
    public static let current = "0.2.0"
}
