// SPDX-License-Identifier: Apache-2.0

/// When a circuit breaker opens and for how long.
public struct CircuitBreakerPolicy: Sendable, Equatable {
    /// Open after this many failures in a row (0 disables the rule).
    public var consecutiveFailures: Int = 5
    /// … or when at least this share of the calls in `window` failed (above 1 disables the rule) …
    public var failureRatio: Double = 0.5
    /// … counting only once the window holds this many calls, so two failures out of three do not open it.
    public var minimumCalls: Int = 10
    /// The sliding window for the ratio rule (kept in ten buckets: it slides a tenth at a time).
    public var window: Duration = .seconds(30)
    /// The first open interval; it doubles on each trip without a successful probe in between …
    public var openBase: Duration = .seconds(5)
    /// … up to this.
    public var openMax: Duration = .seconds(60)
    /// Open intervals are spread by ± this share (0.2: ± 20 %), so breakers of many brokers do not probe together.
    public var jitter: Double = 0.2
    /// A probe that has not reported after this long is presumed lost (its caller never called `record`), and
    /// another probe is admitted; without it a lost probe would keep the breaker half-open for ever.
    public var probeTimeout: Duration = .seconds(60)

    /// The defaults suit a backend called a few times a second; see each property.
    public init(
        consecutiveFailures: Int = 5, failureRatio: Double = 0.5, minimumCalls: Int = 10, window: Duration = .seconds(30),
        openBase: Duration = .seconds(5), openMax: Duration = .seconds(60), jitter: Double = 0.2,
        probeTimeout: Duration = .seconds(60)
    ) {
        self.consecutiveFailures = consecutiveFailures
        self.failureRatio = failureRatio
        self.minimumCalls = minimumCalls
        self.window = window
        self.openBase = openBase
        self.openMax = openMax
        self.jitter = jitter
        self.probeTimeout = probeTimeout
    }

    /// The open interval for the `trip`-th trip in a row (1-based), before jitter: openBase × 2^(trip-1), capped.
    public func baseOpenInterval(trip: Int) -> Duration {
        // Past 2^62 every realistic cap has long been reached; the bound keeps the shift defined.
        let doublings = min(max(trip - 1, 0), 62)
        let base = openBase / .seconds(1) * Double(UInt64(1) << UInt64(doublings))
        // Capped as a Double, before it becomes a `Duration` (which would trap on overflow).
        return .seconds(min(base, openMax / .seconds(1)))
    }

    /// The open interval with jitter applied; `unit` is a uniform draw in 0..<1. Never above `openMax`, never
    /// below a millisecond.
    public func openInterval(trip: Int, unit: Double) -> Duration {
        let spread = min(max(jitter, 0), 1)
        let factor = 1 + spread * (2 * unit - 1)
        let seconds = baseOpenInterval(trip: trip) / .seconds(1) * factor
        return max(min(.seconds(seconds), openMax), .milliseconds(1))
    }
}
