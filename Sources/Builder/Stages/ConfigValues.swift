/// Parsing of the typed values Docker stores in the image config (durations, ports,
/// signals), each with an error that says what form is expected.
enum ConfigValues {
    /// Go duration syntax (`30s`, `1m30s`, `500ms`) → nanoseconds.
    static func duration(_ text: String, flag: String) throws -> Int64 {
        let units: [(String, Double)] = [("ns", 1), ("us", 1e3), ("µs", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9)]
        var rest = Substring(text)
        var total: Double = 0
        guard !rest.isEmpty else { throw BuildError("--\(flag): empty duration; use e.g. 30s") }
        if rest == "0" { return 0 }
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard let value = Double(number) else { throw BuildError("--\(flag): invalid duration '\(text)'; use e.g. 30s, 1m30s, 500ms") }
            rest = rest.dropFirst(number.count)
            guard let unit = units.sorted(by: { $0.0.count > $1.0.count }).first(where: { rest.hasPrefix($0.0) }) else {
                throw BuildError("--\(flag): invalid duration '\(text)'; use e.g. 30s, 1m30s, 500ms")
            }
            total += value * unit.1
            rest = rest.dropFirst(unit.0.count)
        }
        return Int64(total)
    }

    /// EXPOSE words → `port/proto` keys, ranges expanded as Docker does.
    static func ports(_ word: String) throws -> [String] {
        let parts = word.split(separator: "/", maxSplits: 1).map(String.init)
        guard let portPart = parts.first else { throw BuildError("EXPOSE: empty port") }
        let proto = parts.count > 1 ? parts[1].lowercased() : "tcp"
        guard ["tcp", "udp", "sctp"].contains(proto) else {
            throw BuildError("EXPOSE: invalid protocol '\(proto)' in '\(word)'; use tcp, udp or sctp")
        }
        let bounds = portPart.split(separator: "-", maxSplits: 1).map { Int($0) }
        guard let low = bounds.first ?? nil, (0...65535).contains(low) else {
            throw BuildError("EXPOSE: invalid port '\(word)'; use PORT[/PROTO] or START-END[/PROTO]")
        }
        var high = low
        if bounds.count == 2 {
            guard let end = bounds[1], (low...65535).contains(end) else {
                throw BuildError("EXPOSE: invalid port range '\(word)'")
            }
            high = end
        }
        return (low...high).map { "\($0)/\(proto)" }
    }

    static let signals: Set<String> = ["ABRT", "ALRM", "BUS", "CHLD", "CONT", "FPE", "HUP", "ILL", "INT", "IO", "IOT",
        "KILL", "PIPE", "POLL", "PROF", "PWR", "QUIT", "SEGV", "STKFLT", "STOP", "SYS", "TERM", "TRAP", "TSTP",
        "TTIN", "TTOU", "URG", "USR1", "USR2", "VTALRM", "WINCH", "XCPU", "XFSZ"]

    static func checkSignal(_ text: String) throws {
        let upper = text.uppercased()
        let name = upper.hasPrefix("SIG") ? String(upper.dropFirst(3)) : upper
        if let number = Int(text), number > 0, number < 65 { return }
        if signals.contains(name) { return }
        if name.hasPrefix("RTMIN") || name.hasPrefix("RTMAX") { return }
        throw BuildError("STOPSIGNAL: invalid signal '\(text)'; use a name such as SIGTERM or a number")
    }
}
