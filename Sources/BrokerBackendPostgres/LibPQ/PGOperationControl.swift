// SPDX-License-Identifier: Apache-2.0

import Dispatch
import Synchronization

/// Coordinates one libpq operation with Swift task cancellation.
///
/// The operation runs on the connection's queue; `requestCancel()` comes from whatever thread cancels the task.
/// The phases make the race safe: a cancel that arrives before the statement was sent stops it from being sent;
/// one that arrives after is forwarded to the server (`PQcancel`) exactly once; one that arrives after the
/// operation finished does nothing. `finish()` waits for an in-flight cancel request so that it can never hit a
/// later statement on the same connection.
final class PGOperationControl: Sendable {
    private enum Phase { case pending, sent, finished }
    private struct State {
        var phase = Phase.pending
        var cancelRequested = false
        var cancelSent = false
    }

    private let state = Mutex(State())
    // Tracks the PQcancel call running on the cancel queue, so finish() can wait for it.
    private let inFlightCancel = DispatchGroup()
    private let sendCancel: @Sendable () -> Void
    private let cancelQueue: DispatchQueue

    /// Creates a control whose server-side cancel is `sendCancel`, called at most once on `cancelQueue`.
    ///
    /// `cancelQueue` must be a serial queue other than the connection's (which is blocked in `PQgetResult`
    /// waiting for the cancel to take effect); serial queues get their own thread when blocked, so a slow
    /// `PQcancel` cannot starve Dispatch's width-limited concurrent pool.
    init(cancelQueue: DispatchQueue, sendCancel: @escaping @Sendable () -> Void) {
        self.cancelQueue = cancelQueue
        self.sendCancel = sendCancel
    }

    /// Whether the task asked to cancel (at any phase).
    var isCancelRequested: Bool { state.withLock { $0.cancelRequested } }

    /// Whether a cancel request was actually forwarded to the server.
    var wasCancelSent: Bool { state.withLock { $0.cancelSent } }

    /// Called by the task-cancellation handler.
    func requestCancel() {
        let forward = state.withLock { s -> Bool in
            s.cancelRequested = true
            guard s.phase == .sent, !s.cancelSent else { return false }
            s.cancelSent = true
            return true
        }
        if forward { dispatchCancel() }
    }

    /// Called on the connection queue right after the statement was handed to libpq.
    /// Forwards a cancel that was requested while the statement was being sent.
    func markSent() {
        let forward = state.withLock { s -> Bool in
            s.phase = .sent
            guard s.cancelRequested, !s.cancelSent else { return false }
            s.cancelSent = true
            return true
        }
        if forward { dispatchCancel() }
    }

    /// Called on the connection queue when the operation is done; waits (bounded) for an in-flight cancel.
    func finish() {
        state.withLock { $0.phase = .finished }
        // PQcancel returns once the postmaster has taken the request; 5 s bounds a server that stopped answering.
        _ = inFlightCancel.wait(timeout: .now() + .seconds(5))
    }

    private func dispatchCancel() {
        inFlightCancel.enter()
        // PQcancel opens a new socket and blocks: never on the cooperative pool, never on the connection queue
        // (which is busy in PQgetResult waiting for exactly this cancel to take effect).
        cancelQueue.async { [inFlightCancel, sendCancel] in
            sendCancel()
            inFlightCancel.leave()
        }
    }
}
