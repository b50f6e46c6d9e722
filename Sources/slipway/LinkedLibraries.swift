import CArchive
import CCurl
import COpenSSL
import CZlib
import CZstd
import Foundation

/// The C libraries slipway runs with, as they report themselves at run time: the release
/// links them statically (their versions are fixed at release time, which is why the same
/// release writes the same layer bytes everywhere), a development build loads the system's.
struct LinkedLibrary: Codable, Equatable {
    var name: String
    var version: String
    /// `static` when the code is inside the slipway executable, else the shared object's path.
    var linkage: String
    /// What the library says about itself beyond the version (its own dependencies, features).
    var details: String?
}

enum LinkedLibraries {
    static func all() -> [LinkedLibrary] {
        let files = MappedFiles.current()
        func linkage(_ function: UnsafeRawPointer) -> String { files.linkage(of: function) }

        // "libarchive 3.6.2"; the details list its compressors: "… zlib/1.2.13 liblzma/5.4.1 …".
        let archive = LinkedLibrary(
            name: "libarchive",
            version: String(cString: archive_version_string()).replacingOccurrences(of: "libarchive ", with: ""),
            linkage: linkage(unsafeBitCast(archive_version_string as @convention(c) () -> UnsafePointer<CChar>?,
                                           to: UnsafeRawPointer.self)),
            details: String(cString: archive_version_details()))

        // Only the first age's fields are read, so any libcurl's struct will do. curl_version()
        // is "libcurl/7.88.1 OpenSSL/3.0.17 zlib/1.2.13 brotli/1.0.9 …".
        let curl = LinkedLibrary(
            name: "libcurl",
            version: curl_version_info(CURLVERSION_FIRST).map { String(cString: $0.pointee.version) } ?? "unknown",
            linkage: linkage(unsafeBitCast(curl_version as @convention(c) () -> UnsafeMutablePointer<CChar>?,
                                           to: UnsafeRawPointer.self)),
            details: String(cString: curl_version()).split(separator: " ").dropFirst().joined(separator: " "))

        // "OpenSSL 3.0.17 1 Jul 2025": the number, then the release date.
        let openSSLText = String(cString: OpenSSL_version(Int32(OPENSSL_VERSION)))
        let openSSL = LinkedLibrary(
            name: "OpenSSL",
            version: openSSLText.split(separator: " ").dropFirst().first.map(String.init) ?? openSSLText,
            linkage: linkage(unsafeBitCast(OpenSSL_version as @convention(c) (Int32) -> UnsafePointer<CChar>?,
                                           to: UnsafeRawPointer.self)),
            details: openSSLText)

        let zlib = LinkedLibrary(
            name: "zlib", version: String(cString: zlibVersion()),
            linkage: linkage(unsafeBitCast(zlibVersion as @convention(c) () -> UnsafePointer<CChar>?, to: UnsafeRawPointer.self)))

        let zstd = LinkedLibrary(
            name: "zstd", version: String(cString: ZSTD_versionString()),
            linkage: linkage(unsafeBitCast(ZSTD_versionString as @convention(c) () -> UnsafePointer<CChar>?,
                                           to: UnsafeRawPointer.self)))

        return [archive, curl, openSSL, zlib, zstd]
    }
}

/// Which file the kernel mapped each address range of this process from (`/proc/self/maps`),
/// so a function's address tells whether its code is in the slipway executable (linked
/// statically) or in a shared object such as `/lib/x86_64-linux-gnu/libcurl.so.4`.
struct MappedFiles {
    var maps: String
    var executable: String

    static func current() -> MappedFiles {
        // Read to the end: procfs reports size 0, and String(contentsOfFile:) stops after a page.
        let data = FileHandle(forReadingAtPath: "/proc/self/maps").flatMap { try? $0.readToEnd() } ?? Data()
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        return MappedFiles(maps: String(decoding: data, as: UTF8.self), executable: executable)
    }

    func linkage(of address: UnsafeRawPointer) -> String {
        guard let file = file(containing: UInt(bitPattern: address)) else { return "unknown" }
        return file == executable ? "static" : file
    }

    /// The path in the line whose range holds `address` (`start-end perms offset dev inode path`).
    func file(containing address: UInt) -> String? {
        for line in maps.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            guard fields.count == 6 else { continue }
            let range = fields[0].split(separator: "-")
            guard range.count == 2, let start = UInt(range[0], radix: 16), let end = UInt(range[1], radix: 16),
                  start <= address, address < end else { continue }
            return fields[5].trimmingCharacters(in: .whitespaces)
        }
        return nil
    }
}
