// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import HTTPTypes
import Hummingbird
import Logging
import MCPCore
import NIOCore
import Synchronization
import Tracing

/// The Streamable HTTP endpoint: MCP 2025-11-25 (POST for messages, GET for the server stream, DELETE to end a
/// session) and, chosen per request by the `MCP-Protocol-Version` header, 2026-07-28 (POST only, no session; see
/// ``postModern(_:request:accept:lease:principal:)``).
///
/// Order of checks on POST, cheapest first so hostile input costs little: Origin (403), Content-Type (415),
/// declared size (413), body read with the cap (413), JSON-RPC parse (400), protocol-version header (400),
/// session (400 missing / 404 unknown). Notifications get 202. A `tools/call` that will send notifications
/// (a progress token, or a session log level) is answered as SSE on the POST itself, so progress reaches
/// clients without a GET stream; everything else is one JSON body.
///
/// Each request runs on the generation current when it arrived (``LiveBroker/begin()``): its server, its auth and
/// its origin list, to the end, even if a reload swaps generations meanwhile.
struct MCPEndpoint: Sendable {
    let live: LiveBroker
    let sessions: SessionTable
    /// Open `subscriptions/listen` streams (ended with their result on shutdown).
    let listeners: ListenStreams
    /// Built once: its in-flight count and rate state span generations (its settings need a restart).
    let frontDoor: FrontDoor
    let views: EndpointViews
    /// Sessions any replica serves (`server.shared_state`); `nil` on a broker on its own.
    let shared: SharedSessions?
    let logger: Logger

    init(live: LiveBroker, sessions: SessionTable, listeners: ListenStreams, shared: SharedSessions? = nil, logger: Logger) {
        self.live = live
        self.sessions = sessions
        self.shared = shared
        self.listeners = listeners
        let first = live.current.server
        self.frontDoor = FrontDoor(limits: first.settings.limits, metrics: first.metrics, tenants: TenantLabels(settings: first.settings))
        self.views = EndpointViews(logger: logger)
        self.logger = logger
    }

