// SPDX-License-Identifier: Apache-2.0

/// The answer of a rate limiter for one call.
public enum RateDecision: Sendable, Equatable {
    case allowed
    /// Refused; one token becomes available after exactly `retryAfter`.
    case limited(retryAfter: Duration)
}

/// The generic cell rate algorithm: a token bucket kept as a single instant, the theoretical arrival time (TAT).
///
/// Each allowed call pushes the TAT one emission interval (1 / rate) into the future; a call is allowed while the
/// TAT is at most `burst - 1` intervals ahead of now. One instant per bucket and no refill loop, so it is exact
/// and cheap to hold per key. A pure value: the caller passes the time.
public struct GCRA: Sendable, Equatable {
    /// The limit this bucket enforces.
    public let limit: RateLimit
    /// Time between two tokens: 1 / rate.
    public let emissionInterval: Duration
    /// How far ahead of now the TAT may run: (burst - 1) emission intervals.
    public let tolerance: Duration
    /// `nil` until the first call: a fresh bucket is full.
    public private(set) var theoreticalArrival: ContinuousClock.Instant?

    /// A full bucket.
    public init(limit: RateLimit) {
        self.limit = limit
        emissionInterval = Self.interval(forRate: limit.ratePerSecond)
        tolerance = emissionInterval * (limit.burst - 1)
    }

    /// Takes one token if available.
    public mutating func acquire(now: ContinuousClock.Instant) -> RateDecision {
        let tat = max(theoreticalArrival ?? now, now)
        let allowedFrom = tat - tolerance
        if now < allowedFrom { return .limited(retryAfter: allowedFrom - now) }
        theoreticalArrival = tat + emissionInterval
        return .allowed
    }

    /// Whether the bucket holds its whole burst at `now`, so forgetting it changes nothing.
    public func isFull(at now: ContinuousClock.Instant) -> Bool {
        guard let theoreticalArrival else { return true }
        return theoreticalArrival <= now
    }

    /// Beyond this a rate is treated as zero: about 31 years between tokens, and no overflow in `Duration`.
    static let longestInterval = Duration.seconds(1_000_000_000)

    /// 1 / rate as a `Duration`, computed from 1e18 / rate so that decimal rates (10/s → 100 ms) are exact.
    static func interval(forRate rate: Double) -> Duration {
        // `!(rate > 0)` also catches NaN.
        guard rate > 0, 1 / rate < 1e9 else { return longestInterval }
        let seconds = (1 / rate).rounded(.down)
        let attoseconds = (1e18 / rate - seconds * 1e18).rounded()
        return Duration(secondsComponent: Int64(seconds), attosecondsComponent: Int64(attoseconds))
    }
}
