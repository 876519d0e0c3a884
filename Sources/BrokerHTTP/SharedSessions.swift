// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Logging
import MCPCore
import NIOCore
import Synchronization

/// 2025-11-25 sessions that any replica serves (`server.shared_state`).
///
/// The session id is sealed (``SessionIDSealer``): a replica that does not hold a session opens its id, checks the
/// owner against the authenticated principal and sets up a local copy (*materializes* it). Whether the session
/// still lives is the store key `sess:<sid>` (value: the log level, or `-`), written at initialize and expiring
/// after the session idle timeout; each replica pushes its expiry at most once per timeout / 4 per session, not
/// per request. DELETE removes the key and tells every replica on channel `sessions` (`end <sid>`), and
/// `logging/setLevel` stores the level and publishes it (`level <sid> <level>`). A client's answer to a
/// server-to-client request (`broker-<replicaID>-<n>`) that reaches another replica is published on
/// `reply:<replicaID>` as `{"sid":…,"response":…}` and delivered to the waiting call there.
///
/// Local idle expiry and eviction only drop this replica's copy. While the store is unreachable a sealed id is
/// served as it is (degraded: a session deleted meanwhile is only ended where the message arrived), and each such
/// fallback is counted.
final class SharedSessions: Sendable {
    static let channel = "sessions"

    let store: any SharedStateStore
    /// This replica's id (``SharedState/replicaID``).
    let replicaID: String
    let sessions: SessionTable
    /// The store key's lifetime: the session idle timeout.
    let idleTimeout: Duration
    /// The largest reply message sent or accepted (the POST body cap plus the envelope).
    let maxMessageBytes: Int
    let logger: Logger
    private let fallbackCount = Atomic<Int>(0)

    init(shared: SharedState, store: any SharedStateStore, sessions: SessionTable, idleTimeout: Duration, maxBodyBytes: Int, logger: Logger) {
        self.store = store
        self.replicaID = shared.replicaID
        self.sessions = sessions
        self.idleTimeout = idleTimeout
        self.maxMessageBytes = maxBodyBytes + 128
        self.logger = logger
    }

    static func key(_ sid: String) -> String { "sess:\(sid)" }
    static func replyChannel(_ replicaID: String) -> String { "reply:\(replicaID)" }

    /// How often the session layer fell back to serving without the store.
    var fallbacks: Int { fallbackCount.load(ordering: .relaxed) }

    /// Listens on `sessions` and on this replica's reply channel, for the life of the store.
    func subscribe() {
        store.subscribe(Self.channel) { [weak sessions] message in
            guard let sessions else { return }
            Self.apply(message, to: sessions)
        }
        let cap = maxMessageBytes
        store.subscribe(Self.replyChannel(replicaID)) { [weak sessions] message in
            guard let sessions else { return }
            Self.deliverReply(message, to: sessions, maxBytes: cap)
        }
    }

    /// `end <sid>` ends this replica's copy (cancelling its calls and its GET stream); `level <sid> <level>` updates it.
    static func apply(_ message: String, to sessions: SessionTable) {
        let parts = message.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count >= 2 else { return }
        let sid = String(parts[1])
        switch parts[0] {
        case "end" where parts.count == 2:
            sessions.remove(sid: sid)
        case "level" where parts.count == 3:
            sessions.session(sid: sid)?.setLogLevel(LogLevel(rawValue: String(parts[2])))
        default:
            break
        }
    }

    /// Hands a forwarded client answer to the call waiting for it; anything else (too big, malformed, a session or
    /// request id not waiting here) is dropped, as a late or forged answer is.
    static func deliverReply(_ message: String, to sessions: SessionTable, maxBytes: Int) {
        guard message.utf8.count <= maxBytes, let value = try? JSONParser.parse(message), let sid = value["sid"]?.stringValue,
            let raw = value["response"], case .response(let response)? = try? RPCMessage.classify(raw), let session = sessions.session(sid: sid)
        else { return }
        session.receive(response)
    }

    /// A sealed id for a new session opened by `initialize` with `params`, and its sid.
    func issue(_ params: [String: JSONValue], principal: Principal, sealer: SessionIDSealer) -> (id: String, sid: String)? {
        let handshake = MCPServer.handshake(params)
        let issued = sealer.issue(
            owner: principal.bindingKey, protocolVersion: handshake.protocolVersion, clientName: handshake.clientName,
            supportsElicitation: handshake.supportsElicitation)
        return issued.map { ($0.id, $0.claims.sidHex) }
    }