    func post(_ request: Request, context: some RequestContext) async -> Response {
        let lease = live.begin()
        let view = views.view(of: lease.generation)
        let server = lease.server, settings = view.settings, auth = view.auth
        // An SSE answer outlives this function; it ends the lease when its call has finished.
        var streaming = false
        defer { if !streaming { lease.end() } }
        if let refusal = checkOrigin(request, view) { return refusal }
        // Shedding, authentication and the request rate all come before the body is read, so a flood costs no
        // body parsing.
        if let refusal = frontDoor.enter() { return refusal }
        defer { frontDoor.leave() }
        let principal: Principal
        switch await auth.authenticate(request) {
        case .success(let p): principal = p
        case .failure(let refusal): return refusal.response
        }
        if let refusal = frontDoor.admit(principal) { return refusal }
        guard HeaderMatch.hasPrefix(request.headers.value(.contentType) ?? "", "application/json") else {
            return Self.error(.unsupportedMediaType, .invalidRequest("Content-Type must be application/json"))
        }
        let accept = request.headers.value(.accept) ?? "*/*"
        guard HeaderMatch.contains(accept, "application/json") || HeaderMatch.contains(accept, "text/event-stream") || HeaderMatch.contains(accept, "*/*") else {
            return Self.error(.notAcceptable, .invalidRequest("Accept must include application/json and text/event-stream"))
        }
        if let length = request.headers.value(.contentLength).flatMap({ Int($0) }), length > settings.maxBodyBytes {
            return Self.error(.contentTooLarge, .invalidRequest("body larger than \(settings.maxBodyBytes) bytes"))
        }
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: settings.maxBodyBytes)
        } catch {
            return Self.error(.contentTooLarge, .invalidRequest("body larger than \(settings.maxBodyBytes) bytes"))
        }
        let message: RPCMessage
        do {
            message = try RPCMessage.parse(body.readableBytesView)
        } catch {
            return Self.error(.badRequest, error, id: RPCMessage.salvageID(body.readableBytesView))
        }
        let protocolVersion = request.headers.value(MCPHeader.protocolVersion)
        // A non-handshake MCP-Protocol-Version is a 2026-07-28 client (or a newer one, told -32022 there).
        if let version = protocolVersion, ProtocolVersion.routesModern(header: version) {
            let (response, streams) = await postModern(message, request: request, accept: accept, lease: lease, principal: principal)
            streaming = streams
            return response
        }
        if case .request(let r) = message {
            // A handshake-era request carrying a 2026 envelope disagrees with its own header (or lacks it).
            if RequestEnvelope.marksModern(r) {
                return Self.error(.badRequest, .headerMismatch("the body carries a 2026-07-28 envelope; send MCP-Protocol-Version: 2026-07-28"), id: r.id)
            }
            // A 2026 probe without the header: answered at once so the client falls back to initialize.
            if r.method == "server/discover" { return Self.error(.notFound, .methodNotFound(r.method), id: r.id) }
        }
        let isInitialize: Bool
        if case .request(let r) = message, r.method == "initialize" { isInitialize = true } else { isInitialize = false }
        if !isInitialize, let version = protocolVersion, !ProtocolVersion.supported.contains(version) {
            return Self.error(.badRequest, .invalidRequest("unsupported MCP-Protocol-Version '\(version.prefix(40))'; supported: \(ProtocolVersion.supported.joined(separator: ", "))"))
        }
        let session: Session
        let sharing = self.sharing(server)
        if isInitialize, case .request(let r) = message, case let (shared, sealer)? = sharing {
            // The id seals what this initialize negotiates, so it is made before the request runs.
            guard let sealed = shared.issue(r.params ?? [:], principal: principal, sealer: sealer) else {
                return Self.error(.internalServerError, .internalError(correlationID: CallContext.newCorrelationID()), id: r.id)
            }
            session = sessions.create(owner: principal.bindingKey, principal: principal, sealed: (sealed.id, sealed.sid, shared.replicaID))
        } else if isInitialize {
            session = sessions.create(owner: principal.bindingKey, principal: principal)
        } else {
            switch await lookupSession(request, principal: principal, server: server) {
            case .success(let s): session = s
            case .failure(let e): return e.response
            }
        }
        var headers: HTTPFields = [:]
        if let id = session.id { headers[MCPHeader.sessionID] = id }
        guard case .request(let rpc) = message else {
            // An answer to another replica's elicitation goes back to that replica's waiting call.
            var forwarded = false
            if case .response(let r) = message, let shared = sharing?.0, let id = session.id {
                forwarded = await shared.forward(r, body: body, sessionID: id, session: session)
            }
            if forwarded { session.touch() } else { _ = await server.process(message, session: session, principal: principal, notify: nil) }
            return Response(status: .accepted, headers: headers)
        }
        // The request's trace context reaches the server span through the task-local (the SSE task inherits it).
        let trace = TraceContextExtraction.context(request.headers)
        if server.needsStream(rpc, session: session, principal: principal) && (HeaderMatch.contains(accept, "text/event-stream") || HeaderMatch.contains(accept, "*/*")) {
            streaming = true
            return ServiceContext.$current.withValue(trace) { sse(message, lease: lease, session: session, principal: principal, headers: headers) }
        }
        let reply = await ServiceContext.$current.withValue(trace) { await server.process(message, session: session, principal: principal, notify: nil) }
        if let shared = sharing?.0, let id = session.id {
            // Awaited, so the next request (on any replica) finds the session and its level in the store.
            if isInitialize, session.isInitialized { await shared.opened(id) }
            if rpc.method == "logging/setLevel" { await shared.levelChanged(id, to: session.logLevel) }
        }
        headers[.contentType] = "application/json"
        guard let reply else { return Response(status: .accepted, headers: headers) }
        let encoded = frontDoor.compress(reply, request: request, headers: &headers)
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: encoded))
    }

    /// Answers on an SSE stream: the request's notifications, then its response, then the stream closes.
    func sse(_ message: RPCMessage, lease: GenerationLease, session: Session, principal: Principal, headers: HTTPFields) -> Response {
        let (events, continuation) = AsyncStream<ByteBuffer>.makeStream()
        let work = Task {
            defer { lease.end() }
            let reply = await lease.server.process(message, session: session, principal: principal) { bytes in
                continuation.yield(SSE.event(bytes))
            }
            if let reply { continuation.yield(SSE.event(reply)) }
            continuation.finish()
        }
        // A client that disconnects does not cancel the call (2025-11-25: disconnect is not cancellation);
        // the call still ends at its deadline.
        _ = work
        return Self.sseResponse(events, headers: headers)
    }

    func get(_ request: Request, context: some RequestContext) async -> Response {
        let view = views.view(of: live.current)
        let auth = view.auth
        if let refusal = checkOrigin(request, view) { return refusal }
        if let refusal = Self.postOnly(request) { return refusal }
        guard HeaderMatch.contains(request.headers.value(.accept) ?? "", "text/event-stream") else {
            return Self.error(.notAcceptable, .invalidRequest("GET needs Accept: text/event-stream"))
        }
        let principal: Principal
        switch await auth.authenticate(request) {
        case .success(let p): principal = p
        case .failure(let refusal): return refusal.response
        }
        let session: Session
        switch await lookupSession(request, principal: principal, server: live.current.server) {
        case .success(let s): session = s
        case .failure(let e): return e.response
        }
        guard let id = session.id else { return Self.error(.badRequest, .invalidRequest("missing Mcp-Session-Id")) }
        let (events, continuation) = AsyncStream<ByteBuffer>.makeStream()
        guard let generation = sessions.attachStream(id, continuation) else {
            return Self.error(.notFound, .invalidRequest("session not found; initialize a new session"))
        }
        let table = sessions
        // Comment lines keep proxies from closing an idle stream; they end with the session.
        let keepAlive = Self.keepAlive(continuation)
        continuation.onTermination = { _ in
            keepAlive.cancel()
            table.detachStream(id, generation: generation)
        }
        return Self.sseResponse(events, headers: [MCPHeader.sessionID: id])
    }

    func delete(_ request: Request, context: some RequestContext) async -> Response {
        let view = views.view(of: live.current)
        let auth = view.auth
        if let refusal = checkOrigin(request, view) { return refusal }
        if let refusal = Self.postOnly(request) { return refusal }
        let principal: Principal
        switch await auth.authenticate(request) {
        case .success(let p): principal = p
        case .failure(let refusal): return refusal.response
        }
        let server = live.current.server
        switch await lookupSession(request, principal: principal, server: server) {
        case .success(let s):
            if let id = s.id {
                if let shared = sharing(server)?.0 { await shared.end(id) } else { sessions.remove(id) }
            }
            logger.info("session ended by client", metadata: ["client": .string(s.clientName ?? "?")])
            return Response(status: .ok)
        case .failure(let e):
            return e.response
        }
    }

    func methodNotAllowed(_ request: Request, context: some RequestContext) async -> Response {
        var r = Self.error(.methodNotAllowed, .invalidRequest("use POST, GET or DELETE"))
        r.headers[.allow] = "GET, POST, DELETE"
        return r
    }

    /// 2026-07-28 has no GET stream and no session to delete: a client of that era is told to POST.
    static func postOnly(_ request: Request) -> Response? {
        guard let version = request.headers.value(MCPHeader.protocolVersion), ProtocolVersion.routesModern(header: version) else { return nil }
        var r = ModernRouting.error(.invalidRequest("MCP \(version.prefix(40)) uses POST only"), id: nil)
        r.status = .methodNotAllowed
        r.headers[.allow] = "POST"
        return r
    }

    func checkOrigin(_ request: Request, _ view: EndpointView) -> Response? {
        guard view.origins.permits(request.headers.value(.origin)) else {
            logger.notice("request refused: origin not allowed", metadata: ["origin": .string(String((request.headers.value(.origin) ?? "").prefix(100)))])
            return Self.error(.forbidden, .invalidRequest("Origin not allowed"))
        }
        return nil
    }

    /// The shared session layer and the generation's id sealer, when replicas share sessions.
    func sharing(_ server: MCPServer) -> (SharedSessions, SessionIDSealer)? {
        guard let shared, let sealer = server.sessionIDs else { return nil }
        return (shared, sealer)
    }

    func lookupSession(_ request: Request, principal: Principal, server: MCPServer) async -> Result<Session, ResponseError> {
        guard let id = request.headers.value(MCPHeader.sessionID) else {
            return .failure(ResponseError(Self.error(.badRequest, .invalidRequest("missing Mcp-Session-Id header; send initialize first"))))
        }
        let found: Session?
        if case let (shared, sealer)? = sharing(server) {
            found = await shared.resolve(id, principal: principal, sealer: sealer)
        } else {
            found = sessions.get(id).flatMap { $0.ownerID == principal.bindingKey ? $0 : nil }
        }
        // An unknown id and another principal's id look the same, so ids cannot be probed.
        guard let session = found else {
            return .failure(ResponseError(Self.error(.notFound, .invalidRequest("session not found; initialize a new session"))))
        }
        return .success(session)
    }

    /// A JSON-RPC error body with an HTTP status.
    static func error(_ status: HTTPResponse.Status, _ error: RPCError, id: MCPCore.RequestID? = nil) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: RPCEncoding.error(id: id, error))))
    }
}

