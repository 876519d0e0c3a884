// SPDX-License-Identifier: Apache-2.0

/// A sustained rate with a burst allowance, as written in configuration: `10/s`, `600/m`, `10/s burst 20`.
public struct RateLimit: Sendable, Equatable, CustomStringConvertible {
    /// Tokens added per second (the sustained rate).
    public var ratePerSecond: Double
    /// How many calls may run back to back after an idle period (the bucket size).
    public var burst: Int

    /// `burst` defaults to one second's worth of tokens (at least one), so a limit of `10/s` absorbs a burst of 10.
    public init(ratePerSecond: Double, burst: Int? = nil) {
        self.ratePerSecond = ratePerSecond
        // A burst below one would refuse every call forever; clamp rather than trap.
        self.burst = max(1, burst ?? Self.defaultBurst(for: ratePerSecond))
    }

    /// One second's worth of tokens, at least one.
    public static func defaultBurst(for ratePerSecond: Double) -> Int {
        guard ratePerSecond.isFinite, ratePerSecond > 1 else { return 1 }
        return ratePerSecond >= Double(Int32.max) ? Int(Int32.max) : Int(ratePerSecond.rounded(.up))  // trap-ok: finite, in (1, Int32.max) here
    }

    /// Parses `<count>/<unit> [burst <n>]`, where the unit is `s`, `m` or `h` (or `sec`, `min`, `hour`, …).
    /// Returns `nil` for anything else, for a non-positive or non-finite count, and for a burst below one.
    public static func parse(_ text: String) -> RateLimit? {
        let words = text.lowercased().split(whereSeparator: \.isWhitespace)
        // "10 / s" and "10/s" are both accepted: the rate is everything before the keyword, spaces removed.
        let burstAt = words.firstIndex(of: "burst")
        let rateText = words[..<(burstAt ?? words.endIndex)].joined()
        var burst: Int?
        if let burstAt {
            let rest = words[(burstAt + 1)...]
            guard rest.count == 1, let first = rest.first, let n = Int(first), n >= 1 else { return nil }
            burst = n
        }
        let parts = rateText.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let count = Double(parts[0]), count.isFinite, count > 0,
            let period = periodSeconds[String(parts[1])]
        else { return nil }
        return RateLimit(ratePerSecond: count / period, burst: burst)
    }

    static let periodSeconds: [String: Double] = [
        "s": 1, "sec": 1, "second": 1,
        "m": 60, "min": 60, "minute": 60,
        "h": 3600, "hour": 3600,
    ]

    /// The limit in the form `parse` reads, per second.
    public var description: String { "\(ratePerSecond)/s burst \(burst)" }
}
