import OCI

/// An image reference normalised the way Docker does (`alpine` → `docker.io/library/alpine:latest`),
/// so that every name a user types maps to exactly one registry, repository and tag/digest — the
/// same ones `docker push` would use. Grammar: distribution's `reference` package.
public struct ImageReference: Sendable, Hashable, CustomStringConvertible {
    /// The registry as users name it: `docker.io`, `ghcr.io`, `localhost:5000`, `[::1]:5000`.
    public var registry: String
    /// The repository path inside the registry: `library/alpine`, `org/team/app`.
    public var repository: String
    /// The tag, if any; `latest` is filled in when neither a tag nor a digest is given.
    public var tag: String?
    /// The digest, if the reference pins one (`name@sha256:…`).
    public var digest: Digest?

    public static let dockerHub = "docker.io"
    public static let defaultTag = "latest"

    public init(registry: String, repository: String, tag: String? = nil, digest: Digest? = nil) throws {
        let registry = registry == "index.docker.io" ? Self.dockerHub : registry
        guard Self.isValidDomain(registry) else {
            throw RegistryError.invalidReference("\(registry)/\(repository)", "invalid registry host '\(registry)'")
        }
        var repository = repository
        if registry == Self.dockerHub, !repository.contains("/") { repository = "library/" + repository }
        try Self.validateRepository(repository, whole: "\(registry)/\(repository)")
        if let tag { try Self.validateTag(tag, whole: "\(registry)/\(repository):\(tag)") }
        self.registry = registry
        self.repository = repository
        self.tag = tag
        self.digest = digest
    }

    /// Parses what a user typed (`alpine`, `ghcr.io/o/app:v1`, `localhost:5000/x@sha256:…`).
    /// A reference without tag or digest gets the tag `latest`.
    public init(parsing text: String) throws {
        guard !text.isEmpty else { throw RegistryError.invalidReference(text, "empty reference") }
        guard text.utf8.count <= 4096, !text.contains(where: { $0.isWhitespace }) else {
            throw RegistryError.invalidReference(text, "references may not contain whitespace")
        }
        var rest = Substring(text)
        var digest: Digest?
        if let at = rest.firstIndex(of: "@") {
            let digestText = String(rest[rest.index(after: at)...])
            do { digest = try Digest(parsing: digestText) } catch {
                throw RegistryError.invalidReference(text, "invalid digest '\(digestText)' (expected sha256:<64 hex> or sha512:<128 hex>)")
            }
            rest = rest[..<at]
        }
        var tag: String?
        let lastSlash = rest.lastIndex(of: "/")
        if let colon = rest.lastIndex(of: ":"), lastSlash.map({ colon > $0 }) ?? true {
            tag = String(rest[rest.index(after: colon)...])
            rest = rest[..<colon]
        }
        var registry = Self.dockerHub
        var path = String(rest)
        if let slash = rest.firstIndex(of: "/") {
            let first = String(rest[..<slash])
            if first.contains(".") || first.contains(":") || first == "localhost" || first.lowercased() != first {
                registry = first
                path = String(rest[rest.index(after: slash)...])
            }
        }
        guard !path.isEmpty else { throw RegistryError.invalidReference(text, "missing repository name") }
        guard Self.isValidDomain(registry) else {
            throw RegistryError.invalidReference(text, "invalid registry host '\(registry)'")
        }
        if path.lowercased() != path {
            throw RegistryError.invalidReference(text, "repository name must be lowercase")
        }
        if let tag {
            guard Self.isValidTagSyntax(tag) else {
                throw RegistryError.invalidReference(text, "invalid tag '\(tag)' (allowed: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127})")
            }
        }
        do {
            try self.init(registry: registry, repository: path, tag: tag ?? (digest == nil ? Self.defaultTag : nil), digest: digest)
        } catch RegistryError.invalidReference(_, let reason) {
            // Name the user's text in the error, not the normalised form.
            throw RegistryError.invalidReference(text, reason)
        }
    }

    /// `registry/repository` without tag or digest.
    public var name: String { "\(registry)/\(repository)" }

    /// The fully qualified form: `docker.io/library/alpine:latest`, `host/repo:tag@sha256:…`.
    public var description: String {
        var s = name
        if let tag { s += ":" + tag }
        if let digest { s += "@" + digest.description }
        return s
    }

