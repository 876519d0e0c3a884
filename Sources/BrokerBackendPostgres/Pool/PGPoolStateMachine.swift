// SPDX-License-Identifier: Apache-2.0

/// The pool's bookkeeping as a pure value: no I/O, no clock, no randomness of its own.
///
/// Every method takes `now` (and, for backoff, a `jitter` in 0...1) and returns what the caller must do: hand a
/// connection out, open one, wait, fail, close connections, or resume waiters. ``PGPool`` runs it under a lock and
/// performs the returned actions outside it; the tests drive it directly.
struct PGPoolStateMachine: Sendable {
    /// Identifies a pooled connection.
    typealias ConnectionID = Int
    /// Identifies one waiting acquire.
    typealias WaiterID = Int

    /// What an acquire should do next.
    enum AcquireAction: Sendable, Equatable {
        /// Lease this idle connection; check it with `SELECT 1` first when `needsCheck`.
        case useIdle(ConnectionID, needsCheck: Bool)
        /// A slot is reserved: open a connection, then report ``connectSucceeded(createdAt:now:)`` or a failure.
        case createConnection
        /// The pool is full: wait for a ``Handoff`` addressed to this waiter.
        case wait
        /// Fail at once.
        case fail(PGError.Kind)
    }

    /// An acquire decision plus connections that expired and must be closed.
    struct AcquireDecision: Sendable, Equatable {
        /// The next step for the acquiring task.
        var action: AcquireAction
        /// Expired idle connections to close (already forgotten by the state machine).
        var close: [ConnectionID]
    }

    /// What a waiting acquire receives.
    enum WaiterOutcome: Sendable, Equatable {
        /// This connection is now leased to the waiter.
        case use(ConnectionID)
        /// A slot is reserved for the waiter: it opens a connection itself.
        case create
        /// The wait ended without a connection.
        case fail(PGError.Kind)
    }

    /// An outcome addressed to one waiter.
    struct Handoff: Sendable, Equatable {
        /// The waiter to resume.
        var waiter: WaiterID
        /// What it gets.
        var outcome: WaiterOutcome
    }

    /// Connections to close and waiters to resume after an event.
    struct Effects: Sendable, Equatable {
        /// Connections to close (already forgotten by the state machine).
        var close: [ConnectionID] = []
        /// Waiters to resume.
        var handoffs: [Handoff] = []
    }

    private struct Entry: Sendable {
        var createdAt: ContinuousClock.Instant
        var lastUsed: ContinuousClock.Instant
    }

    /// The configuration in force.
    let configuration: PGPoolConfiguration
    private var entries: [ConnectionID: Entry] = [:]
    // Most recently used last: reuse the warmest connection, let the others age towards expiry.
    private var idle: [ConnectionID] = []
    private var leased: Set<ConnectionID> = []
    private var connecting = 0
    // FIFO: the longest waiter gets the next connection.
    private var waiters: [WaiterID] = []
    private var consecutiveFailures = 0
    private var downUntil: ContinuousClock.Instant?
    private var isShutdown = false
    private var nextConnectionID = 1

    /// Creates an empty pool state.
    init(configuration: PGPoolConfiguration) {
        self.configuration = configuration
    }

    /// Connections open or being opened (never above `maxConnections`).
    var totalConnections: Int { entries.count + connecting }

    /// Whether the pool is in a backoff window after a failed connect.
    func isDown(now: ContinuousClock.Instant) -> Bool {
        guard let downUntil else { return false }
        return now < downUntil
    }

    /// When the current backoff window ends, if there is one.
    var backoffEnds: ContinuousClock.Instant? { downUntil }

    /// Counts for monitoring.
    func statistics(now: ContinuousClock.Instant) -> (idle: Int, leased: Int, waiting: Int, down: Bool) {
        (idle.count, leased.count, waiters.count, isDown(now: now))
    }

    /// Decides how `waiter` gets a connection.
    mutating func acquire(waiter: WaiterID, now: ContinuousClock.Instant) -> AcquireDecision {
        guard !isShutdown else { return AcquireDecision(action: .fail(.poolUnavailable), close: []) }
        var expired: [ConnectionID] = []
        while let id = idle.popLast() {
            guard let entry = entries[id] else { continue }
            if isExpired(entry, now: now) {
                entries[id] = nil
                expired.append(id)
                continue
            }
            leased.insert(id)
            let needsCheck = entry.lastUsed.duration(to: now) >= configuration.idleCheckAfter
            return AcquireDecision(action: .useIdle(id, needsCheck: needsCheck), close: expired)
        }
        // Fail fast while the database is known to be down; an idle connection (above) is still worth trying.
        if isDown(now: now) { return AcquireDecision(action: .fail(.poolUnavailable), close: expired) }
        if totalConnections < configuration.maxConnections {
            connecting += 1
            return AcquireDecision(action: .createConnection, close: expired)
        }
        waiters.append(waiter)
        return AcquireDecision(action: .wait, close: expired)
    }

