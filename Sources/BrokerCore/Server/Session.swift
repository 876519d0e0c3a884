// SPDX-License-Identifier: Apache-2.0

import MCPCore
import Synchronization

/// The protocol state of one MCP connection (a stdio process, or one HTTP `Mcp-Session-Id`), or of one 2026-07-28
/// request, whose envelope stands in for what `initialize` would have set (``init(modern:ownerID:transport:)``).
///
/// Holds the negotiated revision, the client's declared capabilities, the log level it asked for, and the
/// requests in flight so `notifications/cancelled` can stop them. The session id is never authentication:
/// the transport authenticates every request, and the session remembers which principal created it.
public final class Session: Sendable {
    /// HTTP session id; `nil` on stdio.
    public let id: String?
    /// Principal id that created the session; requests from anyone else are refused by the transport.
    public let ownerID: String
    /// `pipe` (stdio) or `tcp` (HTTP), for metrics.
    public let transport: NetworkTransport
    /// When the session was opened (`mcp_server_session_duration_seconds`).
    public let opened = ContinuousClock.now
    /// Whether this is one 2026-07-28 request rather than a handshake-era session: its answers carry `resultType`
    /// and cache hints, confirmations go through MRTR, and removed methods are unknown.
    public let isModern: Bool
    /// Starts the ids of server-to-client requests: `broker-` alone, or `broker-<replicaID>-` when replicas share
    /// state, so a client's answer that reaches another replica can be sent back to this one.
    let outboundPrefix: String

    struct State {
        var protocolVersion: String?
        var clientName: String?
        var clientCapabilities: JSONValue = .object([:])
        var logLevel: LogLevel?
        // A begun request maps to nil until its task exists (see `begin`).
        var inflight: [RequestID: (@Sendable () -> Void)?] = [:]
        var cancelled: Set<RequestID> = []
        var lastUsed: ContinuousClock.Instant = .now
        /// Server-to-client requests awaiting the client's response.
        var outbound: [RequestID: CheckedContinuation<ClientReply, Never>] = [:]
        var nextOutbound = 0
    }

    let state = Mutex(State())

    /// - Parameters:
    ///   - transport: defaults to `pipe` for a session without id (stdio) and `tcp` for one with.
    ///   - replicaID: this replica's ``SharedState/replicaID`` when replicas share state (it names this replica in
    ///     the ids of server-to-client requests); `nil` on a broker on its own.
    public init(id: String?, ownerID: String, transport: NetworkTransport? = nil, replicaID: String? = nil) {
        self.id = id
        self.ownerID = ownerID
        self.transport = transport ?? (id == nil ? .pipe : .tcp)
        self.isModern = false
        self.outboundPrefix = replicaID.map { "broker-\($0)-" } ?? "broker-"
    }

    /// The state of one 2026-07-28 request: initialized by its envelope, with nothing carried over from any other
    /// request (the spec forbids inferring capabilities from earlier requests).
    public init(modern envelope: RequestEnvelope, ownerID: String, transport: NetworkTransport) {
        self.id = nil
        self.ownerID = ownerID
        self.transport = transport
        self.isModern = true
        self.outboundPrefix = "broker-"
        state.withLock { s in
            s.protocolVersion = envelope.protocolVersion
            s.clientName = envelope.clientName
            s.clientCapabilities = envelope.clientCapabilities
            s.logLevel = envelope.logLevel
        }
    }

    /// The revision agreed in `initialize`, if it happened.
    public var protocolVersion: String? { state.withLock { $0.protocolVersion } }
    /// Whether `initialize` has been answered.
    public var isInitialized: Bool { state.withLock { $0.protocolVersion != nil } }
    /// The level set by `logging/setLevel`; `nil` means no log notifications.
    public var logLevel: LogLevel? { state.withLock { $0.logLevel } }
    /// The client's name from `initialize`, for logs.
    public var clientName: String? { state.withLock { $0.clientName } }
    /// When the session was last used (for idle expiry).
    public var lastUsed: ContinuousClock.Instant { state.withLock { $0.lastUsed } }

    /// Whether the client declared it can answer `elicitation/create` (form mode).
    public var supportsElicitation: Bool { Self.supportsElicitation(state.withLock { $0.clientCapabilities }) }

    /// Whether `capabilities` (as sent in `initialize`) declare form elicitation.
    public static func supportsElicitation(_ capabilities: JSONValue) -> Bool {
        guard let e = capabilities["elicitation"], case .object(let modes) = e else { return false }
        // `{}` means form only (2025-06-18 style); otherwise form must be listed.
        return modes.isEmpty || modes["form"] != nil
    }

    /// Sets up a session that was initialized on another replica, from its sealed id and the shared store: the
    /// revision, the client's name, form elicitation (the only client capability the broker acts on) and the log
    /// level. A session already initialized is left as it is.
    public func restore(protocolVersion: String, clientName: String?, supportsElicitation: Bool, logLevel: LogLevel?) {
        state.withLock { s in
            guard s.protocolVersion == nil else { return }
            s.protocolVersion = protocolVersion
            s.clientName = clientName
            s.clientCapabilities = supportsElicitation ? ["elicitation": ["form": [:]]] : [:]
            s.logLevel = logLevel
        }
    }

    /// Sets the level log notifications are filtered at (`nil`: none); `logging/setLevel` on another replica.
    public func setLogLevel(_ level: LogLevel?) { state.withLock { $0.logLevel = level } }

    /// Records activity.
    public func touch() { state.withLock { $0.lastUsed = .now } }

    /// Registers a request id before its task exists, so a cancellation that arrives right behind the request
    /// (the next line on stdio) is not lost.
    func begin(_ id: RequestID) {
        state.withLock { s in
            s.inflight[id] = .some(nil)
            s.cancelled.remove(id)
        }
    }

    /// Attaches the way to cancel a begun request; cancels at once if the cancellation already arrived.
    func attach(_ id: RequestID, cancel: @escaping @Sendable () -> Void) {
        let cancelNow: Bool = state.withLock { s in
            guard s.inflight[id] != nil else { return false }
            if s.cancelled.contains(id) { return true }
            s.inflight[id] = .some(cancel)
            return false
        }
        if cancelNow { cancel() }
    }

    /// Unregisters a request; returns `true` if it was cancelled meanwhile (its response must not be sent).
    func end(_ id: RequestID) -> Bool {
        state.withLock { s in
            s.inflight[id] = nil
            return s.cancelled.remove(id) != nil
        }
    }

    /// Handles `notifications/cancelled`; unknown or finished ids are ignored (races are normal).
    public func cancel(_ id: RequestID) {
        let action: (@Sendable () -> Void)? = state.withLock { s in
            guard let entry = s.inflight[id] else { return nil }
            s.cancelled.insert(id)
            return entry
        }
        action?()
    }

    /// Cancels everything in flight (session end, shutdown), including waits for client answers.
    public func cancelAll() {
        let (actions, waits) = state.withLock { s in
            s.cancelled.formUnion(s.inflight.keys)
            defer { s.outbound.removeAll() }
            return (s.inflight.values.compactMap { $0 }, Array(s.outbound.values))
        }
        for a in actions { a() }
        for w in waits { w.resume(returning: .cancelled) }
    }
}
