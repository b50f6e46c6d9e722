import Foundation

/// A compose file's `build:` sections as bake targets, as buildx reads them: one target per
/// service with a build (named by the service, `.` as `_`), the service's `image` as its tag
/// when the build names no tags, all of them in the `default` group. Values are interpolated
/// (`${VAR}`, `${VAR:-default}`, `${VAR?error}`, `$VAR`, `$$`) from the environment.
enum ComposeFile {
    static let buildKeys: Set<String> = ["context", "dockerfile", "dockerfile_inline", "args", "labels", "tags", "platforms", "target",
                                         "cache_from", "cache_to", "additional_contexts", "no_cache", "pull", "network", "secrets", "ssh",
                                         "extra_hosts", "provenance", "sbom", "entitlements", "shm_size", "ulimits", "isolation", "privileged"]

    static func read(_ file: BakeFile, environment: [String: String]) throws -> BakeConfig {
        try read(file, environment: environment, including: [])
    }

    /// `including`: the files whose `include:` led here, outermost first (for cycles and depth).
    static func read(_ file: BakeFile, environment: [String: String], including: [String]) throws -> BakeConfig {
        let root = try YAMLReader.read(file.text, file: file.name)
        if case .null = root { throw BakeError("empty compose file", at: root.position) }
        guard case .mapping = root else { throw BakeError("a compose file must be a mapping with 'services'", at: root.position) }
        let includes = try ComposeInclude.paths(root, including: file.name)
        guard let services = root["services"] ?? (includes.isEmpty ? nil : .mapping([], root.position)) else {
            throw BakeError("the compose file has no 'services'", at: root.position)
        }
        guard case .mapping(let members, _) = services else { throw BakeError("'services' must be a mapping of services by name", at: services.position) }
        var included = BakeConfig()
        for (path, position) in includes {
            guard !including.contains(path), path != file.name else {
                throw BakeError("include cycle: \((including + [file.name, path]).joined(separator: " → "))", at: position)
            }
            guard including.count < ComposeInclude.maximumDepth else {
                throw BakeError("includes nest more than \(ComposeInclude.maximumDepth) deep", at: position)
            }
            let config = try read(ComposeInclude.file(path, at: position), environment: environment, including: including + [file.name])
            for target in config.targets {
                if included.target(target.name) != nil {
                    throw BakeError("service '\(target.name)' is defined by two included files", at: position)
                }
                if members.contains(where: { $0.key.replacingOccurrences(of: ".", with: "_") == target.name }) {
                    throw BakeError("service '\(target.name)' of included file '\(path)' conflicts with a service of this file", at: position)
                }
                included.targets.append(target)
            }
        }
        // compose-go's project name, as buildx sets it ("bake" unless the environment names one).
        var environment = environment
        if environment["COMPOSE_PROJECT_NAME"]?.isEmpty ?? true { environment["COMPOSE_PROJECT_NAME"] = "bake" }
        let reader = ComposeValues(environment: environment, secrets: root["secrets"])
        var config = BakeConfig()
        var group = BakeGroup(name: "default", targets: included.targets.map(\.name))
        config.targets = included.targets
        for (serviceName, service) in members {
            guard let build = service["build"] else {
                if case .mapping = service, service["image"] == nil {
                    throw BakeError("service \"\(serviceName)\" has neither an image nor a build context specified", at: service.position)
                }
                continue
            }
            let name = serviceName.replacingOccurrences(of: ".", with: "_")
            guard name.range(of: HCLBakeDecoder.namePattern, options: .regularExpression) != nil else {
                throw BakeError("invalid service name '\(name)': only letters, digits, '_' and '-' are allowed", at: service.position)
            }
            var target = try reader.target(name, build: build, service: service)
            target.position = service.position
            if !including.isEmpty { ComposeInclude.rebase(&target, onto: (file.name as NSString).deletingLastPathComponent) }
            config.targets.append(target)
            group.targets.append(name)
        }
        group.targets.sort()
        if !group.targets.isEmpty { config.groups.append(group) }
        return config
    }
}

struct ComposeValues {
    let environment: [String: String]
    let secrets: YAMLNode?

