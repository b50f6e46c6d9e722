import CArchive
import CZlib
import CZstd

extension LayerWriter {
    /// The versions of the linked libraries whose output makes up a layer's bytes (tar
    /// headers, deflate, zstd): part of the layer cache's key, so a blob written by another
    /// build of these libraries is never taken for this one's.
    public static var writerIdentity: String {
        "libarchive \(archive_version_number()) zlib \(String(cString: zlibVersion())) zstd \(ZSTD_versionNumber())"
    }
}
