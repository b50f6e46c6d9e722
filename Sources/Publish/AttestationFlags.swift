import Builder
import Foundation

/// buildx's attestation flags as typed (`--provenance`, `--sbom`, `--attest`) plus slipway's
/// `--attest-mode`, turned into the build's `AttestationRequest` with buildx's defaults:
/// min provenance for image outputs and pushes (`type=oci`, `type=registry`, `--push`), none
/// for `type=docker`/`type=local` alone, none at all with `BUILDX_NO_DEFAULT_ATTESTATIONS=1`.
public struct AttestationFlags: Sendable, Equatable {
    public var provenance: String?
    public var sbom: String?
    public var attest: [String]
    public var mode: String?

    public init(provenance: String? = nil, sbom: String? = nil, attest: [String] = [], mode: String? = nil) {
        self.provenance = provenance
        self.sbom = sbom
        self.attest = attest
        self.mode = mode
    }

    /// nil: no attestations. `imageOutput`: the build writes an OCI layout or pushes.
    public func request(imageOutput: Bool, environment: [String: String]) throws -> AttestationRequest? {
        var provenance: AttestationRequest.Provenance??   // nil: not asked; .some(nil): disabled
        var sbom: Bool?
        if let value = self.provenance { provenance = .some(try Self.provenance("--provenance", value)) }
        if let value = self.sbom { sbom = try Self.sbom("--sbom", value) }
        for spec in attest {
            let fields = try Self.fields("--attest", spec)
            switch fields["type"] {
            case "provenance":
                var rest = fields
                rest["type"] = nil
                provenance = .some(try Self.provenance(fields: rest, flag: "--attest"))
            case "sbom":
                var rest = fields
                rest["type"] = nil
                sbom = try Self.sbom(fields: rest, flag: "--attest")
            case nil:
                throw PublishError.invalidArgument("--attest '\(spec)': missing type= (provenance or sbom)")
            case let other?:
                throw PublishError.invalidArgument("--attest type=\(other) is not supported; slipway writes type=provenance and type=sbom")
            }
        }
        let storage: AttestationRequest.Storage
        switch mode {
        case nil, "index": storage = .index
        case "referrers": storage = .referrers
        case let other?: throw PublishError.invalidArgument("--attest-mode=\(other): use index (BuildKit's attestation manifests in the image index) or referrers (OCI 1.1 referrers beside the image)")
        }
        let defaults = imageOutput && !Self.isTrue(environment["BUILDX_NO_DEFAULT_ATTESTATIONS"])
        let chosenProvenance: AttestationRequest.Provenance? = provenance ?? (defaults ? AttestationRequest.Provenance() : nil)
        let request = AttestationRequest(provenance: chosenProvenance, sbom: sbom ?? false, storage: storage,
                                         gitInfo: environment["BUILDX_GIT_INFO"].map { Self.isTrue($0) } ?? true,
                                         gitCheckDirty: Self.isTrue(environment["BUILDX_GIT_CHECK_DIRTY"]))
        return request.isEmpty ? nil : request
    }

    /// Go's strconv.ParseBool, as buildx reads its environment variables.
    static func isTrue(_ value: String?) -> Bool {
        guard let value else { return false }
        return ["1", "t", "T", "TRUE", "true", "True"].contains(value)
    }

    /// Go's strconv.ParseBool spellings (buildx parses flag values with it).
    public static func bool(_ value: String) -> Bool? {
        if ["1", "t", "T", "TRUE", "true", "True"].contains(value) { return true }
        if ["0", "f", "F", "FALSE", "false", "False"].contains(value) { return false }
        return nil
    }

    /// `key=value,…` (as buildx's csv): duplicate keys take the last value.
    static func fields(_ flag: String, _ text: String) throws -> [String: String] {
        var result: [String: String] = [:]
        for part in text.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, !pair[0].isEmpty else {
                throw PublishError.invalidArgument("\(flag) '\(text)': expected key=value pairs such as mode=max,version=v1")
            }
            result[pair[0]] = pair[1]
        }
        return result
    }

    /// `--provenance=true|false|mode=min|mode=max[,version=v0.2|v1][,builder-id=URI]`.
    static func provenance(_ flag: String, _ value: String) throws -> AttestationRequest.Provenance? {
        if let enabled = bool(value) { return enabled ? AttestationRequest.Provenance() : nil }
        return try provenance(fields: fields(flag, value), flag: flag)
    }

    static func provenance(fields: [String: String], flag: String) throws -> AttestationRequest.Provenance? {
        var result = AttestationRequest.Provenance()
        for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
            switch key {
            case "disabled":
                guard let disabled = bool(value) else { throw PublishError.invalidArgument("\(flag) disabled=\(value): expected true or false") }
                if disabled { return nil }
            case "mode":
                guard let mode = AttestationRequest.ProvenanceMode(rawValue: value) else {
                    throw PublishError.invalidArgument("\(flag) mode=\(value): use mode=min or mode=max")
                }
                result.mode = mode
            case "version":
                guard let version = AttestationRequest.ProvenanceVersion(rawValue: value) else {
                    throw PublishError.invalidArgument("\(flag) version=\(value): use version=v0.2 (the default) or version=v1")
                }
                result.version = version
            case "builder-id":
                result.builderID = value
            case "reproducible":
                guard bool(value) == true else {
                    throw PublishError.invalidArgument("\(flag) reproducible=\(value): slipway's builds are always reproducible (metadata.reproducible is true)")
                }
            default:
                throw PublishError.invalidArgument("\(flag): unknown provenance key '\(key)'; known keys: mode, version, builder-id, disabled, reproducible")
            }
        }
        return result
    }

    /// `--sbom=true|false` (or `disabled=BOOL`); a `generator=` image is refused: slipway has
    /// no RUN to run one and scans the layers itself.
    static func sbom(_ flag: String, _ value: String) throws -> Bool {
        if let enabled = bool(value) { return enabled }
        return try sbom(fields: fields(flag, value), flag: flag)
    }

    static func sbom(fields: [String: String], flag: String) throws -> Bool {
        var enabled = true
        for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
            switch key {
            case "disabled":
                guard let disabled = bool(value) else { throw PublishError.invalidArgument("\(flag) disabled=\(value): expected true or false") }
                enabled = !disabled
            case "generator":
                throw PublishError.invalidArgument("\(flag) generator=\(value): slipway cannot run a scanner image (no RUN); it writes its own SPDX SBOM from the layers — drop generator=")
            case "scan-context", "scan-stage":
                throw PublishError.invalidArgument("\(flag) \(key)=\(value): slipway scans the final image only")
            default:
                throw PublishError.invalidArgument("\(flag): unknown sbom key '\(key)'; known keys: disabled")
            }
        }
        return enabled
    }
}
