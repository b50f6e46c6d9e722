import Foundation

/// Parsers of the package databases and manifests the SBOM reads, each from the bytes of one
/// file (the scanner captures them while streaming a layer).
enum PackageDatabases {
    /// Debian/Ubuntu `var/lib/dpkg/status` (only `install ok installed` entries) and
    /// distroless `var/lib/dpkg/status.d/NAME` (one stanza per file, no Status field).
    static func dpkg(_ text: String, location: String, requireInstalled: Bool) -> [FoundPackage] {
        stanzas(text).compactMap { fields in
            guard let name = fields["Package"], let version = fields["Version"] else { return nil }
            if requireInstalled, let status = fields["Status"], !status.hasSuffix(" installed") { return nil }
            if requireInstalled, fields["Status"] == nil { return nil }
            var source = fields["Source"]
            if let open = source?.firstIndex(of: " ") { source = String(source![..<open]) }
            return FoundPackage(ecosystem: .deb, name: name, version: version, architecture: fields["Architecture"],
                                license: nil, supplier: fields["Maintainer"], sourcePackage: source, location: location)
        }
    }

    /// Alpine `lib/apk/db/installed`: `P:` name, `V:` version, `A:` arch, `L:` license, `o:` origin, `m:` maintainer.
    static func apk(_ text: String, location: String) -> [FoundPackage] {
        var packages: [FoundPackage] = []
        var fields: [Character: String] = [:]
        func flush() {
            if let name = fields["P"], let version = fields["V"] {
                packages.append(FoundPackage(ecosystem: .apk, name: name, version: version, architecture: fields["A"],
                                             license: fields["L"], supplier: fields["m"], sourcePackage: fields["o"], location: location))
            }
            fields = [:]
        }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.isEmpty { flush(); continue }
            guard line.count >= 2, line[line.index(after: line.startIndex)] == ":", let key = line.first else { continue }
            if fields[key] == nil { fields[key] = String(line.dropFirst(2)) }
        }
        flush()
        return packages
    }

    /// Python `*.dist-info/METADATA` / `*.egg-info/PKG-INFO` (RFC 822 headers up to the first blank line).
    static func python(_ text: String, location: String) -> FoundPackage? {
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.isEmpty || line == "\r" { break }
            guard let colon = line.firstIndex(of: ":"), !line.hasPrefix(" ") else { continue }
            let key = String(line[..<colon])
            if fields[key] == nil { fields[key] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces) }
        }
        guard let name = fields["Name"], let version = fields["Version"] else { return nil }
        let license = fields["License-Expression"] ?? fields["License"]
        return FoundPackage(ecosystem: .pypi, name: name, version: version, license: license?.isEmpty == false && license != "UNKNOWN" ? license : nil,
                            supplier: fields["Author"], location: location)
    }

    /// Node `node_modules/NAME/package.json` (`name`, `version`, `license`).
    static func node(_ data: [UInt8], location: String) -> FoundPackage? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(data)) as? [String: Any],
              let name = object["name"] as? String, let version = object["version"] as? String, !name.isEmpty else { return nil }
        var license = object["license"] as? String
        if license == nil, let typed = object["license"] as? [String: Any] { license = typed["type"] as? String }
        var author = object["author"] as? String
        if author == nil, let typed = object["author"] as? [String: Any] { author = typed["name"] as? String }
        return FoundPackage(ecosystem: .npm, name: name, version: version, license: license, supplier: author, location: location)
    }

    /// A Go binary's main module (an application) and its dependencies, plus the standard
    /// library at the Go version it was built with (as syft lists it).
    static func go(_ info: GoBuildInfo, location: String) -> [FoundPackage] {
        var packages: [FoundPackage] = []
        let mainPath = info.main?.path ?? info.path ?? ContextPath.basename(location)
        var main = FoundPackage(ecosystem: .golang, name: mainPath, version: info.main?.version ?? "", location: location)
        main.isApplication = true
        packages.append(main)
        for dependency in info.dependencies {
            var package = FoundPackage(ecosystem: .golang, name: dependency.path, version: dependency.version, location: location)
            package.isDependency = true
            packages.append(package)
        }
        var stdlib = FoundPackage(ecosystem: .golang, name: "stdlib", version: info.goVersion, location: location)
        stdlib.isDependency = true
        packages.append(stdlib)
        return packages
    }

    /// Deb822 stanzas: `Key: value`, continuation lines starting with a space, blank lines between.
    static func stanzas(_ text: String) -> [[String: String]] {
        var result: [[String: String]] = []
        var current: [String: String] = [:]
        var lastKey: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.trimmingCharacters(in: .whitespaces).isEmpty {
                if !current.isEmpty { result.append(current) }
                current = [:]
                lastKey = nil
                continue
            }
            if line.first == " " || line.first == "\t" {
                if let lastKey { current[lastKey, default: ""] += "\n" + line.trimmingCharacters(in: .whitespaces) }
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = String(line[..<colon])
            current[key] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            lastKey = key
        }
        if !current.isEmpty { result.append(current) }
        return result
    }
}
