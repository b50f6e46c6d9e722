import Foundation

/// Whether a host is this machine, decided on the addresses it resolves to (as Docker does for
/// its insecure 127.0.0.0/8 default), never on how its name is spelled: `127.evil.example` is
/// whatever its owner's DNS says. Plain HTTP without `--insecure-registry` is only for a host
/// whose every address is loopback.
enum Loopback {
    /// The host's addresses when it is an address literal or resolves only to loopback
    /// addresses; nil otherwise (including when it does not resolve at all). `host` has no port
    /// and no brackets.
    static func addresses(of host: String) -> [String]? {
        if let literal = parse(host) { return literal.loopback ? [host] : nil }
        // RFC 6761: localhost is loopback without asking DNS (curl does the same).
        if host == "localhost" || host.hasSuffix(".localhost") { return ["127.0.0.1", "::1"] }
        let resolved = resolve(host)
        guard !resolved.isEmpty, resolved.allSatisfy({ parse($0)?.loopback == true }) else { return nil }
        return resolved
    }

    /// An IPv4 or IPv6 literal, and whether it is loopback (127.0.0.0/8, ::1, ::ffff:127.x.y.z).
    static func parse(_ text: String) -> (isIPv6: Bool, loopback: Bool)? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return (false, UInt32(bigEndian: v4.s_addr) >> 24 == 127)
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        let loopback = bytes[0..<15].allSatisfy { $0 == 0 } && bytes[15] == 1
        let mappedLoopback = bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xFF && bytes[11] == 0xFF && bytes[12] == 127
        return (true, loopback || mappedLoopback)
    }

    /// Every address `getaddrinfo` gives for the name (empty when it does not resolve).
    private static func resolve(_ host: String) -> [String] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0 else { return [] }
        defer { freeaddrinfo(list) }
        var addresses: [String] = []
        var entry = list
        while let current = entry {
            var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if let address = current.pointee.ai_addr,
               getnameinfo(address, current.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 {
                addresses.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
            entry = current.pointee.ai_next
        }
        return addresses
    }
}
