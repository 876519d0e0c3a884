// SPDX-License-Identifier: Apache-2.0

import Synchronization

/// Latency and failure injection for a simulated system, so tests and demos can show slow or failing backends.
///
/// Configured per backend (`system.latency_ms`, `system.fault_rate`, `system.outage`); `outage` can also be
/// toggled at runtime by tests. Faults are drawn from a seeded stream, so a given sequence of calls fails the
/// same way on every run.
public final class FaultPlan: Sendable {
    /// Base latency added to every request, in milliseconds.
    public let latencyMilliseconds: Int
    /// Extra random latency, up to this many milliseconds.
    public let jitterMilliseconds: Int
    /// Probability that a request fails with a transient "service unavailable".
    public let faultRate: Double
    private let state: Mutex<(rng: SeededGenerator, outage: Bool)>

    public init(latencyMilliseconds: Int = 0, jitterMilliseconds: Int = 0, faultRate: Double = 0, outage: Bool = false, seed: UInt64 = 7) {
        self.latencyMilliseconds = latencyMilliseconds
        self.jitterMilliseconds = jitterMilliseconds
        self.faultRate = faultRate
        self.state = Mutex((SeededGenerator(seed: seed), outage))
    }

    /// What to do with the next request.
    public enum Decision: Sendable, Equatable {
        case proceed(delayMilliseconds: Int)
        case fail(delayMilliseconds: Int)
        case down
    }

    /// Draws the fate of one request.
    public func next() -> Decision {
        state.withLock { s in
            if s.outage { return .down }
            let jitter = jitterMilliseconds > 0 ? s.rng.int(0...jitterMilliseconds) : 0
            let delay = latencyMilliseconds + jitter
            if faultRate > 0 && s.rng.chance(faultRate) { return .fail(delayMilliseconds: delay) }
            return .proceed(delayMilliseconds: delay)
        }
    }

    /// Simulates a full outage (every request refused) until set back to `false`.
    public func setOutage(_ down: Bool) { state.withLock { $0.outage = down } }

    /// Whether an outage is being simulated.
    public var isDown: Bool { state.withLock { $0.outage } }
}
