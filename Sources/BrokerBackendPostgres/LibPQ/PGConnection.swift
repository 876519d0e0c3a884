// SPDX-License-Identifier: Apache-2.0

import CLibPQ
import Dispatch
import Synchronization

/// One PostgreSQL session over libpq.
///
/// Ownership: the instance owns its `PGconn*` (freed by ``close()`` or, failing that, `deinit`) and the `PGcancel*`
/// obtained at connect (freed together with it).
///
/// Threading — why `@unchecked Sendable` is sound: every libpq call on `conn` runs on `queue`, a private serial
/// `DispatchQueue`, so the connection is never touched by two threads at once and blocking calls (`PQgetResult`)
/// never occupy Swift's cooperative pool. The only state read from other threads is behind `Mutex`es: the cancel
/// handle (`PQcancel` is documented thread-safe; the lock only keeps it alive while in use) and a status snapshot
/// taken at the end of every queue job, which is what ``isIdleAndHealthy`` reads.
final class PGConnection: @unchecked Sendable {
    /// When the session was established (the pool replaces connections older than its max lifetime).
    let createdAt: ContinuousClock.Instant

    /// The serial queue that owns every libpq call on `conn`.
    let queue: DispatchQueue

    /// Where this connection's `PQcancel` calls run (serial, separate from `queue`).
    let cancelQueue = DispatchQueue(label: "mcp-broker.pg.cancel")

    // Accessed only on `queue`.
    private var conn: OpaquePointer?

    /// A raw libpq pointer held in a lock; the lock, not the pointer, is what crosses threads.
    private struct PointerBox: @unchecked Sendable { var raw: OpaquePointer? }

    private struct Snapshot {
        var connectionOK = false
        var transactionIdle = false
    }

    private let cancelHandle: Mutex<PointerBox>
    private let snapshot = Mutex(Snapshot())

    /// Adopts an established connection. Must run on `queue` (the handshake calls it there).
    init(adopting conn: OpaquePointer, queue: DispatchQueue) {
        self.conn = conn
        self.queue = queue
        self.createdAt = .now
        self.cancelHandle = Mutex(PointerBox(raw: PQgetCancel(conn)))
        refreshSnapshot()
    }

    deinit {
        // No queue job can be pending here (each one retains self), so touching `conn` directly is race-free.
        cancelHandle.withLock { box in
            if let c = box.raw { PQfreeCancel(c) }
            box.raw = nil
        }
        if let conn { PQfinish(conn) }
    }

    /// PQtransactionStatus == PQTRANS_IDLE and PQstatus == CONNECTION_OK, as of the end of the last operation.
    var isIdleAndHealthy: Bool {
        snapshot.withLock { $0.connectionOK && $0.transactionIdle }
    }

    /// Whether the session is still usable (CONNECTION_OK, not stuck in pipeline mode), regardless of transaction state.
    var isConnectionOK: Bool {
        snapshot.withLock { $0.connectionOK }
    }

    /// Closes the session (PQfinish on its queue, after any running operation); idempotent.
    func close() {
        queue.async { self.finishOnQueue() }
    }

    /// Runs `work` with the live `PGconn*` on the connection's queue and hands back its result.
    /// A closed connection yields `.connectionLost` without calling `work`.
    func onQueue<T: Sendable>(
        _ work: @escaping @Sendable (OpaquePointer) -> Result<T, PGError>
    ) async -> Result<T, PGError> {
        await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, PGError>, Never>) in
            queue.async {
                guard let conn = self.conn else {
                    continuation.resume(returning: .failure(PGError(.connectionLost, serverMessage: "connection is closed")))
                    return
                }
                let result = work(conn)
                self.refreshSnapshot()
                continuation.resume(returning: result)
            }
        }
    }

    /// Asks the server to cancel whatever this session is running. Blocking (opens a socket): call off the
    /// cooperative pool; ``PGOperationControl`` does so on its cancel queue.
    func sendServerCancel() {
        cancelHandle.withLock { box in
            guard let handle = box.raw else { return }
            var errorBuffer = [CChar](repeating: 0, count: 256)
            // A failed cancel is harmless: the statement then ends on its own (or by statement_timeout).
            _ = PQcancel(handle, &errorBuffer, Int32(errorBuffer.count))
        }
    }

    private func finishOnQueue() {
        cancelHandle.withLock { box in
            if let c = box.raw { PQfreeCancel(c) }
            box.raw = nil
        }
        if let conn { PQfinish(conn) }
        conn = nil
        snapshot.withLock { $0 = Snapshot() }
    }

    // Called on `queue` only.
    private func refreshSnapshot() {
        guard let conn else {
            snapshot.withLock { $0 = Snapshot() }
            return
        }
        // A session left in pipeline mode had results that could not be read back (see `pipeline(_:)`): unusable.
        let ok = PQstatus(conn) == CONNECTION_OK && PQpipelineStatus(conn) == PQ_PIPELINE_OFF
        let idle = PQtransactionStatus(conn) == PQTRANS_IDLE
        snapshot.withLock { $0 = Snapshot(connectionOK: ok, transactionIdle: idle) }
    }
}
