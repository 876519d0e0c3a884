// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Logging
import Synchronization

extension PGPool {
    /// Opens a connection in a slot the state machine reserved; reports success or failure back to it.
    func open(until limit: ContinuousClock.Instant) async throws(PGError) -> Lease {
        let started = ContinuousClock.now
        do {
            let connection = try await PGConnection.connect(settings, deadline: limit)
            let id = state.withLock { s in
                let id = s.machine.connectSucceeded(createdAt: connection.createdAt, now: .now)
                s.connections[id] = connection
                return id
            }
            return Lease(id: id, connection: connection)
        } catch {
            // A cancelled caller, or one whose own deadline was shorter than the connect timeout, says nothing
            // about the database: free the slot without starting a backoff window.
            let callerLimited = limit < started + settings.connectTimeout
            let blameDatabase = error.kind != .cancelled && !(error.kind == .timeout && callerLimited)
            let now = ContinuousClock.now
            let deliveries = state.withLock { s in
                if blameDatabase { s.lastFailure = error }
                let effects = blameDatabase
                    ? s.machine.connectFailed(now: now, jitter: Double.random(in: 0...1))
                    : s.machine.connectAbandoned(now: now)
                return Self.take(effects.handoffs, from: &s)
            }
            Self.deliver(deliveries)
            if blameDatabase {
                metrics.connectFailed()
                logger.warning("connect failed; pool backing off", metadata: ["error": "\(error)"])
                logger.debug("connect failure detail", metadata: ["detail": "\(error.serverMessage ?? "")"])
            }
            throw error
        }
    }

    /// Leases the idle connection `id`, after a `SELECT 1` when it sat idle long; nil if the check failed
    /// (the connection is then closed and its slot freed, and the caller tries again).
    func leaseIdle(_ id: PGPoolStateMachine.ConnectionID, check: Bool) async -> Lease? {
        guard let connection = state.withLock({ $0.connections[id] }) else { return nil }
        let lease = Lease(id: id, connection: connection)
        guard check else { return lease }
        // A fresh task, so a cancelled caller does not make a healthy connection look broken.
        let healthy = await Task {
            do {
                let rows = try await connection.query("SELECT 1", parameters: [], rowLimit: 1, byteLimit: 64)
                return rows.rows.count == 1 && connection.isIdleAndHealthy
            } catch {
                return false
            }
        }.value
        if healthy { return lease }
        logger.debug("idle connection failed its health check; replacing it")
        await release(lease, failure: PGError(.connectionLost))
        return nil
    }

    /// Parks until a release hands this waiter something, the limit passes (.poolExhausted) or the task is cancelled.
    func wait(_ waiter: PGPoolStateMachine.WaiterID, until limit: ContinuousClock.Instant) async -> PGPoolStateMachine.WaiterOutcome {
        let timer = Task { [weak self] in
            // Sleep is cancelled when the wait ends first; only a full sleep times the waiter out.
            guard (try? await Task.sleep(until: limit, clock: .continuous)) != nil else { return }
            self?.abandonWait(waiter, with: .poolExhausted)
        }
        defer { timer.cancel() }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<PGPoolStateMachine.WaiterOutcome, Never>) in
                let early = state.withLock { s -> PGPoolStateMachine.WaiterOutcome? in
                    if let outcome = s.earlyOutcomes.removeValue(forKey: waiter) { return outcome }
                    s.waiters[waiter] = continuation
                    return nil
                }
                if let early { continuation.resume(returning: early) }
            }
        } onCancel: {
            abandonWait(waiter, with: .cancelled)
        }
    }

    /// Ends a wait with a failure unless the waiter was already handed something.
    private func abandonWait(_ waiter: PGPoolStateMachine.WaiterID, with kind: PGError.Kind) {
        let continuation = state.withLock { s -> CheckedContinuation<PGPoolStateMachine.WaiterOutcome, Never>? in
            guard s.machine.cancelWait(waiter) else { return nil }
            if let continuation = s.waiters.removeValue(forKey: waiter) { return continuation }
            s.earlyOutcomes[waiter] = .fail(kind)
            return nil
        }
        continuation?.resume(returning: .fail(kind))
    }
}
