// SPDX-License-Identifier: Apache-2.0

import Synchronization

/// A circuit breaker shared by all calls to one backend: `CircuitBreakerMachine` behind a lock, on the real clock.
///
/// Usage: `admit()`; on `.rejected` fail fast without calling the backend; otherwise call it and then, exactly once,
/// `record(success:)`, or `abandon()` when the client cancelled (that says nothing about the backend, and an
/// unreported probe would keep other calls out until `probeTimeout`).
public final class CircuitBreaker: Sendable {
    private let machine: Mutex<CircuitBreakerMachine>
    private let onTransition: (@Sendable (_ from: String, _ to: String) -> Void)?

    /// `onTransition` is called after each state change (outside the lock) with the old and new state names.
    /// `seed` fixes the jitter for tests; by default it comes from the system generator.
    public init(
        policy: CircuitBreakerPolicy = CircuitBreakerPolicy(), seed: UInt64? = nil,
        onTransition: (@Sendable (_ from: String, _ to: String) -> Void)? = nil
    ) {
        var system = SystemRandomNumberGenerator()
        machine = Mutex(CircuitBreakerMachine(policy: policy, seed: seed ?? system.next()))
        self.onTransition = onTransition
    }

    /// Decides whether a call may go to the backend now.
    public func admit(now: ContinuousClock.Instant = .now) -> BreakerAdmission {
        step { $0.admit(now: now) }
    }

    /// Reports how an admitted call ended.
    public func record(success: Bool, now: ContinuousClock.Instant = .now) {
        step { $0.record(success: success, now: now) }
    }

    /// Reports that an admitted call was cancelled before the backend answered.
    public func abandon() {
        step { $0.abandon() }
    }

    /// `closed`, `open` or `half_open`.
    public var stateName: String { step { m in m.refresh(now: .now); return m.stateName } }

    /// The state for operators, with when an open breaker lets a probe through.
    public var state: String { describe() }

    /// The state for operators at `now`: `closed`, `open (probe allowed in 4200 ms, trip 2)`,
    /// `half_open (next call is the probe)` or `half_open (probe in flight)`.
    public func describe(now: ContinuousClock.Instant = .now) -> String {
        step { m in
            m.refresh(now: now)
            switch m.state {
            case .closed: return "closed"
            case .open(let until):
                return "open (probe allowed in \((until - now).wholeMilliseconds) ms, trip \(m.trips))"
            case .halfOpen(probeInFlight: false): return "half_open (next call is the probe)"
            case .halfOpen(probeInFlight: true): return "half_open (probe in flight)"
            }
        }
    }

    /// Runs one step on the machine and reports a state change to `onTransition` once the lock is released.
    private func step<T: Sendable>(_ body: (inout CircuitBreakerMachine) -> T) -> T {
        let (result, from, to) = machine.withLock { m in
            let before = m.stateName
            let result = body(&m)
            return (result, before, m.stateName)
        }
        if from != to { onTransition?(from, to) }
        return result
    }
}
