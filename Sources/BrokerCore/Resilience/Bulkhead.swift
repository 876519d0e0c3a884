// SPDX-License-Identifier: Apache-2.0

import Synchronization

/// Caps the calls running at once against one backend, with a bounded queue in front, fair between tenants (see
/// ``BulkheadState``).
///
/// A caller gets a permit at once, or waits its turn in the queue until its deadline; when the queue is full it is
/// refused at once, so an overloaded backend sheds load instead of piling up waiting requests. Every successful
/// `acquire` must be matched by exactly one `release`.
public final class Bulkhead: Sendable {
    typealias Waiter = CheckedContinuation<BrokerError?, Never>

    /// Names the protected thing in refusal messages ("Backend erp").
    public let name: String
    private let state: Mutex<BulkheadState<Waiter>>
    private let nextID = Atomic<UInt64>(0)

    /// At most `maxConcurrent` permits (at least one) and `maxQueue` waiters (0: refuse whenever all are taken); one
    /// tenant at most `maxPerTenant` of the permits and `maxQueuePerTenant` of the queue (default: all).
    public init(maxConcurrent: Int, maxQueue: Int, maxPerTenant: Int? = nil, maxQueuePerTenant: Int? = nil, name: String = "The backend") {
        self.name = name
        state = Mutex(
            BulkheadState(maxConcurrent: maxConcurrent, maxQueue: maxQueue, maxPerTenant: maxPerTenant, maxQueuePerTenant: maxQueuePerTenant))
    }

    /// Calls holding a permit.
    public var inFlight: Int { state.withLock { $0.running } }
    /// Calls waiting for one.
    public var waiting: Int { state.withLock { $0.waiting } }

    /// Takes a permit, waiting in line until `deadline` if none is free.
    ///
    /// Throws `rate_limited` at once when the queue is full, `timeout` when the deadline passes in the queue and
    /// `cancelled` when the task is cancelled; in all three cases no permit is held.
    public func acquire(until deadline: ContinuousClock.Instant, tenant: String = "") async throws(BrokerError) {
        if Task.isCancelled { throw BrokerError.cancelled }
        // Fast paths under one lock: a free permit, or a full queue refused without creating a timer.
        let fast: BrokerError?? = state.withLock { s in
            if s.tryAcquire(tenant: tenant) { return .some(nil) }
            if s.isFull(for: tenant) { return .some(fullError(s.running, s.waiting)) }
            return .none
        }
        if case .some(let refusal) = fast {
            if let refusal { throw refusal }
            return
        }

        let id = nextID.add(1, ordering: .relaxed).newValue
        // The shared watchdog, not a sleeping task per waiter: a cancelled `Task.sleep` keeps its timer allocated
        // until the deadline, so under a queue that is never empty memory grew by rate × timeout (measured: from
        // 7 MB to over 50 MB in ten seconds at 64 connections).
        let token = DeadlineWatch.shared.register(deadline) { [self] in expire(id) }
        defer { DeadlineWatch.shared.unregister(token) }
        let failure: BrokerError? = await withTaskCancellationHandler {
            await withCheckedContinuation { (waiter: Waiter) in
                // Checked under the lock: `onCancel` or the timer may already have run and found nothing to remove.
                let immediate: BrokerError?? = state.withLock { s in
                    if Task.isCancelled { return .some(BrokerError.cancelled) }
                    if ContinuousClock.now >= deadline { return .some(timeoutError(s.running)) }
                    switch s.acquire(id: id, tenant: tenant, waiter: waiter) {
                    case .granted: return .some(nil)
                    case .queued: return .none
                    case .full(let running, let waiting): return .some(fullError(running, waiting))
                    }
                }
                if case .some(let result) = immediate { waiter.resume(returning: result) }
            }
        } onCancel: {
            state.withLock { $0.remove(id: id) }?.resume(returning: BrokerError.cancelled)
        }
        if let failure { throw failure }
    }

    /// Returns `tenant`'s permit; the next waiter in turn, if any may run, gets it.
    public func release(tenant: String = "") {
        state.withLock { $0.release(tenant: tenant) }?.resume(returning: nil)
    }

    private func expire(_ id: UInt64) {
        let (waiter, running) = state.withLock { s in (s.remove(id: id), s.running) }
        waiter?.resume(returning: timeoutError(running))
    }

    private func fullError(_ running: Int, _ waiting: Int) -> BrokerError {
        BrokerError(
            .rateLimited, "\(name) is at its concurrency limit (\(running) running, \(waiting) waiting); try again shortly.",
            retriable: true)
    }

    private func timeoutError(_ running: Int) -> BrokerError {
        BrokerError.timeout("\(name) stayed at its concurrency limit (\(running) running) until the call's deadline; try again shortly.")
    }
}