/// What the endpoint derives from one generation's settings: the origin list and the auth gate.
struct EndpointView: Sendable {
    let generation: UInt64
    let settings: HTTPSettings
    let origins: OriginPolicy
    let auth: AuthGate
}

/// The view of the latest generation seen, rebuilt when a reload installs a new one (rare), so a request costs a
/// lock and a comparison.
final class EndpointViews: Sendable {
    private let latest = Mutex<EndpointView?>(nil)
    let logger: Logger

    init(logger: Logger) { self.logger = logger }

    func view(of generation: BrokerGeneration) -> EndpointView {
        if let hit = latest.withLock({ $0 }), hit.generation == generation.number { return hit }
        let settings = generation.settings.http
        let view = EndpointView(
            generation: generation.number, settings: settings, origins: OriginPolicy(settings.allowedOrigins),
            auth: AuthGate(authenticator: generation.authenticator ?? FixedPrincipalAuthenticator(settings.principal), settings: settings, logger: logger))
        // A request still on an older generation must not replace a newer view.
        latest.withLock { v in if (v?.generation ?? 0) <= view.generation { v = view } }
        return view
    }
}

/// A response carried as an error value, so session lookup can return either.
struct ResponseError: Error {
    let response: Response
    init(_ response: Response) { self.response = response }
}

/// Server-Sent Events framing.
enum SSE {
    static func event(_ json: [UInt8]) -> ByteBuffer {
        var b = ByteBuffer()
        b.reserveCapacity(json.count + 24)
        b.writeString("event: message\ndata: ")
        b.writeBytes(json)
        b.writeString("\n\n")
        return b
    }

    static let comment = ByteBuffer(string: ": keep-alive\n\n")
}
