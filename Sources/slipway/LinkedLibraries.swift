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
        [archive(), curl(), openSSL(), zlib(), zstd()]
    }

    static func archive() -> LinkedLibrary {
        // "libarchive 3.6.2"; the details list its compressors: "… zlib/1.2.13 liblzma/5.4.1 …".
        let version = String(cString: archive_version_string()).replacingOccurrences(of: "libarchive ", with: "")
        let details = String(cString: archive_version_details())
        return LinkedLibrary(name: "libarchive", version: version, linkage: linkage(of: unsafeBitCast(
            archive_version_string as @convention(c) () -> UnsafePointer<CChar>?, to: UnsafeRawPointer.self)),
            details: details)
    }

    static func curl() -> LinkedLibrary {
        let address = unsafeBitCast(curl_version as @convention(c) () -> UnsafeMutablePointer<CChar>?, to: UnsafeRawPointer.self)
        guard let info = curl_version_info(CURLVERSION_FIRST)?.pointee else {
            return LinkedLibrary(name: "libcurl", version: "unknown", linkage: linkage(of: address), details: nil)
        }
        // Only the first age's fields are read, so any libcurl's struct will do.
        // curl_version() is "libcurl/7.88.1 OpenSSL/3.0.17 zlib/1.2.13 brotli/1.0.9 …".
        let details = String(cString: curl_version()).split(separator: " ").dropFirst().joined(separator: " ")
        return LinkedLibrary(name: "libcurl", version: String(cString: info.version), linkage: linkage(of: address),
                             details: details)
    }

    static func openSSL() -> LinkedLibrary {
        // "OpenSSL 3.0.17 1 Jul 2025": the number, then the release date.
        let full = String(cString: OpenSSL_version(Int32(OPENSSL_VERSION)))
        let version = full.split(separator: " ").dropFirst().first.map(String.init) ?? full
        return LinkedLibrary(name: "OpenSSL", version: version, linkage: linkage(of: unsafeBitCast(
            OpenSSL_version as @convention(c) (Int32) -> UnsafePointer<CChar>?, to: UnsafeRawPointer.self)),
            details: full)
    }

    static func zlib() -> LinkedLibrary {
        LinkedLibrary(name: "zlib", version: String(cString: zlibVersion()), linkage: linkage(of: unsafeBitCast(
            zlibVersion as @convention(c) () -> UnsafePointer<CChar>?, to: UnsafeRawPointer.self)), details: nil)
    }

    static func zstd() -> LinkedLibrary {
        LinkedLibrary(name: "zstd", version: String(cString: ZSTD_versionString()), linkage: linkage(of: unsafeBitCast(
            ZSTD_versionString as @convention(c) () -> UnsafePointer<CChar>?, to: UnsafeRawPointer.self)), details: nil)
    }

    /// Which file holds the function at `address`: the one the kernel mapped it from
    /// (`/proc/self/maps`), a shared object such as `/lib/x86_64-linux-gnu/libcurl.so.4`, or
    /// the slipway executable itself (`static`).
    static func linkage(of address: UnsafeRawPointer) -> String {
        // Read to the end: procfs reports size 0, and String(contentsOfFile:) stops after a page.
        guard let handle = FileHandle(forReadingAtPath: "/proc/self/maps"),
              let data = try? handle.readToEnd(),
              let file = mappedFile(containing: UInt(bitPattern: address), maps: String(decoding: data, as: UTF8.self))
        else { return "unknown" }
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        return file == executable ? "static" : file
    }

    /// The path in the `/proc/PID/maps` line whose range holds `address`
    /// (`start-end perms offset dev inode path`).
    static func mappedFile(containing address: UInt, maps: String) -> String? {
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