    func target(_ name: String, build: YAMLNode, service: YAMLNode) throws -> BakeTarget {
        var target = BakeTarget(name: name)
        if case .scalar = build {
            target.context = Self.cleanPath(try string(build))
        } else {
            guard case .mapping(let keys, _) = build else { throw BakeError("'build' must be a path or a mapping", at: build.position) }
            for (key, value) in keys {
                if case .null = value { continue }
                switch key {
                case "context": target.context = Self.cleanPath(try string(value))
                case "dockerfile": target.dockerfile = try string(value)
                case "dockerfile_inline": target.dockerfileInline = try string(value)
                case "args": target.args = try map(value, service: service)
                case "labels": target.labels = try map(value, service: nil)
                case "tags": target.tags = try strings(value)
                case "platforms": target.platforms = try strings(value)
                case "target": target.target = try string(value)
                case "cache_from": target.cacheFrom = try strings(value).flatMap { try BakeEntry.parseList($0, kind: .cache) }
                case "cache_to": target.cacheTo = try strings(value).flatMap { try BakeEntry.parseList($0, kind: .cache) }
                case "additional_contexts":
                    target.contexts = try map(value, service: nil).mapValues { value in
                        let text = value ?? ""
                        return Self.context(text)
                    }
                case "no_cache": target.noCache = try bool(value)
                case "pull": target.pull = try bool(value)
                case "network": target.network = try string(value)
                case "entitlements": target.entitlements = try strings(value)
                case "ssh":
                    if case .mapping(let keys, _) = value {
                        target.ssh = try keys.map { BakeEntry(["id": $0.key, "paths": try string($0.value)]) }
                    } else {
                        target.ssh = try strings(value).map { try BakeEntry.parse($0, kind: .ssh) }
                    }
                case "extra_hosts": target.extraHosts = try extraHosts(value)
                case "secrets": target.secret = try secretEntries(value)
                case "provenance", "sbom":
                    let text = try string(value)
                    let type = key
                    let entry = try BakeEntry.parse(Bool(text).map { "type=\(type),disabled=\(!$0)" } ?? "type=\(type),\(text)", kind: .attest)
                    target.attest = (target.attest ?? []) + [entry]
                case "shm_size", "ulimits", "isolation", "privileged":
                    throw BakeError("build.\(key) is not supported: slipway builds without a daemon", at: value.position)
                case "x-bake":
                    try extensions(value, into: &target)
                default:
                    if key.hasPrefix("x-") { continue }
                    throw BakeError("unknown key '\(key)' in the build section of service '\(name)' (known: \(ComposeFile.buildKeys.sorted().joined(separator: ", ")))", at: value.position)
                }
            }
        }
        if target.tags?.isEmpty ?? true, let image = service["image"], case .scalar = image {
            target.tags = [try string(image)]
        }
        return target
    }

    /// An additional context: `service:NAME` is the target of that service (named as bake
    /// names it, `.` as `_`), a path is cleaned, anything else kept.
    static func context(_ text: String) -> String {
        for prefix in ["service:", "target:"] where text.hasPrefix(prefix) {
            return "target:" + text.dropFirst(prefix.count).replacingOccurrences(of: ".", with: "_")
        }
        return text.contains(":") ? text : cleanPath(text)
    }

