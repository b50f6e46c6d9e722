import Foundation

/// An image platform, normalised the way containerd does so that `arm64` and `aarch64`
/// name the same thing and `arm64/v8` equals `arm64`.
public struct Platform: Sendable, Hashable, Codable, CustomStringConvertible {
    public var os: String
    public var architecture: String
    public var variant: String?
    public var osVersion: String?
    public var osFeatures: [String]?

    enum CodingKeys: String, CodingKey {
        case os, architecture, variant
        case osVersion = "os.version"
        case osFeatures = "os.features"
    }

    public init(os: String, architecture: String, variant: String? = nil) {
        self.os = os
        self.architecture = architecture
        self.variant = variant
        normalize()
    }

    /// Parses `os/arch[/variant]` (also a bare `arch`, meaning linux).
    public init(parsing text: String) throws {
        let parts = text.lowercased().split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard (1...3).contains(parts.count), parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." } }) else {
            throw OCIError.invalidPlatform(text)
        }
        if parts.count == 1 {
            if Platform.knownOS.contains(parts[0]) {
                self.init(os: parts[0], architecture: Platform.host.architecture, variant: Platform.host.variant)
            } else {
                self.init(os: "linux", architecture: parts[0])
            }
        } else {
            self.init(os: parts[0], architecture: parts[1], variant: parts.count == 3 ? parts[2] : nil)
        }
    }

    static let knownOS: Set<String> = ["linux", "windows", "darwin", "freebsd"]

    private mutating func normalize() {
        os = os.lowercased()
        switch architecture.lowercased() {
        case "x86_64", "x86-64", "amd64": architecture = "amd64"; if variant == "v1" { variant = nil }
        case "aarch64", "arm64":
            architecture = "arm64"
            if variant == "v8" || variant == "8" { variant = nil }
        case "armhf": architecture = "arm"; variant = variant ?? "v7"
        case "armel": architecture = "arm"; variant = variant ?? "v6"
        case "arm":
            architecture = "arm"
            if let v = variant, !v.hasPrefix("v") { variant = "v" + v }
            if variant == nil { variant = "v7" }
        case "i386", "i686", "386": architecture = "386"
        default: architecture = architecture.lowercased()
        }
    }

    /// `linux/arm64`, `linux/arm/v7`.
    public var description: String {
        [os, architecture, variant].compactMap { $0 }.joined(separator: "/")
    }

    /// The directory name buildx uses for one platform of a local export (`linux_amd64`).
    public var directoryName: String { description.replacingOccurrences(of: "/", with: "_") }

    /// Whether an index entry serves this wanted platform: an entry with no variant matches
    /// as containerd does (for arm64 variant v8 is the default).
    public func matches(_ candidate: Platform) -> Bool {
        guard os == candidate.os, architecture == candidate.architecture else { return false }
        if variant == candidate.variant { return true }
        return candidate.variant == nil && (architecture == "arm64" || variant == nil)
    }

    /// The platform of the machine slipway runs on.
    public static var host: Platform {
        #if arch(x86_64)
        return Platform(os: "linux", architecture: "amd64")
        #elseif arch(arm64)
        return Platform(os: "linux", architecture: "arm64")
        #else
        return Platform(os: "linux", architecture: "unknown")
        #endif
    }
}
