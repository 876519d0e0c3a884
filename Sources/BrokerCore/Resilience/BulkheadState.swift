// SPDX-License-Identifier: Apache-2.0

/// The bookkeeping of a bulkhead: permits in use and a FIFO queue of waiters. A pure value, generic in what a
/// waiter is (a continuation in `Bulkhead`, anything in tests); handing a permit over returns the waiter so the
/// caller can wake it after releasing its lock.
public struct BulkheadState<Waiter> {
    /// What `acquire` did.
    public enum Admission: Equatable {
        case granted
        case queued
        /// The queue is full; the counts are for the refusal message.
        case full(running: Int, waiting: Int)
    }

    /// Permits: calls that may run at once.
    public let maxConcurrent: Int
    /// Waiters that may queue for a permit.
    public let maxQueue: Int
    /// Permits held.
    public private(set) var running = 0
    // Small (bounded by maxQueue), so linear removal on cancel is cheaper than any fancier structure.
    private var queue: [(id: UInt64, waiter: Waiter)] = []

    /// Clamps to at least one permit and a non-negative queue.
    public init(maxConcurrent: Int, maxQueue: Int) {
        // At least one permit, or no call could ever run.
        self.maxConcurrent = max(1, maxConcurrent)
        self.maxQueue = max(0, maxQueue)
    }

    /// Waiters queued.
    public var waiting: Int { queue.count }

    /// Whether a new caller would be refused at once.
    public var isFull: Bool { running >= maxConcurrent && queue.count >= maxQueue }

    /// Takes a permit if one is free, without queueing.
    public mutating func tryAcquire() -> Bool {
        guard running < maxConcurrent else { return false }
        running += 1
        return true
    }

    /// Takes a permit, or queues `waiter` under `id`, or refuses when the queue is full.
    public mutating func acquire(id: UInt64, waiter: Waiter) -> Admission {
        if tryAcquire() { return .granted }
        guard queue.count < maxQueue else { return .full(running: running, waiting: queue.count) }
        queue.append((id, waiter))
        return .queued
    }

    /// Returns a permit. If someone waits, the permit passes straight to the first waiter (returned, to be woken);
    /// `running` stays the same, so a newcomer cannot overtake the queue.
    public mutating func release() -> Waiter? {
        if !queue.isEmpty { return queue.removeFirst().waiter }
        // An unmatched release is a caller bug; clamping keeps the count meaningful instead of going negative.
        running = max(0, running - 1)
        return nil
    }

    /// Removes a waiter that gave up (deadline, cancellation); `nil` if it already got its permit or never queued.
    public mutating func remove(id: UInt64) -> Waiter? {
        guard let index = queue.firstIndex(where: { $0.id == id }) else { return nil }
        return queue.remove(at: index).waiter
    }
}

extension BulkheadState: Sendable where Waiter: Sendable {}
