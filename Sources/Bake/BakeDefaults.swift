/// buildx's defaults for `bake` without `-f`.
public enum BakeDefaults {
    /// The files read when none are given, in the order they are merged (buildx's
    /// `defaultFilenames`: compose-go's default names, then the bake files and their overrides).
    public static let files = ["compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml",
                               "docker-bake.json", "docker-bake.hcl", "docker-bake.override.json", "docker-bake.override.hcl"]
}
