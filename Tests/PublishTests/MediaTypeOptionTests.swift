import Builder
import OCI
import XCTest
@testable import Publish

/// `oci-mediatypes=` on the outputs: OCI unless false is asked for; outputs must agree, as
/// the image is assembled once per build (as they must on `compression=`).
final class MediaTypeOptionTests: XCTestCase {
    func testTheOutputsChooseTheMediaTypesTogether() throws {
        func family(_ outputs: [String]) throws -> MediaTypeFamily {
            try BuildJob.mediaTypes(outputs: outputs.map(OutputSpec.parse))
        }
        XCTAssertEqual(try family([]), .oci)
        XCTAssertEqual(try family(["type=oci,dest=a.tar"]), .oci)
        XCTAssertEqual(try family(["type=oci,dest=a.tar,oci-mediatypes=true"]), .oci)
        XCTAssertEqual(try family(["type=oci,dest=a.tar,oci-mediatypes=false", "type=registry"]), .docker, "an output that does not say takes the other's")
        XCTAssertEqual(try family(["type=image,push=true,oci-mediatypes=false", "type=docker,dest=d.tar,oci-mediatypes=false"]), .docker)
        XCTAssertThrowsError(try family(["type=oci,dest=a.tar,oci-mediatypes=false", "type=registry,oci-mediatypes=true"])) { error in
            XCTAssertTrue("\(error)".contains("different media types"), "\(error)")
        }
    }

    func testLayerTypesConvertAsBuildKitConvertsThem() {
        XCTAssertEqual(MediaTypeFamily.docker.layer(MediaType.layerGzip), "application/vnd.docker.image.rootfs.diff.tar.gzip")
        XCTAssertEqual(MediaTypeFamily.docker.layer(MediaType.layerZstd), "application/vnd.docker.image.rootfs.diff.tar.zstd")
        XCTAssertEqual(MediaTypeFamily.docker.layer(MediaType.layerTar), "application/vnd.docker.image.rootfs.diff.tar")
        XCTAssertEqual(MediaTypeFamily.oci.layer("application/vnd.docker.image.rootfs.diff.tar.gzip"), MediaType.layerGzip)
        XCTAssertEqual(MediaTypeFamily.oci.layer("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"),
                       "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip")
        XCTAssertEqual(MediaTypeFamily.docker.layer("application/x-unknown"), "application/x-unknown", "an unknown type is kept")
        XCTAssertEqual(MediaTypeFamily.docker.manifest, "application/vnd.docker.distribution.manifest.v2+json")
        XCTAssertEqual(MediaTypeFamily.docker.index, "application/vnd.docker.distribution.manifest.list.v2+json")
        XCTAssertEqual(MediaTypeFamily.docker.config, "application/vnd.docker.container.image.v1+json")
    }
}