    /// compose-go cleans paths (`./db` is `db`).
    static func cleanPath(_ path: String) -> String {
        guard !path.contains("://") else { return path }
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == "..", let last = parts.last, last != ".." { parts.removeLast(); continue }
            parts.append(part)
        }
        let joined = parts.joined(separator: "/")
        return path.hasPrefix("/") ? "/" + joined : (joined.isEmpty ? "." : joined)
    }

    /// `HOST:IP` list items or a `HOST: IP` mapping; several addresses of a host are joined with ','.
    func extraHosts(_ node: YAMLNode) throws -> [String: String?] {
        if case .sequence(let items, _) = node {
            var hosts: [String: String?] = [:]
            for item in items {
                let text = try string(item)
                guard let separator = text.firstIndex(where: { $0 == ":" || $0 == "=" }) else { throw BakeError("extra_hosts '\(text)': expected HOST:IP", at: item.position) }
                let host = String(text[..<separator]), address = String(text[text.index(after: separator)...])
                hosts[host] = (hosts[host] ?? nil).map { $0 + "," + address } ?? address
            }
            return hosts
        }
        return try map(node, service: nil)
    }

    /// `x-bake:` keys buildx reads from a compose build section.
    func extensions(_ node: YAMLNode, into target: inout BakeTarget) throws {
        guard case .mapping(let keys, _) = node else { throw BakeError("x-bake must be a mapping", at: node.position) }
        for (key, value) in keys {
            func list() throws -> [String] { if case .scalar = value { return [try string(value)] } else { return try strings(value) } }
            switch key {
            case "tags": target.tags = Self.unique(target.tags, try list())
            case "platforms": target.platforms = Self.unique(target.platforms, try list())
            case "output": target.output = try list().map { try BakeEntry.parse($0, kind: .output) }
            case "cache-from": target.cacheFrom = Self.unique(target.cacheFrom, try list().map { try BakeEntry.parse($0, kind: .cache) })
            case "cache-to": target.cacheTo = Self.unique(target.cacheTo, try list().map { try BakeEntry.parse($0, kind: .cache) })
            case "secret": target.secret = Self.unique(target.secret, try list().map { try BakeEntry.parse($0, kind: .secret) })
            case "ssh": target.ssh = Self.unique(target.ssh, try list().map { try BakeEntry.parse($0, kind: .ssh) })
            case "pull": target.pull = try bool(value)
            case "no-cache": target.noCache = try bool(value)
            case "no-cache-filter": target.noCacheFilter = try list()
            case "contexts": target.contexts = (target.contexts ?? [:]).merging(try map(value, service: nil).mapValues { Self.context($0 ?? "") }) { $1 }
            default: throw BakeError("unknown key '\(key)' in x-bake", at: value.position)
            }
        }
    }

    /// `x-bake` lists add to the `build:` ones; an entry both name is kept once (buildx).
    static func unique<T: Equatable>(_ existing: [T]?, _ added: [T]) -> [T] {
        var result: [T] = []
        for item in (existing ?? []) + added where !result.contains(item) { result.append(item) }
        return result
    }

    func secretEntries(_ node: YAMLNode) throws -> [BakeEntry] {
        guard case .sequence(let items, _) = node else { throw BakeError("'secrets' must be a list", at: node.position) }
        return try items.map { item in
            var source: String
            var id: String
            if case .scalar = item {
                source = try string(item)
                id = source
            } else {
                guard let named = item["source"] else { throw BakeError("a secret needs a source", at: item.position) }
                source = try string(named)
                id = try item["target"].map(string) ?? source
            }
            guard let definition = secrets?[source] else { throw BakeError("secret '\(source)' is not defined in the top-level 'secrets'", at: item.position) }
            if let file = definition["file"] { return BakeEntry(["id": id, "src": try string(file)]) }
            if let variable = definition["environment"] { return BakeEntry(["id": id, "env": try string(variable)]) }
            throw BakeError("secret '\(source)': only file and environment secrets are supported", at: definition.position)
        }
    }

    /// The variables of a service's `env_file:` (a path or a list of paths, or of
    /// `{path:, required:}`), read as `.env` files; a later file wins.
    func envFiles(_ service: YAMLNode) throws -> [String: String] {
        guard let node = service["env_file"] else { return [:] }
        var entries: [(path: String, required: Bool, position: SourcePosition)] = []
        switch node {
        case .scalar: entries = [(try string(node), true, node.position)]
        case .sequence(let items, _):
            for item in items {
                if case .mapping = item, let path = item["path"] {
                    entries.append((try string(path), try item["required"].map(bool) ?? true, item.position))
                } else {
                    entries.append((try string(item), true, item.position))
                }
            }
        default: throw BakeError("env_file must be a path or a list of paths", at: node.position)
        }
        var variables: [String: String] = [:]
        for entry in entries {
            guard let data = FileManager.default.contents(atPath: entry.path), data.count <= 1 << 20 else {
                if entry.required { throw BakeError("env_file '\(entry.path)' cannot be read", at: entry.position) }
                continue
            }
            let parsed = try DotEnv.merged(String(decoding: data, as: UTF8.self), into: [:], file: entry.path)
            variables.merge(parsed) { $1 }
        }
        return variables
    }

    func string(_ node: YAMLNode) throws -> String {
        guard case .scalar(let text, _, let position) = node else { throw BakeError("expected a string", at: node.position) }
        return try ComposeInterpolation.expand(text, environment: environment, at: position)
    }

    func bool(_ node: YAMLNode) throws -> Bool {
        switch try string(node).lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw BakeError("expected true or false", at: node.position)
        }
    }

    func strings(_ node: YAMLNode) throws -> [String] {
        guard case .sequence(let items, _) = node else { throw BakeError("expected a list", at: node.position) }
        return try items.map(string)
    }

    /// A mapping (`KEY: VALUE`) or a list (`KEY=VALUE`); a key without a value takes the
    /// service's `environment`, then the process environment, or is left out (compose's rule).
    func map(_ node: YAMLNode, service: YAMLNode?) throws -> [String: String?] {
        var result: [String: String?] = [:]
        // The service's `environment:`, then its `env_file:` files, then the process environment.
        let fromFiles = try service.map(envFiles) ?? [:]
        func lookup(_ key: String) -> String? {
            if let environmentNode = service?["environment"], let value = try? map(environmentNode, service: nil)[key], let value { return value }
            if let value = fromFiles[key] { return value }
            return service == nil ? nil : environment[key]
        }
        switch node {
        case .mapping(let members, _):
            for (key, value) in members {
                if case .null = value {
                    if let found = lookup(key) { result[key] = found } else if service == nil { result[key] = "" }
                } else {
                    result[key] = try string(value)
                }
            }
        case .sequence(let items, _):
            for item in items {
                let text = try string(item)
                if let eq = text.firstIndex(of: "=") {
                    result[String(text[..<eq])] = String(text[text.index(after: eq)...])
                } else if let found = lookup(text) {
                    result[text] = found
                } else if service == nil {
                    result[text] = ""
                }
            }
        default:
            throw BakeError("expected a mapping or a list of KEY=VALUE", at: node.position)
        }
        return result
    }
}