    /// A reserved slot produced a connection, now leased to whoever opened it; ends any backoff.
    mutating func connectSucceeded(createdAt: ContinuousClock.Instant, now: ContinuousClock.Instant) -> ConnectionID {
        connecting = max(0, connecting - 1)
        consecutiveFailures = 0
        downUntil = nil
        let id = nextConnectionID
        nextConnectionID += 1
        entries[id] = Entry(createdAt: createdAt, lastUsed: now)
        leased.insert(id)
        return id
    }

    /// A reserved slot failed to connect: start (or extend) the backoff window and fail every waiter.
    ///
    /// The window is `base + (ceiling - base) * jitter` with `ceiling = min(backoffMax, base * 2^(failures-1))`:
    /// full jitter above a floor of `backoffBase`, so a burst of callers cannot reconnect in a tight loop.
    mutating func connectFailed(now: ContinuousClock.Instant, jitter: Double) -> Effects {
        connecting = max(0, connecting - 1)
        consecutiveFailures += 1
        let ceiling = backoffCeiling(afterFailures: consecutiveFailures)
        let base = min(configuration.backoffBase, ceiling)
        let delay = base + (ceiling - base) * min(1, max(0, jitter))
        downUntil = now + delay
        return Effects(close: [], handoffs: failAllWaiters(.poolUnavailable))
    }

    /// A reserved slot was given up without blaming the database (the caller was cancelled or out of time).
    mutating func connectAbandoned(now: ContinuousClock.Instant) -> Effects {
        connecting = max(0, connecting - 1)
        return Effects(close: [], handoffs: passFreedSlot(now: now))
    }

    /// The backoff ceiling after `failures` consecutive failed connects (exposed for tests).
    func backoffCeiling(afterFailures failures: Int) -> Duration {
        var delay = configuration.backoffBase
        var step = 1
        while step < failures && delay < configuration.backoffMax {
            delay = delay * 2
            step += 1
        }
        return min(delay, configuration.backoffMax)
    }

    /// A lease ended. A reusable, unexpired connection goes to the first waiter or back to idle; anything else is
    /// closed and its slot passed on.
    mutating func release(_ id: ConnectionID, reusable: Bool, now: ContinuousClock.Instant) -> Effects {
        leased.remove(id)
        guard var entry = entries[id] else { return Effects() }
        if reusable && !isShutdown && !isExpired(entry, now: now) {
            entry.lastUsed = now
            entries[id] = entry
            if !waiters.isEmpty {
                leased.insert(id)
                return Effects(close: [], handoffs: [Handoff(waiter: waiters.removeFirst(), outcome: .use(id))])
            }
            idle.append(id)
            return Effects()
        }
        entries[id] = nil
        return Effects(close: [id], handoffs: passFreedSlot(now: now))
    }

    /// A waiter gave up (timeout or cancellation). Returns false if it was already handed something.
    mutating func cancelWait(_ waiter: WaiterID) -> Bool {
        guard let index = waiters.firstIndex(of: waiter) else { return false }
        waiters.remove(at: index)
        return true
    }

    /// Stops the pool: idle connections are closed, waiters fail, later acquires fail, leases close on release.
    mutating func shutdown() -> Effects {
        isShutdown = true
        let closing = idle
        idle.removeAll()
        for id in closing { entries[id] = nil }
        return Effects(close: closing, handoffs: failAllWaiters(.poolUnavailable))
    }

    private func isExpired(_ entry: Entry, now: ContinuousClock.Instant) -> Bool {
        entry.createdAt.duration(to: now) >= configuration.maxLifetime
    }

    private mutating func failAllWaiters(_ kind: PGError.Kind) -> [Handoff] {
        let failed = waiters.map { Handoff(waiter: $0, outcome: .fail(kind)) }
        waiters.removeAll()
        return failed
    }

    // A slot became free: the first waiter may open a connection in it (unless the database is down or we stopped).
    private mutating func passFreedSlot(now: ContinuousClock.Instant) -> [Handoff] {
        guard !waiters.isEmpty else { return [] }
        if isShutdown || isDown(now: now) { return failAllWaiters(.poolUnavailable) }
        guard totalConnections < configuration.maxConnections else { return [] }
        connecting += 1
        return [Handoff(waiter: waiters.removeFirst(), outcome: .create)]
    }
}
