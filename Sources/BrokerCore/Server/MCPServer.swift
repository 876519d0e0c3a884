// SPDX-License-Identifier: Apache-2.0

import Foundation
import Logging
import MCPCore
import Synchronization
import Tracing

/// Where a request's encoded notifications and server-to-client requests (`elicitation/create`) go: the POST's
/// SSE stream, or stdout. `nil` when nothing can be delivered (a plain JSON answer).
public typealias OutboundSink = @Sendable ([UInt8]) async -> Void

/// One encoded answer, with the JSON-RPC error code when it is an error.
public struct ServerReply: Sendable {
    public let bytes: [UInt8]
    /// `nil` for a result (including an `isError` tool result, which is a result).
    public let errorCode: Int?
}

/// The transport-independent MCP server: lifecycle, tools, resources, prompts, logging, progress, cancellation.
///
/// Transports hand it one parsed message with the session and the authenticated principal; it returns the
/// encoded response (or `nil` for notifications and cancelled requests). It owns no I/O, so the same logic
/// serves stdio and Streamable HTTP and is unit-testable without sockets.
public final class MCPServer: Sendable {
    public let catalog: Catalog
    public let settings: ServerSettings
    let logger: Logger
    /// The audit sink; `nil` when none is configured.
    public let audit: AuditLog?
    /// Filtered list entries per visibility class (see ``VisibleLists``).
    let visible: VisibleListCache
    /// Rate limits, bulkheads, breakers, retry budget and caches around tool calls.
    let guards: CallGuards
    /// The `tools/call` stages, composed once for this configuration generation.
    let pipeline: CallPipeline
    /// Where requests, tool calls and sessions are counted (process-wide; ``BrokerMetrics/disabled`` when off).
    public let metrics: BrokerMetrics
    /// Audit lines for resource and prompt requests (tool calls are audited by the pipeline).
    let trail: AuditTrail
    /// The 2026-07-28 result fields, encoded once.
    let modern: ModernResult
    /// The state replicas share (``SharedState/local`` for a broker on its own); the same object in every generation.
    public let shared: SharedState
    /// Seals the self-describing tokens backends hand out (paging cursors), with this generation's key.
    public let tokens: SealedTokens
    /// Seals and opens `Mcp-Session-Id`s when `server.shared_state` is configured (any replica serves any session);
    /// `nil` keeps random ids in this process's session table.
    public let sessionIDs: SessionIDSealer?
    /// Version reported in `serverInfo`.
    public static let version = "0.1.0"

    /// - Parameters:
    ///   - resilience: per-backend protection settings by backend name (defaults for any not given).
    ///   - metrics: the process's metrics; the default records nothing.
    ///   - previous: on a reload, the server whose backend guards (breaker, bulkhead, cache, rate share) the
    ///     unchanged backends keep.
    ///   - sealer: seals and opens 2026-07-28 confirmation states; the default uses this process's own key.
    ///   - shared: the state replicas share; the default is this process alone.
    ///   - tokens: seals backend cursors; the default uses this process's own key.
    ///   - sessionIDs: seals HTTP session ids (with shared state); the default keeps random ids.
    public init(
        catalog: Catalog, settings: ServerSettings, audit: AuditLog? = nil, resilience: [String: BackendResilience] = [:],
        metrics: BrokerMetrics = .disabled, logger: Logger, previous: GuardAdoption? = nil, sealer: RequestStateSealer? = nil,
        shared: SharedState = .local, tokens: SealedTokens = .process, sessionIDs: SessionIDSealer? = nil
    ) {
        self.shared = shared
        self.tokens = tokens
        self.sessionIDs = sessionIDs
        self.catalog = catalog
        self.settings = settings
        self.audit = audit
        self.logger = logger
        self.metrics = metrics
        self.trail = AuditTrail(audit: audit, logger: logger)
        self.visible = VisibleListCache(catalog: catalog, policy: settings.policy)
        self.modern = ModernResult(serverInfo: ["name": .string(settings.name), "title": "MCP Broker", "version": .string(Self.version)])
        let guards = CallGuards(
            limits: settings.limits, backends: catalog.backends.map { ($0.name, resilience[$0.name] ?? BackendResilience()) }, metrics: metrics,
            logger: logger, adopting: previous?.guards ?? [:], previous: previous?.server.guards, shared: shared)
        self.guards = guards
        let sealer = sealer ?? RequestStateSealer(keyMaterial: ProcessRequestStateKey.material, ttl: .seconds(settings.requestState.ttlSeconds))
        self.pipeline = CallPipeline(
            catalog: catalog, settings: settings, guards: guards, audit: audit, metrics: metrics, sealer: sealer, shared: shared, tokens: tokens,
            logger: logger)
        for guarded in guards.backends { metrics.watch(guarded) }
        metrics.watchSharedState(shared)
    }

    /// Each backend's circuit breaker state (`closed`, `open`, `half_open`), for readiness.
    public var breakerStates: [String: String] { guards.breakerStates }