/// compose's variable interpolation.
enum ComposeInterpolation {
    static func expand(_ text: String, environment: [String: String], at position: SourcePosition) throws -> String {
        guard text.contains("$") else { return text }
        var out = ""
        var characters = Array(text)[...]
        while let c = characters.popFirst() {
            guard c == "$" else { out.append(c); continue }
            guard let next = characters.first else { out.append("$"); break }
            if next == "$" { characters.removeFirst(); out.append("$"); continue }
            if next == "{" {
                characters.removeFirst()
                var inner = ""
                var depth = 1
                while let d = characters.popFirst() {
                    if d == "{" { depth += 1 }
                    if d == "}" { depth -= 1; if depth == 0 { break } }
                    inner.append(d)
                }
                guard depth == 0 else { throw BakeError("unterminated ${ in '\(text)'", at: position) }
                out += try substitute(inner, environment: environment, at: position)
                continue
            }
            if next == "_" || next.isLetter {
                var name = ""
                while let d = characters.first, d == "_" || d.isLetter || d.isNumber { name.append(d); characters.removeFirst() }
                out += environment[name] ?? ""
                continue
            }
            out.append("$")
        }
        return out
    }

    static func substitute(_ inner: String, environment: [String: String], at position: SourcePosition) throws -> String {
        for op in [":-", ":?", ":+", "-", "?", "+"] {
            guard let range = inner.range(of: op) else { continue }
            let name = String(inner[..<range.lowerBound])
            guard name.allSatisfy({ $0 == "_" || $0.isLetter || $0.isNumber }) else { continue }
            let word = try expand(String(inner[range.upperBound...]), environment: environment, at: position)
            let value = environment[name]
            let unsetOrEmpty = value?.isEmpty ?? true
            switch op {
            case ":-": return unsetOrEmpty ? word : value ?? ""
            case "-": return value ?? word
            case ":?": if unsetOrEmpty { throw BakeError("required variable \(name) is missing a value: \(word)", at: position) }; return value ?? ""
            case "?": guard let value else { throw BakeError("required variable \(name) is missing a value: \(word)", at: position) }; return value
            case ":+": return unsetOrEmpty ? "" : word
            default: return value == nil ? "" : word
            }
        }
        return environment[inner] ?? ""
    }
}
