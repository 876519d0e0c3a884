// SPDX-License-Identifier: Apache-2.0

/// The bookkeeping of a bulkhead: permits in use and the waiters queued for one, fair between tenants. A pure value,
/// generic in what a waiter is (a continuation in `Bulkhead`, anything in tests); handing a permit over returns the
/// waiter so the caller can wake it after releasing its lock.
///
/// Fairness: one tenant may hold at most `maxPerTenant` permits and `maxQueuePerTenant` queue places, so a tenant that
/// floods a backend always leaves the rest to the others; and a freed permit goes to the tenants with waiters in
/// turn (round robin, FIFO within a tenant), so a long queue of one tenant cannot make another tenant's single call
/// wait behind all of it.
public struct BulkheadState<Waiter> {
    /// What `acquire` did.
    public enum Admission: Equatable {
        case granted
        case queued
        /// The queue (or the tenant's part of it) is full; the counts are for the refusal message.
        case full(running: Int, waiting: Int)
    }

    /// Permits: calls that may run at once.
    public let maxConcurrent: Int
    /// Waiters that may queue for a permit.
    public let maxQueue: Int
    /// Permits one tenant may hold.
    public let maxPerTenant: Int
    /// Queue places one tenant may hold.
    public let maxQueuePerTenant: Int
    /// Permits held.
    public private(set) var running = 0
    /// Waiters queued.
    public private(set) var waiting = 0
    private var runningBy: [String: Int] = [:]
    // Per tenant, FIFO. Small (bounded by maxQueue), so linear removal on cancel is cheaper than anything fancier.
    private var queues: [String: [(id: UInt64, waiter: Waiter)]] = [:]
    /// Tenants with waiters, in the order they are served next.
    private var turn: [String] = []

    /// Clamps to at least one permit, a non-negative queue, and per-tenant shares within them (default: no share
    /// below the whole).
    public init(maxConcurrent: Int, maxQueue: Int, maxPerTenant: Int? = nil, maxQueuePerTenant: Int? = nil) {
        // At least one permit, or no call could ever run.
        self.maxConcurrent = max(1, maxConcurrent)
        self.maxQueue = max(0, maxQueue)
        self.maxPerTenant = min(self.maxConcurrent, max(1, maxPerTenant ?? self.maxConcurrent))
        self.maxQueuePerTenant = min(self.maxQueue, max(0, maxQueuePerTenant ?? self.maxQueue))
    }

    /// Permits `tenant` holds.
    public func running(of tenant: String) -> Int { runningBy[tenant, default: 0] }

    /// Whether a new caller of `tenant` would be refused at once.
    public func isFull(for tenant: String = "") -> Bool {
        !mayRun(tenant) && (waiting >= maxQueue || (queues[tenant]?.count ?? 0) >= maxQueuePerTenant)
    }

    private func mayRun(_ tenant: String) -> Bool { running < maxConcurrent && runningBy[tenant, default: 0] < maxPerTenant }

    private mutating func grant(_ tenant: String) {
        running += 1
        runningBy[tenant, default: 0] += 1
    }

    /// Takes a permit if one is free for `tenant`, without queueing.
    public mutating func tryAcquire(tenant: String = "") -> Bool {
        // Invariant kept by `release`: while a permit is free, every queued waiter is at its tenant's share, so a
        // newcomer taking it overtakes nobody who could have had it.
        guard mayRun(tenant) else { return false }
        grant(tenant)
        return true
    }

    /// Takes a permit, or queues `waiter` under `id`, or refuses when the queue or the tenant's part of it is full.
    public mutating func acquire(id: UInt64, tenant: String = "", waiter: Waiter) -> Admission {
        if tryAcquire(tenant: tenant) { return .granted }
        let mine = queues[tenant]?.count ?? 0
        guard waiting < maxQueue, mine < maxQueuePerTenant else { return .full(running: running, waiting: waiting) }
        if mine == 0 { turn.append(tenant) }
        queues[tenant, default: []].append((id, waiter))
        waiting += 1
        return .queued
    }

    /// Returns `tenant`'s permit. If a waiter may now run, the permit passes straight to it (returned, to be woken):
    /// the next tenant in turn whose share allows it, so a newcomer cannot overtake the queue.
    public mutating func release(tenant: String = "") -> Waiter? {
        // An unmatched release is a caller bug; clamping keeps the counts meaningful instead of going negative.
        running = max(0, running - 1)
        let held = runningBy[tenant, default: 0]
        runningBy[tenant] = held > 1 ? held - 1 : nil
        guard running < maxConcurrent else { return nil }
        for (index, next) in turn.enumerated() where runningBy[next, default: 0] < maxPerTenant {
            guard var queue = queues[next], !queue.isEmpty else { continue }
            let first = queue.removeFirst()
            waiting -= 1
            turn.remove(at: index)
            if queue.isEmpty { queues[next] = nil } else {
                queues[next] = queue
                turn.append(next)  // served: to the back of the line
            }
            grant(next)
            return first.waiter
        }
        return nil
    }

    /// Removes a waiter that gave up (deadline, cancellation); `nil` if it already got its permit or never queued.
    public mutating func remove(id: UInt64) -> Waiter? {
        for (tenant, queue) in queues {
            guard let index = queue.firstIndex(where: { $0.id == id }) else { continue }
            var rest = queue
            let removed = rest.remove(at: index)
            waiting -= 1
            if rest.isEmpty {
                queues[tenant] = nil
                turn.removeAll { $0 == tenant }
            } else {
                queues[tenant] = rest
            }
            return removed.waiter
        }
        return nil
    }
}

extension BulkheadState: Sendable where Waiter: Sendable {}
