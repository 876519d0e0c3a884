// SPDX-License-Identifier: Apache-2.0

import Synchronization

/// A small TTL cache whose misses are single-flight: concurrent callers for the same missing key share one load.
///
/// Made for answers that are costly to fetch and the same for many callers in a short time (a backend's tool list,
/// a JWKS, a token): a burst of requests after expiry causes one backend call, not one per request. A failed load
/// is not cached: its waiters get the error and the next caller loads again.
public final class SingleFlightCache<Value: Sendable>: Sendable {
    enum Outcome: Sendable {
        case value(Value)
        case failure(any Error)
        /// Look up again: the flight finished before the waiter queued, or its leader was cancelled.
        case retry
        case cancelled
    }

    typealias Waiter = CheckedContinuation<Outcome, Never>

    private let state: Mutex<SingleFlightState<Value, Waiter>>
    private let nextWaiterID = Atomic<UInt64>(0)

    /// Entries live `ttl` from the start of the load that produced them; at most `maxEntries` are kept (expired,
    /// then oldest, go first; 0 keeps nothing and only shares loads in flight).
    public init(ttl: Duration, maxEntries: Int) {
        state = Mutex(SingleFlightState(ttl: ttl, maxEntries: maxEntries))
    }

    /// The cached value for `key`, or the result of `load` — run once however many callers ask at the same time.
    ///
    /// `hit` is `true` only when the value came from the cache without waiting. A caller waiting on another's load
    /// stops waiting with `CancellationError` when its own task is cancelled; if the loading caller is cancelled,
    /// one of the waiters loads instead, so one client's cancellation does not fail the others.
    public func value(
        for key: String, now: ContinuousClock.Instant = .now, load: @Sendable () async throws -> Value
    ) async throws -> (value: Value, hit: Bool) {
        let (result, source) = await lookup(for: key, now: now, load: load)
        return (try result.get(), source == .hit)
    }

    /// Like ``value(for:now:load:)``, but says how the lookup was answered (for metrics) even when it failed: `hit`
    /// from the cache, `miss` when this caller loaded, `joined` when it waited for another caller's load.
    public func lookup(
        for key: String, now: ContinuousClock.Instant = .now, load: @Sendable () async throws -> Value
    ) async -> (result: Result<Value, any Error>, source: CacheLookupResult) {
        while true {
            switch state.withLock({ $0.begin(key: key, now: now) }) {
            case .hit(let value):
                return (.success(value), .hit)
            case .lead(let flight):
                do { return (.success(try await lead(flight, now: now, load: load)), .miss) } catch { return (.failure(error), .miss) }
            case .join(let flight):
                switch await join(flight) {
                case .value(let value): return (.success(value), .joined)
                case .failure(let error): return (.failure(error), .joined)
                case .cancelled: return (.failure(CancellationError()), .joined)
                case .retry: continue
                }
            }
        }
    }

    /// Forgets every entry (loads in flight store nothing).
    public func removeAll() { state.withLock { $0.removeAll() } }

    /// Lookups answered from the cache.
    public var hits: Int { state.withLock { $0.hits } }
    /// Lookups that loaded or waited for a load.
    public var misses: Int { state.withLock { $0.misses } }
    /// Loads started.
    public var loads: Int { state.withLock { $0.loads } }
    /// Entries held.
    public var count: Int { state.withLock { $0.count } }

    private func lead(_ flight: UInt64, now: ContinuousClock.Instant, load: @Sendable () async throws -> Value) async throws -> Value {
        let result: Result<Value, any Error>
        do { result = .success(try await load()) } catch { result = .failure(error) }
        let outcome: Outcome
        switch result {
        case .success(let value): outcome = .value(value)
        // Most likely the cancellation of this caller's own request, which says nothing to the others.
        case .failure where Task.isCancelled: outcome = .retry
        case .failure(let error): outcome = .failure(error)
        }
        let stored: Value? = if case .value(let value) = outcome { value } else { nil }
        let waiters = state.withLock { $0.finish(flight: flight, storing: stored, now: now) }
        for waiter in waiters { waiter.resume(returning: outcome) }
        return try result.get()
    }

    private func join(_ flight: UInt64) async -> Outcome {
        let id = nextWaiterID.add(1, ordering: .relaxed).newValue
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (waiter: Waiter) in
                // Checked under the lock: `onCancel` may already have run and found nothing to remove.
                let immediate: Outcome? = state.withLock { s in
                    if Task.isCancelled { return .cancelled }
                    return s.addWaiter(flight: flight, id: id, waiter: waiter) ? nil : .retry
                }
                if let immediate { waiter.resume(returning: immediate) }
            }
        } onCancel: {
            state.withLock { $0.removeWaiter(flight: flight, id: id) }?.resume(returning: .cancelled)
        }
    }
}
