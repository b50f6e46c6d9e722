/// The image configuration (OCI image-spec `config.json`, which Docker shares), with every
/// field Docker writes so nothing inherited from a base image is dropped.
public struct ImageConfig: Sendable, Hashable, Codable {
    public var created: String?
    public var author: String?
    public var architecture: String
    public var os: String
    public var variant: String?
    public var osVersion: String?
    public var osFeatures: [String]?
    public var config: ContainerConfig?
    public var rootfs: RootFS
    public var history: [History]?

    enum CodingKeys: String, CodingKey {
        case created, author, architecture, os, variant, config, rootfs, history
        case osVersion = "os.version"
        case osFeatures = "os.features"
    }

    public init(platform: Platform) {
        architecture = platform.architecture
        os = platform.os
        variant = platform.variant
        config = ContainerConfig()
        rootfs = RootFS(diffIDs: [])
        history = []
    }

    public var platform: Platform {
        var p = Platform(os: os, architecture: architecture, variant: variant)
        p.osVersion = osVersion
        p.osFeatures = osFeatures
        return p
    }
}

/// The runtime defaults of a container (`config` in the image config). Keys keep Docker's
/// capitalised names.
public struct ContainerConfig: Sendable, Hashable, Codable {
    public var user: String?
    public var exposedPorts: [String: EmptyObject]?
    public var env: [String]?
    public var entrypoint: [String]?
    public var cmd: [String]?
    public var volumes: [String: EmptyObject]?
    public var workingDir: String?
    public var labels: [String: String]?
    public var stopSignal: String?
    public var onBuild: [String]?
    public var shell: [String]?
    public var healthcheck: HealthConfig?
    public var argsEscaped: Bool?

    enum CodingKeys: String, CodingKey {
        case user = "User", exposedPorts = "ExposedPorts", env = "Env", entrypoint = "Entrypoint", cmd = "Cmd"
        case volumes = "Volumes", workingDir = "WorkingDir", labels = "Labels", stopSignal = "StopSignal"
        case onBuild = "OnBuild", shell = "Shell", healthcheck = "Healthcheck", argsEscaped = "ArgsEscaped"
    }

    public init() {}
}

/// Docker's health check settings; durations in nanoseconds as Docker stores them.
public struct HealthConfig: Sendable, Hashable, Codable {
    public var test: [String]?
    public var interval: Int64?
    public var timeout: Int64?
    public var startPeriod: Int64?
    public var startInterval: Int64?
    public var retries: Int?

    enum CodingKeys: String, CodingKey {
        case test = "Test", interval = "Interval", timeout = "Timeout", startPeriod = "StartPeriod"
        case startInterval = "StartInterval", retries = "Retries"
    }

    public init(test: [String]?) { self.test = test }
}

/// `{}`: the value type of `ExposedPorts` and `Volumes` maps.
public struct EmptyObject: Sendable, Hashable, Codable {
    public init() {}
}

public struct RootFS: Sendable, Hashable, Codable {
    public var type: String
    public var diffIDs: [Digest]

    enum CodingKeys: String, CodingKey {
        case type
        case diffIDs = "diff_ids"
    }

    public init(diffIDs: [Digest]) {
        type = "layers"
        self.diffIDs = diffIDs
    }
}

public struct History: Sendable, Hashable, Codable {
    public var created: String?
    public var createdBy: String?
    public var author: String?
    public var comment: String?
    public var emptyLayer: Bool?

    enum CodingKeys: String, CodingKey {
        case created, author, comment
        case createdBy = "created_by"
        case emptyLayer = "empty_layer"
    }

    public init(created: String?, createdBy: String?, comment: String? = nil, emptyLayer: Bool? = nil) {
        self.created = created
        self.createdBy = createdBy
        self.comment = comment
        self.emptyLayer = emptyLayer
    }
}
