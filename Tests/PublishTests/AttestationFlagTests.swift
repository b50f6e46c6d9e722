import Builder
@testable import Publish
import XCTest

/// `--provenance`, `--sbom`, `--attest`, `--attest-mode` as buildx reads them (buildx's
/// `build.ParseAttests`/`canonicalizeAttest`: a bool, or csv key=value pairs), and buildx's
/// defaults: min provenance for image outputs and pushes, off with BUILDX_NO_DEFAULT_ATTESTATIONS.
final class AttestationFlagTests: XCTestCase {
    typealias Provenance = AttestationRequest.Provenance

    func testDefaultsFollowBuildx() throws {
        let none = AttestationFlags()
        XCTAssertEqual(try none.request(imageOutput: true, environment: [:])?.provenance, Provenance(mode: .min, version: .v02))
        XCTAssertNil(try none.request(imageOutput: false, environment: [:]), "type=docker / type=local: none by default")
        XCTAssertNil(try none.request(imageOutput: true, environment: ["BUILDX_NO_DEFAULT_ATTESTATIONS": "1"]))
        XCTAssertNil(try none.request(imageOutput: true, environment: ["BUILDX_NO_DEFAULT_ATTESTATIONS": "true"]))
        XCTAssertNotNil(try none.request(imageOutput: true, environment: ["BUILDX_NO_DEFAULT_ATTESTATIONS": "0"]))
        let sbom = try AttestationFlags(sbom: "true").request(imageOutput: true, environment: ["BUILDX_NO_DEFAULT_ATTESTATIONS": "1"])
        XCTAssertEqual(sbom?.sbom, true)
        XCTAssertNil(sbom?.provenance, "the variable only drops the default, not what was asked")
        XCTAssertEqual(try AttestationFlags(provenance: "true").request(imageOutput: false, environment: [:])?.provenance?.mode, .min,
                       "asked for explicitly, any image output gets it")
        XCTAssertEqual(try none.request(imageOutput: true, environment: ["BUILDX_GIT_INFO": "0"])?.gitInfo, false)
    }

    /// One row per spelling buildx accepts (or refuses), with what it means.
    func testSpellings() throws {
        // sbom nil: no attestations at all (the request is nil).
        let rows: [(flags: AttestationFlags, provenance: Provenance??, sbom: Bool?)] = [
            (AttestationFlags(provenance: "false"), .some(nil), nil),
            (AttestationFlags(provenance: "0"), .some(nil), nil),
            (AttestationFlags(provenance: "1"), Provenance(), false),
            (AttestationFlags(provenance: "mode=max"), Provenance(mode: .max), false),
            (AttestationFlags(provenance: "mode=min,version=v1"), Provenance(mode: .min, version: .v1), false),
            (AttestationFlags(provenance: "mode=max,builder-id=https://ci.example.com/run/1"), Provenance(mode: .max, builderID: "https://ci.example.com/run/1"), false),
            (AttestationFlags(provenance: "disabled=true"), .some(nil), nil),
            (AttestationFlags(sbom: "true"), Provenance(), true),
            (AttestationFlags(sbom: "false"), Provenance(), false),
            (AttestationFlags(sbom: "disabled=false"), Provenance(), true),
            (AttestationFlags(attest: ["type=provenance,mode=max,version=v1"]), Provenance(mode: .max, version: .v1), false),
            (AttestationFlags(attest: ["type=provenance,disabled=true"]), .some(nil), nil),
            (AttestationFlags(attest: ["type=sbom"]), Provenance(), true),
            (AttestationFlags(attest: ["type=sbom", "type=provenance,mode=max"]), Provenance(mode: .max), true),
            (AttestationFlags(provenance: "false", sbom: "false"), .some(nil), nil),
            (AttestationFlags(provenance: "false", sbom: "true"), .some(nil), true),
        ]
        for (flags, provenance, sbom) in rows {
            let request = try flags.request(imageOutput: true, environment: [:])
            if sbom == nil { XCTAssertNil(request, "\(flags)"); continue }
            XCTAssertEqual(request?.provenance, provenance ?? nil, "\(flags)")
            XCTAssertEqual(request?.sbom, sbom, "\(flags)")
        }
        XCTAssertEqual(try AttestationFlags(mode: "referrers").request(imageOutput: true, environment: [:])?.storage, .referrers)
        XCTAssertEqual(try AttestationFlags().request(imageOutput: true, environment: [:])?.storage, .index)
    }

    func testRefusalsNameTheProblem() {
        let rows: [(AttestationFlags, String)] = [
            (AttestationFlags(provenance: "max"), "key=value"),
            (AttestationFlags(provenance: "mode=full"), "mode=min or mode=max"),
            (AttestationFlags(provenance: "version=v0.3"), "version=v1"),
            (AttestationFlags(provenance: "mode=max,secret=x"), "unknown provenance key 'secret'"),
            (AttestationFlags(sbom: "generator=docker/buildkit-syft-scanner"), "cannot run a scanner image"),
            (AttestationFlags(attest: ["type=vuln"]), "type=vuln is not supported"),
            (AttestationFlags(attest: ["mode=max"]), "missing type="),
            (AttestationFlags(mode: "inline"), "--attest-mode=inline"),
        ]
        for (flags, expected) in rows {
            XCTAssertThrowsError(try flags.request(imageOutput: true, environment: [:]), "\(flags)") { error in
                XCTAssertTrue("\(error)".contains(expected), "\(flags): \(error)")
            }
        }
    }
}