    /// The host that serves the registry API: Docker Hub's name differs from its API host.
    public var apiHost: String { registry == Self.dockerHub ? "registry-1.docker.io" : registry }

    /// What the registry API calls this reference in `/v2/<name>/manifests/<reference>`:
    /// the digest when pinned (it is what actually gets fetched), else the tag.
    public var manifestReference: String { digest?.description ?? tag ?? Self.defaultTag }

    /// The same repository with another tag or digest.
    public func with(tag: String? = nil, digest: Digest? = nil) -> ImageReference {
        var copy = self
        copy.tag = tag
        copy.digest = digest
        return copy
    }

    // MARK: grammar

    static func validateRepository(_ path: String, whole: String) throws {
        guard path.utf8.count <= 255 else {
            throw RegistryError.invalidReference(whole, "repository name is longer than 255 characters")
        }
        for component in path.split(separator: "/", omittingEmptySubsequences: false) {
            guard isValidPathComponent(component) else {
                throw RegistryError.invalidReference(whole, "invalid repository path component '\(component)' (allowed: lowercase letters, digits, and single separators . _ __ or runs of -)")
            }
        }
    }

    static func validateTag(_ tag: String, whole: String) throws {
        guard isValidTagSyntax(tag) else {
            throw RegistryError.invalidReference(whole, "invalid tag '\(tag)' (allowed: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127})")
        }
    }

    /// `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`
    static func isValidPathComponent(_ c: Substring) -> Bool {
        let bytes = Array(c.utf8)
        guard let first = bytes.first, let last = bytes.last, isLowerAlnum(first), isLowerAlnum(last) else { return false }
        var i = 0
        while i < bytes.count {
            if isLowerAlnum(bytes[i]) { i += 1; continue }
            // A separator run: one '.', one or two '_', or any number of '-'.
            var j = i
            while j < bytes.count, !isLowerAlnum(bytes[j]) { j += 1 }
            let sep = bytes[i..<j]
            let ok = sep.elementsEqual([UInt8(ascii: ".")]) || sep.elementsEqual([UInt8(ascii: "_")])
                || sep.elementsEqual([UInt8(ascii: "_"), UInt8(ascii: "_")]) || sep.allSatisfy { $0 == UInt8(ascii: "-") }
            if !ok { return false }
            i = j
        }
        return true
    }

    static func isValidTagSyntax(_ tag: String) -> Bool {
        let bytes = Array(tag.utf8)
        guard (1...128).contains(bytes.count), isWord(bytes[0]) else { return false }
        return bytes.allSatisfy { isWord($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }

    /// A host name (labels of letters, digits and inner hyphens), an IPv4 address, or a
    /// bracketed IPv6 address, optionally followed by `:port`.
    static func isValidDomain(_ domain: String) -> Bool {
        var host = Substring(domain)
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return false }
            let inner = host[host.index(after: host.startIndex)..<close]
            guard !inner.isEmpty, inner.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return false }
            let after = host[host.index(after: close)...]
            if after.isEmpty { return true }
            guard after.hasPrefix(":") else { return false }
            return isValidPort(after.dropFirst())
        }
        if let colon = host.lastIndex(of: ":") {
            guard isValidPort(host[host.index(after: colon)...]) else { return false }
            host = host[..<colon]
        }
        guard !host.isEmpty else { return false }
        for label in host.split(separator: ".", omittingEmptySubsequences: false) {
            let b = Array(label.utf8)
            guard let f = b.first, let l = b.last, isAlnum(f), isAlnum(l),
                  b.allSatisfy({ isAlnum($0) || $0 == UInt8(ascii: "-") }) else { return false }
        }
        return true
    }

    static func isValidPort(_ s: Substring) -> Bool {
        guard (1...5).contains(s.count), s.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(s) else { return false }
        return n <= 65535
    }

    static func isLowerAlnum(_ b: UInt8) -> Bool { (b >= 97 && b <= 122) || (b >= 48 && b <= 57) }
    static func isAlnum(_ b: UInt8) -> Bool { isLowerAlnum(b) || (b >= 65 && b <= 90) }
    static func isWord(_ b: UInt8) -> Bool { isAlnum(b) || b == UInt8(ascii: "_") }
}
