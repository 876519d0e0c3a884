// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import MCPCore
import NIOCore
import Synchronization

/// The live HTTP sessions, keyed by `Mcp-Session-Id`.
///
/// Ids are 128 bits from the system CSPRNG, rendered as 32 hex characters (inside the visible-ASCII range the
/// transport requires). A session id is never authentication: each entry records its owner principal and the
/// endpoint refuses use by anyone else. Idle sessions expire.
///
/// Eviction is fair between principals: a principal over `maxPerOwner` loses its own least recently used session,
/// and when the table is full the principal holding the most sessions loses its least recently used one. So one
/// principal opening sessions in a loop only ever ends its own sessions, never another principal's.
final class SessionTable: Sendable {
    struct Entry: Sendable {
        let session: Session
        /// Who opened the session: whose visible lists decide which list-change notifications it gets.
        var principal: Principal?
        /// The standalone GET stream, when one is open (at most one per session), with its generation number.
        var stream: AsyncStream<ByteBuffer>.Continuation?
        var streamGeneration: UInt64 = 0
    }

    private struct Table {
        var entries: [String: Entry] = [:]
        /// Session ids per owner, for fair eviction without scanning every session.
        var byOwner: [String: Set<String>] = [:]

        mutating func insert(_ id: String, _ entry: Entry) {
            entries[id] = entry
            byOwner[entry.session.ownerID, default: []].insert(id)
        }

        @discardableResult
        mutating func remove(_ id: String) -> Entry? {
            guard let entry = entries.removeValue(forKey: id) else { return nil }
            let owner = entry.session.ownerID
            byOwner[owner]?.remove(id)
            if byOwner[owner]?.isEmpty == true { byOwner[owner] = nil }
            return entry
        }

        /// The owner's least recently used session.
        func oldest(of owner: String) -> String? {
            byOwner[owner]?.min { (entries[$0]?.session.lastUsed ?? .now) < (entries[$1]?.session.lastUsed ?? .now) }
        }
    }

    private let table = Mutex(Table())
    let maxSessions: Int
    let maxPerOwner: Int
    let idleTimeout: Duration
    /// Records each ended session's duration.
    let metrics: BrokerMetrics

    init(maxSessions: Int, maxPerOwner: Int = 64, idleTimeout: Duration, metrics: BrokerMetrics = .disabled) {
        self.maxSessions = maxSessions
        self.maxPerOwner = max(1, min(maxPerOwner, maxSessions))
        self.idleTimeout = idleTimeout
        self.metrics = metrics
    }

    /// Live sessions.
    var count: Int { table.withLock { $0.entries.count } }

    /// How many sessions `owner` holds.
    func count(owner: String) -> Int { table.withLock { $0.byOwner[owner]?.count ?? 0 } }

    static func newID() -> String {
        var g = SystemRandomNumberGenerator()
        let a = g.next() as UInt64, b = g.next() as UInt64
        func hex(_ v: UInt64) -> String {
            let s = String(v, radix: 16)
            return String(repeating: "0", count: 16 - s.count) + s
        }
        return hex(a) + hex(b)
    }

    /// Creates and registers a session for `owner` (`principal`'s binding key when given).
    func create(owner: String, principal: Principal? = nil) -> Session {
        let session = Session(id: Self.newID(), ownerID: owner)
        let evicted: Entry? = table.withLock { t in
            var victim: String?
            if (t.byOwner[owner]?.count ?? 0) >= maxPerOwner {
                victim = t.oldest(of: owner)
            } else if t.entries.count >= maxSessions, let biggest = t.byOwner.max(by: { $0.value.count < $1.value.count })?.key {
                victim = t.oldest(of: biggest)
            }
            let removed = victim.flatMap { t.remove($0) }
            if let id = session.id { t.insert(id, Entry(session: session, principal: principal, stream: nil)) }
            return removed
        }
        if let evicted { close(evicted) }
        return session
    }

    /// The session with `id`, if it exists.
    func get(_ id: String) -> Session? { table.withLock { $0.entries[id]?.session } }

    /// Ends a session; returns whether it existed.
    @discardableResult
    func remove(_ id: String) -> Bool {
        guard let entry = table.withLock({ $0.remove(id) }) else { return false }
        close(entry)
        return true
    }

    /// Attaches the GET stream, replacing (and ending) an earlier one: a client that lost its connection
    /// reconnects at once, instead of waiting until a write on the dead stream fails. Each message still goes
    /// to exactly one stream. Returns the stream's generation, or `nil` when the session is gone.
    func attachStream(_ id: String, _ continuation: AsyncStream<ByteBuffer>.Continuation) -> UInt64? {
        let result: (UInt64, AsyncStream<ByteBuffer>.Continuation?)? = table.withLock { t in
            guard var entry = t.entries[id] else { return nil }
            let old = entry.stream
            entry.stream = continuation
            entry.streamGeneration &+= 1
            t.entries[id] = entry
            return (entry.streamGeneration, old)
        }
        guard let (generation, old) = result else { return nil }
        old?.finish()
        return generation
    }

    /// Detaches a GET stream that ended, unless a newer one has replaced it.
    func detachStream(_ id: String, generation: UInt64) {
        table.withLock { t in
            if t.entries[id]?.streamGeneration == generation { t.entries[id]?.stream = nil }
        }
    }

    /// Sends each initialized session with an open GET stream the list-change notifications its principal needs
    /// (MCP: server-initiated messages go on the standalone GET stream). A session without one misses them, as
    /// the transport allows; its next list call shows the new lists anyway.
    func announce(_ change: ListChange) {
        let targets: [(Session, Principal, AsyncStream<ByteBuffer>.Continuation)] = table.withLock { t in
            t.entries.values.compactMap { e in
                guard let principal = e.principal, let stream = e.stream else { return nil }
                return (e.session, principal, stream)
            }
        }
        for (session, principal, stream) in targets where session.isInitialized {
            for notification in change.notifications(for: principal) { stream.yield(SSE.event(notification)) }
        }
    }

    /// Ends every GET stream (graceful shutdown begins: the server must not wait on never-ending responses).
    func closeStreams() {
        let streams: [AsyncStream<ByteBuffer>.Continuation] = table.withLock { t in
            var out: [AsyncStream<ByteBuffer>.Continuation] = []
            for (k, v) in t.entries {
                if let s = v.stream { out.append(s) }
                t.entries[k]?.stream = nil
            }
            return out
        }
        for s in streams { s.finish() }
    }

    /// Ends every session idle for longer than the timeout; returns how many.
    func expireIdle(now: ContinuousClock.Instant = .now) -> Int {
        let expired: [Entry] = table.withLock { t in
            let old = t.entries.filter { now - $0.value.session.lastUsed > idleTimeout }.map(\.key)
            return old.compactMap { t.remove($0) }
        }
        for entry in expired { close(entry) }
        return expired.count
    }

    /// Ends all sessions (shutdown).
    func removeAll() {
        let all = table.withLock { t in
            defer { t = Table() }
            return Array(t.entries.values)
        }
        for entry in all { close(entry) }
    }

    private func close(_ entry: Entry) {
        metrics.sessionEnded(entry.session)
        entry.session.cancelAll()
        entry.stream?.finish()
    }
}
