import Foundation

/// A package the SBOM scanner found in an image, with where it was found.
struct FoundPackage: Sendable, Equatable {
    enum Ecosystem: String, Sendable {
        case deb, apk, golang, pypi, npm, cargo
    }

    var ecosystem: Ecosystem
    var name: String
    var version: String
    var architecture: String?
    /// As the package database states it (not necessarily an SPDX expression).
    var license: String?
    var supplier: String?
    /// The Debian source package, or apk's origin.
    var sourcePackage: String?
    /// The file it was read from (`var/lib/dpkg/status`, a Go binary, a `package.json`).
    var location: String
    /// A Go binary's main module or a Rust binary's root crate (`APPLICATION`), else a library or OS package.
    var isApplication = false
    /// For a binary's dependencies: they belong to the application found at `location`.
    var isDependency = false
}

/// `/etc/os-release` (or `/usr/lib/os-release`): which distribution the packages belong to.
struct OSRelease: Sendable, Equatable {
    var id: String
    var versionID: String?
    var prettyName: String?

    static func parse(_ text: String) -> OSRelease? {
        var values: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            guard let eq = line.firstIndex(of: "="), !line.hasPrefix("#") else { continue }
            var value = String(line[line.index(after: eq)...]).trimmingCharacters(in: .whitespaces)
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = String(value.dropFirst().dropLast())
            }
            values[String(line[..<eq])] = value
        }
        guard let id = values["ID"], !id.isEmpty else { return nil }
        return OSRelease(id: id, versionID: values["VERSION_ID"], prettyName: values["PRETTY_NAME"])
    }
}
