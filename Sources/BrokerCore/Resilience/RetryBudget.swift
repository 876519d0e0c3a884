// SPDX-License-Identifier: Apache-2.0

import Synchronization

/// The bookkeeping of a retry budget. A pure value.
///
/// A retry is allowed only while `retriesInFlight < max(minRetries, ratio × callsInFlight)`. Retries against a
/// failing backend multiply its load exactly when it can least take it; the budget bounds the extra load to
/// `ratio` (20 % by default, the figure Envoy and Finagle use) of the calls in flight. `minRetries` (default 1)
/// keeps a lone call at low traffic able to retry a transient error, while still allowing only one retry at a
/// time when traffic is that low, so a quiet broker cannot hammer a dead backend either.
public struct RetryBudgetState: Sendable, Equatable {
    /// The share of calls in flight that may be retrying at once.
    public let ratio: Double
    /// Retries allowed at once however few calls are in flight.
    public let minRetries: Int
    /// Logical calls running (a call counts once, however many attempts it makes).
    public private(set) var callsInFlight = 0
    /// Retry attempts running.
    public private(set) var retriesInFlight = 0

    /// Negative or non-finite values are clamped to zero (no retries beyond `minRetries`).
    public init(ratio: Double = 0.2, minRetries: Int = 1) {
        self.ratio = ratio.isFinite ? max(0, ratio) : 0
        self.minRetries = max(0, minRetries)
    }

    /// The number of retries that may run at once with the current load.
    public var limit: Double { max(Double(minRetries), ratio * Double(callsInFlight)) }

    /// A logical call began (once per call, not per attempt).
    public mutating func callStarted() { callsInFlight += 1 }

    // Clamped: an unmatched end is a caller bug, and a negative count would wrongly shrink the budget for ever.
    /// A logical call finished.
    public mutating func callEnded() { callsInFlight = max(0, callsInFlight - 1) }

    /// Takes a retry slot if the budget allows; a `true` must be matched by `retryEnded()`.
    public mutating func tryAcquireRetry() -> Bool {
        guard Double(retriesInFlight) < limit else { return false }
        retriesInFlight += 1
        return true
    }

    /// A retry attempt granted by `tryAcquireRetry()` finished.
    public mutating func retryEnded() { retriesInFlight = max(0, retriesInFlight - 1) }
}

/// A retry budget shared by all calls to one backend (see `RetryBudgetState` for the rule).
///
/// Usage: `callStarted()` when a call begins and `callEnded()` when it finishes; before each retry attempt,
/// `tryAcquireRetry()` (on `false`, return the last error instead of retrying) and `retryEnded()` after it.
public final class RetryBudget: Sendable {
    private let state: Mutex<RetryBudgetState>

    /// See `RetryBudgetState` for why 20 % and one.
    public init(ratio: Double = 0.2, minRetries: Int = 1) {
        state = Mutex(RetryBudgetState(ratio: ratio, minRetries: minRetries))
    }

    /// A logical call began (once per call, not per attempt).
    public func callStarted() { state.withLock { $0.callStarted() } }
    /// A logical call finished.
    public func callEnded() { state.withLock { $0.callEnded() } }
    /// Takes a retry slot if the budget allows; a `true` must be matched by `retryEnded()`.
    public func tryAcquireRetry() -> Bool { state.withLock { $0.tryAcquireRetry() } }
    /// A retry attempt granted by `tryAcquireRetry()` finished.
    public func retryEnded() { state.withLock { $0.retryEnded() } }

    /// Logical calls running.
    public var callsInFlight: Int { state.withLock { $0.callsInFlight } }
    /// Retry attempts running.
    public var retriesInFlight: Int { state.withLock { $0.retriesInFlight } }
}