    /// Capabilities we serve. `listChanged`: a hot reload can change the lists, and each session whose visible
    /// list changed is told (see ``ListChangeHub``). `subscribe` is absent: resources are not watched.
    static let capabilities: JSONValue = [
        "tools": ["listChanged": true], "resources": ["listChanged": true], "prompts": ["listChanged": true], "logging": [:],
    ]

    /// Processes one inbound message.
    /// - Parameters:
    ///   - message: the parsed message.
    ///   - session: the connection's protocol state.
    ///   - principal: the authenticated caller.
    ///   - notify: delivers notifications related to this request.
    /// - Returns: the encoded response, or `nil` when none must be sent.
    public func process(_ message: RPCMessage, session: Session, principal: Principal, notify: OutboundSink?) async -> [UInt8]? {
        switch message {
        case .notification(let n):
            session.touch()
            handleNotification(n, session: session)
            return nil
        case .response(let response):
            session.touch()
            session.receive(response)
            return nil
        case .request:
            return await processReply(message, session: session, principal: principal, notify: notify)?.bytes
        }
    }

    /// ``process(_:session:principal:notify:)`` for a request, keeping the JSON-RPC error code of the answer (the
    /// 2026-07-28 HTTP status depends on it); `nil` for notifications, responses and cancelled requests.
    public func processReply(_ message: RPCMessage, session: Session, principal: Principal, notify: OutboundSink?) async -> ServerReply? {
        guard case .request(let request) = message else {
            _ = await process(message, session: session, principal: principal, notify: notify)
            return nil
        }
        let task = start(request, session: session, principal: principal, notify: notify)
        return await withTaskCancellationHandler { await task.value } onCancel: { task.cancel() }
    }

    /// Starts one request in its own task and registers it for cancellation before returning, so a
    /// `notifications/cancelled` read right after it always finds it. The task yields the encoded response, or
    /// `nil` when the request was cancelled.
    public func start(_ request: RPCRequest, session: Session, principal: Principal, notify: OutboundSink?) -> Task<ServerReply?, Never> {
        session.touch()
        session.begin(request.id)
        // The task inherits the transport's ServiceContext (the HTTP request's trace context) as a task-local.
        let task = Task { () -> ServerReply? in
            await self.withServerSpan(request, session: session) { span in
                let metrics = self.metrics
                // Without metrics the request path reads no clock and takes no session lock for them.
                let begun: ContinuousClock.Instant? = metrics.isEnabled ? .now : nil
                metrics.requestStarted()
                let (reply, tool, errorType, code) = await self.respond(request, session: session, principal: principal, notify: notify, span: span)
                metrics.requestEnded()
                if let begun {
                    metrics.recordOperation(
                        method: request.method, tool: tool, errorType: errorType, version: session.protocolVersion ?? "", transport: session.transport,
                        duration: ContinuousClock.now - begun)
                }
                if session.end(request.id) { return nil }
                return ServerReply(bytes: reply(), errorCode: code)
            }
        }
        session.attach(request.id) { task.cancel() }
        return task
    }

    /// Runs one request: the encoder of its response (run only if the request was not cancelled meanwhile), with
    /// its operation metric's tool and error labels.
    func respond(
        _ request: RPCRequest, session: Session, principal: Principal, notify: OutboundSink?, span: any Span
    ) async -> (reply: () -> [UInt8], tool: String, errorType: String, errorCode: Int?) {
        // tools/list is served from encoded pages: clients list on every connection, and 1,000 tools are 0.5 MB.
        if request.method == "tools/list", session.isInitialized {
            let amend = session.isModern ? modern : nil
            switch visible.encodedToolsPage(request.params ?? [:], principal: principal, pageSize: settings.pageSize, modern: amend) {
            case .success(let bytes): return ({ RPCEncoding.result(id: request.id, encoded: bytes) }, "", "", nil)
            case .failure(let error):
                Self.noteOutcome(.failure(error), on: span)
                return ({ RPCEncoding.error(id: request.id, error) }, "", MetricLabels.rpcCode(error), error.code)
            }
        }
        // tools/call may relay a backend document already encoded; everything else is a value to encode.
        let reply: Result<MethodResult, RPCError>
        var tool = "", errorType = ""
        if request.method == "tools/call", session.isInitialized {
            let call = await callTool(request, session: session, principal: principal, notify: notify)
            (reply, tool, errorType) = (call.result, call.toolLabel, call.errorType)
        } else {
            reply = await dispatch(request, session: session, principal: principal, notify: notify).map(MethodResult.value)
            if case .failure(let error) = reply { errorType = MetricLabels.rpcCode(error) }
            if request.method == "tools/call" { tool = MetricLabels.unknownTool }
        }
        Self.noteOutcome(reply, on: span)
        let amend = session.isModern ? modern : nil
        switch reply {
        case .success(.value(let result)):
            let value = amend?.decorate(result, method: request.method) ?? result
            return ({ RPCEncoding.result(id: request.id, value) }, tool, errorType, nil)
        case .success(.toolResult(let content, let structured)):
            let encode = {
                RPCEncoding.result(id: request.id, capacity: CallToolResult.encodedSizeEstimate(content: content, structuredContent: structured)) { out in
                    let start = out.count
                    CallToolResult.encode(content: content, structuredContent: structured, into: &out)
                    amend?.amend(&out, from: start, method: "tools/call")
                }
            }
            return (encode, tool, errorType, nil)
        case .failure(let error): return ({ RPCEncoding.error(id: request.id, error) }, tool, errorType, error.code)
        }
    }

