// SPDX-License-Identifier: Apache-2.0

/// What a circuit breaker says about one call.
public enum BreakerAdmission: Sendable, Equatable {
    /// Closed: go ahead.
    case allowed
    /// The single trial call after an open interval; its `record` decides whether the breaker closes.
    case probe
    /// Open (or a probe is running): do not call the backend; try again after `retryAfter`.
    case rejected(retryAfter: Duration)
}

/// A circuit breaker as a pure value: closed → open (for a growing, jittered interval) → half-open with one probe
/// → closed or open again. The caller passes the time, so tests drive it with synthetic instants.
public struct CircuitBreakerMachine: Sendable {
    /// Where the breaker stands.
    public enum State: Sendable, Equatable {
        case closed
        case open(until: ContinuousClock.Instant)
        /// The open interval is over: the next call is the probe (`false`), or the probe is running (`true`).
        case halfOpen(probeInFlight: Bool)
    }

    /// When it trips and for how long.
    public let policy: CircuitBreakerPolicy
    /// The current state; `refresh(now:)` applies the transitions that only need time to pass.
    public private(set) var state: State = .closed
    /// Trips since the breaker last closed: sets the next open interval.
    public private(set) var trips = 0
    /// Failures in a row while closed.
    public private(set) var consecutiveFailures = 0
    private var window: OutcomeWindow
    private var probeStarted: ContinuousClock.Instant?
    private var random: SplitMix64

    /// `seed` feeds the jitter; the shared wrapper seeds from the system generator, tests pass a constant.
    public init(policy: CircuitBreakerPolicy = CircuitBreakerPolicy(), seed: UInt64 = 0) {
        self.policy = policy
        window = OutcomeWindow(window: policy.window)
        random = SplitMix64(seed: seed)
    }

    /// `closed`, `open` or `half_open`, for logs and metrics.
    public var stateName: String {
        switch state {
        case .closed: return "closed"
        case .open: return "open"
        case .halfOpen: return "half_open"
        }
    }

    /// Moves time-driven transitions forward: an elapsed open interval becomes half-open, and a probe that
    /// outlived `probeTimeout` is presumed lost so another may run.
    public mutating func refresh(now: ContinuousClock.Instant) {
        switch state {
        case .open(let until) where now >= until:
            state = .halfOpen(probeInFlight: false)
        case .halfOpen(probeInFlight: true):
            let lost = probeStarted.map { now - $0 >= policy.probeTimeout } ?? true
            if lost { state = .halfOpen(probeInFlight: false) }
        default:
            break
        }
    }

    /// Decides whether a call may go to the backend now.
    public mutating func admit(now: ContinuousClock.Instant) -> BreakerAdmission {
        refresh(now: now)
        switch state {
        case .closed:
            return .allowed
        case .open(let until):
            return .rejected(retryAfter: until - now)
        case .halfOpen(probeInFlight: false):
            state = .halfOpen(probeInFlight: true)
            probeStarted = now
            return .probe
        case .halfOpen(probeInFlight: true):
            // The probe's answer is what unblocks callers; suggest a retry no later than the probe can take.
            let probeDeadline = (probeStarted ?? now) + policy.probeTimeout
            return .rejected(retryAfter: min(policy.openBase, probeDeadline - now))
        }
    }

    /// Reports how an admitted call ended.
    ///
    /// While a probe is in flight, any report is taken as the probe's: the API carries no call identity, and a
    /// late report from a call admitted before the trip says the same thing about the backend. Reports while open,
    /// or half-open before the probe, come from calls admitted before the trip and are ignored.
    public mutating func record(success: Bool, now: ContinuousClock.Instant) {
        switch state {
        case .closed:
            window.record(success: success, now: now)
            consecutiveFailures = success ? 0 : consecutiveFailures + 1
            if !success && shouldTrip(now: now) { trip(now: now) }
        case .halfOpen(probeInFlight: true):
            if success { close() } else { trip(now: now) }
        case .open, .halfOpen(probeInFlight: false):
            break
        }
    }

    /// Reports that an admitted call ended without saying anything about the backend (the client cancelled it):
    /// a probe's slot is freed so the next call probes, instead of waiting out `probeTimeout`.
    public mutating func abandon() {
        if state == .halfOpen(probeInFlight: true) {
            state = .halfOpen(probeInFlight: false)
            probeStarted = nil
        }
    }

    private func shouldTrip(now: ContinuousClock.Instant) -> Bool {
        if policy.consecutiveFailures > 0 && consecutiveFailures >= policy.consecutiveFailures { return true }
        let (calls, failures) = window.totals(now: now)
        return calls > 0 && calls >= policy.minimumCalls && Double(failures) / Double(calls) >= policy.failureRatio
    }

    private mutating func trip(now: ContinuousClock.Instant) {
        trips += 1
        state = .open(until: now + policy.openInterval(trip: trips, unit: random.nextUnit()))
        probeStarted = nil
        consecutiveFailures = 0
        // The next closed period judges the backend afresh, not with failures from before the trip.
        window.reset()
    }

    private mutating func close() {
        state = .closed
        trips = 0
        probeStarted = nil
        consecutiveFailures = 0
        window.reset()
    }
}
