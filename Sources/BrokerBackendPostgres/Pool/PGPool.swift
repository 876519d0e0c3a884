// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Logging
import Synchronization

/// A bounded pool of ``PGConnection``s for one backend and login role.
///
/// Decisions come from ``PGPoolStateMachine`` under a `Mutex`; connecting, health checks, ROLLBACK and closing
/// happen outside the lock. Waiting acquires park on continuations resumed by releases, bounded by a timer task.
final class PGPool: Sendable {
    /// A connection leased to one `withConnection` body.
    struct Lease: Sendable {
        /// The state machine's id for the connection.
        let id: PGPoolStateMachine.ConnectionID
        /// The connection itself.
        let connection: PGConnection
    }

    /// Everything guarded by `state`: the state machine plus the objects its ids stand for.
    struct Locked {
        /// The pool's decisions.
        var machine: PGPoolStateMachine
        /// Every open connection (idle or leased) by id.
        var connections: [PGPoolStateMachine.ConnectionID: PGConnection] = [:]
        /// Parked acquires by waiter id.
        var waiters: [PGPoolStateMachine.WaiterID: CheckedContinuation<PGPoolStateMachine.WaiterOutcome, Never>] = [:]
        /// Outcomes that arrived before the waiter parked its continuation.
        var earlyOutcomes: [PGPoolStateMachine.WaiterID: PGPoolStateMachine.WaiterOutcome] = [:]
        /// The next waiter id to hand out.
        var nextWaiterID = 1
        /// The last connect failure that started a backoff (for debug detail on .poolUnavailable).
        var lastFailure: PGError?
    }

    /// The pool's name (the backend instance, plus the role when pools are per tenant), for logs.
    let name: String
    /// How each new connection connects (the password is resolved per connect).
    let settings: PGConnectionSettings
    /// Sizing, timeouts and backoff.
    let configuration: PGPoolConfiguration
    /// Pool logger (metadata `pg.pool`); server text only at debug level.
    let logger: Logger
    /// The lock around all mutable pool state; never held across an `await` or libpq call.
    let state: Mutex<Locked>
    /// Counts connect failures that start a backoff.
    let metrics: BackendMetrics