    /// A method's result: a value still to encode, or a tool result around an encoded backend document, written
    /// straight into the response.
    enum MethodResult {
        case value(JSONValue)
        case toolResult(content: [ContentBlock], structured: EncodedJSON)

        /// The result as a value; decoding the encoded document is for callers off the request path (CLI, tests).
        var value: JSONValue {
            switch self {
            case .value(let v): return v
            case .toolResult(let content, let structured):
                return CallToolResult(content: content, structuredContent: structured.decoded() ?? .null).json
            }
        }
    }

    func handleNotification(_ n: RPCNotification, session: Session) {
        switch n.method {
        case "notifications/initialized":
            break  // requests are accepted once initialize has been answered; nothing more to record
        case "notifications/cancelled":
            if let raw = n.params?["requestId"], let id = RequestID(json: raw) { session.cancel(id) }
        default:
            break  // unknown notifications are ignored, as JSON-RPC requires
        }
    }

    /// Runs one request and produces its result or protocol error.
    public func dispatch(_ request: RPCRequest, session: Session, principal: Principal, notify: OutboundSink?) async -> Result<JSONValue, RPCError> {
        if session.isModern { return await dispatchModern(request, session: session, principal: principal, notify: notify) }
        let params = request.params ?? [:]
        if request.method == "initialize" { return initialize(params, session: session) }
        if request.method == "ping" { return .success([:]) }
        // 2026-07-28 probe: answer at once so `auto` clients fall back to initialize.
        if request.method == "server/discover" { return .failure(.methodNotFound(request.method)) }
        guard session.isInitialized else {
            return .failure(.invalidRequest("the session is not initialized; send initialize first"))
        }
        switch request.method {
        case "tools/list": return listTools(params, principal: principal)
        case "tools/call": return await callTool(request, session: session, principal: principal, notify: notify).result.map(\.value)
        case "resources/list": return listResources(params, principal: principal)
        case "resources/templates/list": return listResourceTemplates(params, principal: principal)
        case "resources/read": return await readResource(params, principal: principal)
        case "prompts/list": return listPrompts(params, principal: principal)
        case "prompts/get": return await getPrompt(params, principal: principal)
        case "logging/setLevel": return setLevel(params, session: session)
        default: return .failure(.methodNotFound(request.method))
        }
    }

    /// What an `initialize` with `params` negotiates: the transport seals it into a shared session's id before the
    /// request runs, so it must be exactly what ``initialize(_:session:)`` records.
    public static func handshake(_ params: [String: JSONValue]) -> (protocolVersion: String, clientName: String?, supportsElicitation: Bool) {
        (
            ProtocolVersion.negotiate(params["protocolVersion"]?.stringValue), params["clientInfo"]?["name"]?.stringValue,
            Session.supportsElicitation(params["capabilities"] ?? .object([:]))
        )
    }

    func initialize(_ params: [String: JSONValue], session: Session) -> Result<JSONValue, RPCError> {
        let (version, clientName, _) = Self.handshake(params)
        let accepted: Bool = session.state.withLock { s in
            if s.protocolVersion != nil { return false }
            s.protocolVersion = version
            s.clientName = clientName
            s.clientCapabilities = params["capabilities"] ?? .object([:])
            return true
        }
        guard accepted else { return .failure(.invalidRequest("the session is already initialized")) }
        logger.info("session initialized", metadata: ["client": .string(session.clientName ?? "?"), "protocol": .string(version)])
        var result: [String: JSONValue] = [
            "protocolVersion": .string(version),
            "capabilities": Self.capabilities,
            "serverInfo": modern.serverInfo,
        ]
        result["instructions"] = .string(settings.instructions ?? defaultInstructions())
        return .success(.object(result))
    }

    func defaultInstructions() -> String {
        let names = catalog.backends.map(\.name).joined(separator: ", ")
        return "Enterprise systems behind one endpoint. Tools are named <backend>\(catalog.separator)<tool>; backends: \(names). "
            + "Search tools page with next_cursor. Write tools need an idempotency_key: reuse it when retrying the same request."
    }

    func setLevel(_ params: [String: JSONValue], session: Session) -> Result<JSONValue, RPCError> {
        guard let raw = params["level"]?.stringValue, let level = LogLevel(rawValue: raw) else {
            return .failure(.invalidParams("level must be one of \(LogLevel.allCases.map(\.rawValue).joined(separator: ", "))"))
        }
        session.state.withLock { $0.logLevel = level }
        return .success([:])
    }
}
