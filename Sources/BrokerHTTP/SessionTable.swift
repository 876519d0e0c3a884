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
        /// With shared state: the session's name in the store (``SessionClaims/sidHex``).
        var sid: String?
        /// Opened on another replica and set up here from its sealed id (its duration is that replica's to record).
        var materialized = false
        /// When this replica last pushed the store key's expiry (at most once per idle timeout / 4).
        var storeTouched: ContinuousClock.Instant = .now
        /// Opened here while the store was down: its key was never written, so the next touch writes it instead.
        var pendingWrite = false
    }

    private struct Table {
        var entries: [String: Entry] = [:]
        /// Session ids per owner, for fair eviction without scanning every session.
        var byOwner: [String: Set<String>] = [:]
        /// Session ids by shared-state sid (pub/sub messages name sessions by sid).
        var bySid: [String: String] = [:]

        mutating func insert(_ id: String, _ entry: Entry) {
            entries[id] = entry
            byOwner[entry.session.ownerID, default: []].insert(id)
            if let sid = entry.sid { bySid[sid] = id }
        }

        @discardableResult
        mutating func remove(_ id: String) -> Entry? {
            guard let entry = entries.removeValue(forKey: id) else { return nil }
            let owner = entry.session.ownerID
            byOwner[owner]?.remove(id)
            if byOwner[owner]?.isEmpty == true { byOwner[owner] = nil }
            if let sid = entry.sid { bySid[sid] = nil }
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

    /// Creates and registers a session for `owner` (`principal`'s binding key when given): with a random id, or
    /// with `sealed` (shared state) the sealed id, its sid and this replica's id.
    func create(owner: String, principal: Principal? = nil, sealed: (id: String, sid: String, replicaID: String)? = nil) -> Session {
        let session = Session(id: sealed?.id ?? Self.newID(), ownerID: owner, replicaID: sealed?.replicaID)
        var entry = Entry(session: session, principal: principal, stream: nil)
        entry.sid = sealed?.sid
        entry.pendingWrite = sealed != nil
        return admit(entry)
    }

    /// Registers a session opened on another replica (shared state); when a concurrent request registered it
    /// first, that one is returned and `session` dropped.
    func adopt(_ session: Session, principal: Principal, sid: String) -> Session {
        var entry = Entry(session: session, principal: principal, stream: nil)
        entry.sid = sid
        entry.materialized = true
        return admit(entry)
    }

    /// Inserts `entry` (unless its id is already there), evicting fairly beyond the caps.
    private func admit(_ entry: Entry) -> Session {
        guard let id = entry.session.id else { return entry.session }
        let owner = entry.session.ownerID
        let (kept, evicted): (Session, Entry?) = table.withLock { t in
            if let existing = t.entries[id] { return (existing.session, nil) }
            var victim: String?
            if (t.byOwner[owner]?.count ?? 0) >= maxPerOwner {
                victim = t.oldest(of: owner)
            } else if t.entries.count >= maxSessions, let biggest = t.byOwner.max(by: { $0.value.count < $1.value.count })?.key {
                victim = t.oldest(of: biggest)
            }
            let removed = victim.flatMap { t.remove($0) }
            t.insert(id, entry)
            return (entry.session, removed)
        }
        if let evicted { close(evicted) }
        return kept
    }

    /// The session with `id`, if it exists.
    func get(_ id: String) -> Session? { table.withLock { $0.entries[id]?.session } }

    /// The shared-state sid of the session with `id`.
    func sid(of id: String) -> String? { table.withLock { $0.entries[id]?.sid } }

    /// The session named `sid` in shared state, if this replica holds a copy.
    func session(sid: String) -> Session? { table.withLock { t in t.bySid[sid].flatMap { t.entries[$0]?.session } } }

    /// Ends this replica's copy of the session named `sid`; returns whether there was one.
    @discardableResult
    func remove(sid: String) -> Bool {
        guard let entry = table.withLock({ t in t.bySid[sid].flatMap { t.remove($0) } }) else { return false }
        close(entry)
        return true
    }

    /// Whether the store key of session `id` is due a touch (older than `interval`): if so, marks it touched now and
    /// returns its sid and whether the key still has to be written. At most one request per interval gets a sid
    /// back (10 s for a key still to be written).
    func storeTouchDue(_ id: String, every interval: Duration, now: ContinuousClock.Instant = .now) -> (sid: String, pendingWrite: Bool)? {
        table.withLock { t in
            guard var entry = t.entries[id], let sid = entry.sid else { return nil }
            // A key never written (the store was down at initialize) is retried sooner: until then, other replicas
            // cannot tell the session lives.
            guard now - entry.storeTouched >= (entry.pendingWrite ? min(interval, .seconds(10)) : interval) else { return nil }
            entry.storeTouched = now
            t.entries[id] = entry
            return (sid, entry.pendingWrite)
        }
    }

    /// Records that the store key of session `id` was written (or touched) now.
    func markWritten(_ id: String) {
        table.withLock { t in
            t.entries[id]?.pendingWrite = false
            t.entries[id]?.storeTouched = .now
        }
    }

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
        if !entry.materialized { metrics.sessionEnded(entry.session) }
        entry.session.cancelAll()
        entry.stream?.finish()
    }
}
