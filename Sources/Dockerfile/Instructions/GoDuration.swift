extension HealthcheckCommand {
    /// Parses a duration the way Docker does (Go `time.ParseDuration`: `30s`, `1m30s`, `1.5h`,
    /// `500ms`, `0`; units ns, us/µs/μs, ms, s, m, h), returning nanoseconds, the unit the image
    /// config's Healthcheck stores. Nil when the text is not a valid duration or overflows.
    public static func durationNanoseconds(_ text: String) -> Int64? {
        var u = Array(text.unicodeScalars)[...]
        var negative = false
        if let first = u.first, first == "-" || first == "+" {
            negative = first == "-"
            u = u.dropFirst()
        }
        if u.count == 1, u.first == "0" { return 0 }
        if u.isEmpty { return nil }
        let limit: UInt64 = 1 << 63
        var total: UInt64 = 0
        func isDigit(_ c: Unicode.Scalar) -> Bool { ("0"..."9").contains(c) }
        while !u.isEmpty {
            guard let c = u.first, c == "." || isDigit(c) else { return nil }
            // Integer part.
            var value: UInt64 = 0
            var sawInteger = false
            while let d = u.first, isDigit(d) {
                sawInteger = true
                guard value <= (limit - 1) / 10 else { return nil }
                value = value * 10 + UInt64(d.value - 48)
                guard value <= limit else { return nil }
                u = u.dropFirst()
            }
            // Fraction.
            var fraction: UInt64 = 0
            var scale: Double = 1
            var sawFraction = false
            if u.first == "." {
                u = u.dropFirst()
                var overflow = false
                while let d = u.first, isDigit(d) {
                    sawFraction = true
                    if !overflow {
                        if fraction > (limit - 1) / 10 {
                            overflow = true
                        } else {
                            let next = fraction * 10 + UInt64(d.value - 48)
                            if next > limit {
                                overflow = true
                            } else {
                                fraction = next
                                scale *= 10
                            }
                        }
                    }
                    u = u.dropFirst()
                }
            }
            guard sawInteger || sawFraction else { return nil }
            // Unit.
            var unitEnd = u.startIndex
            while unitEnd < u.endIndex, u[unitEnd] != ".", !isDigit(u[unitEnd]) { unitEnd += 1 }
            let unitText = String(String.UnicodeScalarView(u[u.startIndex..<unitEnd]))
            u = u[unitEnd...]
            let unit: UInt64
            switch unitText {
            case "ns": unit = 1
            case "us", "\u{B5}s", "\u{3BC}s": unit = 1_000
            case "ms": unit = 1_000_000
            case "s": unit = 1_000_000_000
            case "m": unit = 60_000_000_000
            case "h": unit = 3_600_000_000_000
            default: return nil
            }
            guard value <= limit / unit else { return nil }
            value *= unit
            if fraction > 0 {
                value += UInt64(Double(fraction) * (Double(unit) / scale))
                guard value <= limit else { return nil }
            }
            total += value
            guard total <= limit else { return nil }
        }
        if negative { return total == limit ? Int64.min : -Int64(total) }
        guard total <= limit - 1 else { return nil }
        return Int64(total)
    }
}
