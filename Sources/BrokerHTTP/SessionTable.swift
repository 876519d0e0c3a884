// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import MCPCore
import NIOCore
import Synchronization

/// The live HTTP sessions, keyed by `Mcp-Session-Id`.
///
/// Ids are 128 bits from the system CSPRNG, rendered as 32 hex characters (inside the visible-ASCII range the
/// transport requires). A session id is never authentication: each entry records its owner principal and the
/// endpoint refuses use by anyone else. Idle sessions expire; beyond `maxSessions` the least recently used
/// session is ended.
final class SessionTable: Sendable {
    struct Entry: Sendable {
        let session: Session
        /// The standalone GET stream, when one is open (at most one per session), with its generation number.
        var stream: AsyncStream<ByteBuffer>.Continuation?
        var streamGeneration: UInt64 = 0
    }

    private let entries = Mutex<[String: Entry]>([:])
    let maxSessions: Int
    let idleTimeout: Duration

    init(maxSessions: Int, idleTimeout: Duration) {
        self.maxSessions = maxSessions
        self.idleTimeout = idleTimeout
    }

    static func newID() -> String {
        var g = SystemRandomNumberGenerator()
        let a = g.next() as UInt64, b = g.next() as UInt64
        func hex(_ v: UInt64) -> String {
            let s = String(v, radix: 16)
            return String(repeating: "0", count: 16 - s.count) + s
        }
        return hex(a) + hex(b)
    }

    /// Creates and registers a session for `owner`.
    func create(owner: String) -> Session {
        let session = Session(id: Self.newID(), ownerID: owner)
        var evicted: Entry?
        entries.withLock { e in
            if e.count >= maxSessions, let oldest = e.min(by: { $0.value.session.lastUsed < $1.value.session.lastUsed }) {
                evicted = e.removeValue(forKey: oldest.key)
            }
            if let id = session.id { e[id] = Entry(session: session, stream: nil) }
        }
        if let evicted { Self.close(evicted) }
        return session
    }

    /// The session with `id`, if it exists.
    func get(_ id: String) -> Session? { entries.withLock { $0[id]?.session } }

    /// Ends a session; returns whether it existed.
    @discardableResult
    func remove(_ id: String) -> Bool {
        guard let entry = entries.withLock({ $0.removeValue(forKey: id) }) else { return false }
        Self.close(entry)
        return true
    }

    /// Attaches the GET stream, replacing (and ending) an earlier one: a client that lost its connection
    /// reconnects at once, instead of waiting until a write on the dead stream fails. Each message still goes
    /// to exactly one stream. Returns the stream's generation, or `nil` when the session is gone.
    func attachStream(_ id: String, _ continuation: AsyncStream<ByteBuffer>.Continuation) -> UInt64? {
        let result: (UInt64, AsyncStream<ByteBuffer>.Continuation?)? = entries.withLock { e in
            guard var entry = e[id] else { return nil }
            let old = entry.stream
            entry.stream = continuation
            entry.streamGeneration &+= 1
            e[id] = entry
            return (entry.streamGeneration, old)
        }
        guard let (generation, old) = result else { return nil }
        old?.finish()
        return generation
    }

    /// Detaches a GET stream that ended, unless a newer one has replaced it.
    func detachStream(_ id: String, generation: UInt64) {
        entries.withLock { e in
            if e[id]?.streamGeneration == generation { e[id]?.stream = nil }
        }
    }

    /// Ends every GET stream (graceful shutdown begins: the server must not wait on never-ending responses).
    func closeStreams() {
        let streams: [AsyncStream<ByteBuffer>.Continuation] = entries.withLock { e in
            var out: [AsyncStream<ByteBuffer>.Continuation] = []
            for (k, v) in e {
                if let s = v.stream { out.append(s) }
                e[k]?.stream = nil
            }
            return out
        }
        for s in streams { s.finish() }
    }

    /// Ends every session idle for longer than the timeout; returns how many.
    func expireIdle(now: ContinuousClock.Instant = .now) -> Int {
        let expired: [Entry] = entries.withLock { e in
            let old = e.filter { now - $0.value.session.lastUsed > idleTimeout }
            for k in old.keys { e[k] = nil }
            return Array(old.values)
        }
        for entry in expired { Self.close(entry) }
        return expired.count
    }

    /// Ends all sessions (shutdown).
    func removeAll() {
        let all = entries.withLock { e in
            defer { e.removeAll() }
            return Array(e.values)
        }
        for entry in all { Self.close(entry) }
    }

    private static func close(_ entry: Entry) {
        entry.session.cancelAll()
        entry.stream?.finish()
    }
}