    /// Creates an empty pool; connections open on demand (or via ``warmUp(deadline:)``).
    init(name: String, settings: PGConnectionSettings, configuration: PGPoolConfiguration, logger: Logger, metrics: BackendMetrics = .disabled) {
        self.name = name
        self.metrics = metrics
        self.settings = settings
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "pg.pool"] = "\(name)"
        self.logger = logger
        self.state = Mutex(Locked(machine: PGPoolStateMachine(configuration: configuration)))
    }

    /// Lease a connection for `body`; acquire waits at most min(acquireTimeout, deadline) → .poolExhausted.
    /// Idle connections older than idleCheckAfter are checked (`SELECT 1` via query) before reuse; older than maxLifetime are replaced.
    /// On release: if the connection is not idle+healthy, try ROLLBACK; if still not idle or body threw connectionLost → close it.
    /// Fail fast while the database is down: after a failed connect the pool is "down" for a jittered, growing backoff
    /// (base * 2^n, full jitter, capped at backoffMax); acquires in that window fail at once with .poolUnavailable
    /// (unless an idle healthy connection exists); the first success resets it. Recovers without restarting anything.
    ///
    /// - Throws: ``PGError`` from acquiring, or whatever `body` throws.
    func withConnection<T: Sendable>(
        deadline: ContinuousClock.Instant, _ body: (PGConnection) async throws -> T
    ) async throws -> T {
        let lease = try await acquire(deadline: deadline)
        let value: T
        do {
            value = try await body(lease.connection)
        } catch {
            await release(lease, failure: error)
            throw error
        }
        await release(lease, failure: nil)
        return value
    }

    /// Counts for monitoring: idle and leased connections, waiting acquires, and whether the pool is backing off.
    func statistics() -> (idle: Int, leased: Int, waiting: Int, down: Bool) {
        let now = ContinuousClock.now
        return state.withLock { $0.machine.statistics(now: now) }
    }

    /// Closes idle connections; new acquires fail (leased connections close when released).
    func shutdown() {
        let (closing, deliveries) = state.withLock { s in
            let effects = s.machine.shutdown()
            return (Self.take(effects.close, from: &s), Self.take(effects.handoffs, from: &s))
        }
        closing.forEach { $0.close() }
        Self.deliver(deliveries)
    }

    /// Opens connections up to `minConnections` (best effort: stops at the first failure).
    func warmUp(deadline: ContinuousClock.Instant) async {
        var leases: [Lease] = []
        for _ in 0..<max(0, configuration.minConnections) {
            guard let lease = try? await acquire(deadline: deadline) else { break }
            leases.append(lease)
        }
        for lease in leases { await release(lease, failure: nil) }
    }

    /// Leases a connection: an idle one (checked if it sat long), a new one, or one handed over by a release.
    func acquire(deadline: ContinuousClock.Instant) async throws(PGError) -> Lease {
        let limit = min(deadline, ContinuousClock.now + configuration.acquireTimeout)
        while true {
            if Task.isCancelled { throw PGError(.cancelled) }
            let now = ContinuousClock.now
            let (waiter, decision, expired) = state.withLock { s in
                let waiter = s.nextWaiterID
                s.nextWaiterID += 1
                let decision = s.machine.acquire(waiter: waiter, now: now)
                return (waiter, decision.action, Self.take(decision.close, from: &s))
            }
            expired.forEach { $0.close() }
            switch decision {
            case .useIdle(let id, let needsCheck):
                if let lease = await leaseIdle(id, check: needsCheck) { return lease }
            case .createConnection:
                return try await open(until: limit)
            case .wait:
                switch await wait(waiter, until: limit) {
                case .use(let id):
                    if let connection = state.withLock({ $0.connections[id] }) { return Lease(id: id, connection: connection) }
                case .create:
                    return try await open(until: limit)
                case .fail(let kind):
                    throw failure(kind)
                }
            case .fail(let kind):
                throw failure(kind)
            }
        }
    }

    /// Returns a lease: reuse, roll back, or close, as the brief's release rules say.
    func release(_ lease: Lease, failure: (any Error)?) async {
        let connection = lease.connection
        var reusable: Bool
        if (failure as? PGError)?.kind == .connectionLost {
            reusable = false
        } else if (failure as? PGError)?.oversizedReply == true {
            // libpq keeps its input buffer at the size of the largest reply it read: closing gives that memory back.
            reusable = false
        } else if connection.isIdleAndHealthy {
            reusable = true
        } else if connection.isConnectionOK {
            // The body left a transaction open or failed inside one. A fresh task, so that the caller's own
            // cancellation cannot stop the ROLLBACK that makes the connection reusable.
            await Task { try? await connection.execute("ROLLBACK") }.value
            reusable = connection.isIdleAndHealthy
        } else {
            reusable = false
        }
        let now = ContinuousClock.now
        let (closing, deliveries) = state.withLock { s in
            let effects = s.machine.release(lease.id, reusable: reusable, now: now)
            return (Self.take(effects.close, from: &s), Self.take(effects.handoffs, from: &s))
        }
        if !reusable { logger.debug("closing a connection that is not reusable") }
        closing.forEach { $0.close() }
        Self.deliver(deliveries)
    }

    private func failure(_ kind: PGError.Kind) -> PGError {
        let cause = state.withLock { $0.lastFailure }
        // The last connect failure explains a .poolUnavailable in debug logs (kind and SQLSTATE only in `description`).
        return PGError(kind, sqlState: kind == .poolUnavailable ? cause?.sqlState : nil,
                       serverMessage: kind == .poolUnavailable ? cause.map { "last connect failure: \($0)" } : nil)
    }

    /// Removes the given connections from the map and returns them for closing outside the lock.
    static func take(_ ids: [PGPoolStateMachine.ConnectionID], from s: inout Locked) -> [PGConnection] {
        ids.compactMap { s.connections.removeValue(forKey: $0) }
    }

    /// Pairs handoffs with parked continuations (or stores them for waiters that have not parked yet).
    static func take(
        _ handoffs: [PGPoolStateMachine.Handoff], from s: inout Locked
    ) -> [(CheckedContinuation<PGPoolStateMachine.WaiterOutcome, Never>, PGPoolStateMachine.WaiterOutcome)] {
        handoffs.compactMap { handoff in
            if let continuation = s.waiters.removeValue(forKey: handoff.waiter) { return (continuation, handoff.outcome) }
            s.earlyOutcomes[handoff.waiter] = handoff.outcome
            return nil
        }
    }

    /// Resumes waiters; called outside the lock.
    static func deliver(
        _ deliveries: [(CheckedContinuation<PGPoolStateMachine.WaiterOutcome, Never>, PGPoolStateMachine.WaiterOutcome)]
    ) {
        for (continuation, outcome) in deliveries { continuation.resume(returning: outcome) }
    }
}

/// A pool held weakly, so the metrics reader does not keep a replaced backend's pools alive.
struct WeakPool: Sendable {
    weak var pool: PGPool?
    init(_ pool: PGPool) { self.pool = pool }
}