    /// Writes the liveness key of a session `initialize` has just opened here.
    func opened(_ id: String) async {
        guard let sid = sessions.sid(of: id) else { return }
        do {
            try await store.set(Self.key(sid), value: "-", ttl: idleTimeout)
            sessions.markWritten(id)
        } catch {
            fallback("initialize", error)
        }
    }

    /// The session `id` for `principal`: this replica's copy (its store key pushed when due), or one materialized
    /// from the sealed id; `nil` when unknown, another principal's, or ended.
    func resolve(_ id: String, principal: Principal, sealer: SessionIDSealer) async -> Session? {
        if let session = sessions.get(id) {
            guard session.ownerID == principal.bindingKey else { return nil }
            return await keepAlive(id, session: session) ? session : nil
        }
        guard let claims = sealer.open(id), claims.isOwned(by: principal.bindingKey) else { return nil }
        var level: LogLevel?
        do {
            // No key: the session was deleted, or idle on every replica for the whole timeout.
            guard let value = try await store.get(Self.key(claims.sidHex)) else { return nil }
            level = LogLevel(rawValue: value)
        } catch {
            fallback("materialize", error)
        }
        let session = Session(id: id, ownerID: principal.bindingKey, replicaID: replicaID)
        session.restore(
            protocolVersion: claims.protocolVersion, clientName: claims.clientName, supportsElicitation: claims.supportsElicitation, logLevel: level)
        return sessions.adopt(session, principal: principal, sid: claims.sidHex)
    }

    /// Pushes the store key's expiry when due; `false` (and the local copy ended) when the key is gone.
    func keepAlive(_ id: String, session: Session) async -> Bool {
        guard let due = sessions.storeTouchDue(id, every: idleTimeout / 4) else { return true }
        let key = Self.key(due.sid)
        do {
            if due.pendingWrite {
                try await store.set(key, value: session.logLevel?.rawValue ?? "-", ttl: idleTimeout)
            } else if try await store.touch(key, ttl: idleTimeout) == false {
                sessions.remove(id)
                return false
            }
            sessions.markWritten(id)
        } catch {
            fallback("touch", error)
        }
        return true
    }

    /// DELETE: ends the session on every replica.
    func end(_ id: String) async {
        let sid = sessions.sid(of: id)
        sessions.remove(id)
        guard let sid else { return }
        do {
            _ = try await store.delete(Self.key(sid))
            try await store.publish(Self.channel, "end \(sid)")
        } catch {
            fallback("delete", error)
        }
    }

    /// `logging/setLevel` answered here: stores the level and tells the other replicas' copies.
    func levelChanged(_ id: String, to level: LogLevel?) async {
        guard let sid = sessions.sid(of: id) else { return }
        let value = level?.rawValue ?? "-"
        do {
            try await store.set(Self.key(sid), value: value, ttl: idleTimeout)
            sessions.markWritten(id)
            try await store.publish(Self.channel, "level \(sid) \(value)")
        } catch {
            fallback("set_level", error)
        }
    }

    /// Sends a client's answer to the replica whose request it answers, when that is another replica and no request
    /// of this copy waits for it. `false`: not another replica's (the caller processes it here).
    func forward(_ response: RPCResponse, body: ByteBuffer, sessionID id: String, session: Session) async -> Bool {
        guard let requestID = response.id, !session.isAwaiting(requestID), let owner = Session.replica(ofOutbound: requestID), owner != replicaID,
            let sid = sessions.sid(of: id)
        else { return false }
        // The body parsed as one JSON-RPC response, so it is valid JSON to embed as it is.
        let message = #"{"sid":""# + sid + #"","response":"# + String(decoding: body.readableBytesView, as: UTF8.self) + "}"
        guard message.utf8.count <= maxMessageBytes else {
            logger.notice("client answer too large to forward to another replica; dropped", metadata: ["bytes": "\(message.utf8.count)"])
            return true
        }
        do {
            try await store.publish(Self.replyChannel(owner), message)
        } catch {
            fallback("reply", error)
        }
        return true
    }

    /// One session operation done without the store.
    private func fallback(_ operation: String, _ error: any Error) {
        fallbackCount.add(1, ordering: .relaxed)
        sessions.metrics.recordSharedStateFallback(operation == "reply" ? "reply" : "session")
        // Debug, not warning: during an outage this is every request; the store logs going down and coming back once,
        // and the fallback counter carries the volume.
        logger.debug(
            "shared state unavailable; sessions served from this replica's copy (degraded)",
            metadata: ["operation": .string(operation), "error": .string(String(describing: error).prefix(200).description)])
    }
}
