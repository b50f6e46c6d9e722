/// Reproducible test data: the same seed gives the same bytes on every run.

/// Text-like bytes that compress about as well as source code, from a fixed seed.
public func pseudoText(count: Int, seed: UInt64) -> [UInt8] {
    let words = ["layer", "image", "tar", "gzip", "slipway", "container", "build", "digest", "the", "of",
                 "manifest", "config", "blob", "index", "func", "let", "var", "return", "struct", "0x1f",
                 "registry", "push", "pull", "stage", "copy", "run", "from", "arg", "env", "label"]
        .map { Array($0.utf8) }
    var x = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    var out: [UInt8] = []
    out.reserveCapacity(count + 32)
    while out.count < count {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17
        out.append(contentsOf: words[Int(x % UInt64(words.count))])
        if x & 0xF00 == 0 { out.append(contentsOf: String(x % 100_000).utf8) }
        out.append(x & 0x7000 == 0 ? 10 : 32)
    }
    return Array(out.prefix(count))
}

/// Incompressible bytes from a fixed seed.
public func pseudoRandom(count: Int, seed: UInt64) -> [UInt8] {
    var x = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    var out = [UInt8](repeating: 0, count: count)
    for i in 0..<count {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17
        out[i] = UInt8(truncatingIfNeeded: x >> 24)
    }
    return out
}

/// A seeded generator (SplitMix64) so trials are reproducible.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
