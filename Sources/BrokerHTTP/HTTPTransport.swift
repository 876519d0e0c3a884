// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Hummingbird
import HummingbirdCore
import Logging
import MCPCore
import NIOCore
import ServiceLifecycle
import UnixSignals

/// Builds the broker's HTTP application: the MCP endpoint, `/livez` and `/readyz`.
///
/// This is the only module that imports Hummingbird; backends never see it.
public enum HTTPTransport {
    /// Builds the application and its helper services over a fixed broker (tests; no reload).
    public static func makeServices(
        broker: Broker, authenticator: (any Authenticator)? = nil, logger: Logger,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> [any Service] {
        makeServices(live: LiveBroker(broker: broker, authenticator: authenticator, logger: logger), logger: logger, onServerRunning: onServerRunning)
    }

    /// Builds the application and its helper services.
    ///
    /// The services to run, in order: the application, then a closer for server-initiated SSE streams. A
    /// ServiceGroup shuts services down in reverse order, so the closer ends the never-ending GET streams first and
    /// the HTTP server's graceful shutdown then only waits for real in-flight calls.
    /// - Parameters:
    ///   - live: the serving broker; each request uses its current generation (server, policy, authenticator).
    ///     The listener (host, port, path), the session table and the front door are built once from the
    ///     generation current now: those settings need a restart (see ``RestartOnlySettings``). A generation
    ///     without an authenticator runs every request as the configured development principal
    ///     (``HTTPSettings/principal``), which configuration allows on loopback only.
    ///   - logger: the transport's logger.
    ///   - onServerRunning: called with the bound port once listening (port 0 picks a free one: tests).
    public static func makeServices(
        live: LiveBroker, logger: Logger, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> [any Service] {
        let settings = live.current.settings.http
        // The process's metrics: every generation reports to the same registry.
        let metrics = live.current.server.metrics
        let sessions = SessionTable(
            maxSessions: settings.maxSessions, maxPerOwner: settings.maxSessionsPerPrincipal, idleTimeout: .seconds(settings.sessionIdleTimeoutSeconds),
            metrics: metrics)
        metrics.watchSessions(.tcp) { [weak sessions] in sessions?.count }
        let listeners = ListenStreams()
        // With a store, sessions are sealed and any replica serves them (the store is restart-only, like this table).
        let state = live.current.server.shared
        let shared = state.store.map { store in
            SharedSessions(
                shared: state, store: store, sessions: sessions, idleTimeout: .seconds(settings.sessionIdleTimeoutSeconds),
                maxBodyBytes: settings.maxBodyBytes, logger: logger)
        }
        shared?.subscribe()
        let app = makeApplication(live: live, sessions: sessions, listeners: listeners, shared: shared, logger: logger, onServerRunning: onServerRunning)
        return [app, StreamCloser(sessions: sessions, listeners: listeners, live: live, token: live.hub.subscribe { sessions.announce($0) })]
    }

    static func makeApplication(
        live: LiveBroker, sessions: SessionTable, listeners: ListenStreams, shared: SharedSessions? = nil, logger: Logger,
        onServerRunning: @escaping @Sendable (Int) async -> Void
    ) -> some ApplicationProtocol {
        let settings = live.current.settings.http
        let endpoint = MCPEndpoint(live: live, sessions: sessions, listeners: listeners, shared: shared, logger: logger)
        let router = Router()
        // RFC 9728 Protected Resource Metadata, at the root and at the path-suffixed form MCP clients try first;
        // from the current generation, so enabling or changing JWT auth by reload changes it too.
        for path in ["/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource" + settings.path] {
            router.get(RouterPath(path)) { _, _ in
                guard let metadata = live.current.authenticator?.protectedResourceMetadata else {
                    return json(.notFound, ["error": "not_found"])
                }
                return json(.ok, metadata)
            }
        }
        router.on(RouterPath(settings.path), method: .post) { request, context in await endpoint.post(request, context: context) }
        router.on(RouterPath(settings.path), method: .get) { request, context in await endpoint.get(request, context: context) }
        router.on(RouterPath(settings.path), method: .delete) { request, context in await endpoint.delete(request, context: context) }
        for method in [HTTPRequest.Method.put, .patch, .options, .head] {
            router.on(RouterPath(settings.path), method: method) { request, context in await endpoint.methodNotAllowed(request, context: context) }
        }
        router.get("/livez") { _, _ in json(.ok, ["status": "alive"]) }
        router.get("/readyz") { _, _ in
            let readiness = await live.readiness()
            return json(readiness.status == "unavailable" ? .serviceUnavailable : .ok, readiness.json)
        }
        let http1 = HTTP1Channel.Configuration(
            idleTimeout: .seconds(Int64(settings.idleTimeoutSeconds)),
            httpDecoderConfiguration: .init(maxHeaderFieldSize: 16 * 1024, maxHeaderListSize: 32 * 1024, maxHeaderFieldCount: 100))
        return Application(
            router: router,
            server: .http1(configuration: http1),
            configuration: ApplicationConfiguration(
                address: .hostname(settings.host, port: settings.port), serverName: "mcp-broker",
                availableConnectionsDelegate: .maximum(1024, logger: logger)),
            services: [SessionSweeper(sessions: sessions, logger: logger)],
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? settings.port) },
            logger: logger
        )
    }

    /// Serves until SIGTERM or SIGINT, then shuts down gracefully (in-flight calls finish within their deadlines).
    /// - Parameters:
    ///   - extraServices: run beside the listener (the reload service), started first and stopped last.
    ///   - first: services started before and stopped after everything else (the span exporter, which must outlive
    ///     the calls whose spans it flushes).
    ///   - metrics: the Prometheus listener (`server.metrics`), run as one more service of the same group.
    public static func serve(
        live: LiveBroker, extraServices: [any Service] = [], first: [any Service] = [],
        metrics: (exporter: MetricsExporter, settings: MetricsSettings)? = nil,
        logger: Logger, onServerRunning: @escaping @Sendable (Int) async -> Void, onMetricsRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws {
        var services = extraServices + makeServices(live: live, logger: logger, onServerRunning: onServerRunning)
        if let metrics {
            // Before the MCP listener, so it is shut down after it and the final numbers of a draining broker can
            // still be scraped.
            services.insert(
                MetricsListener.makeApplication(exporter: metrics.exporter, settings: metrics.settings, logger: logger, onServerRunning: onMetricsRunning),
                at: 0)
        }
        let group = ServiceGroup(configuration: .init(services: first + services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    static func json(_ status: HTTPResponse.Status, _ value: JSONValue) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: JSONWriter.encode(value))))
    }
}

/// Ends idle sessions every 30 s, and all sessions at shutdown.
struct SessionSweeper: Service {
    let sessions: SessionTable
    let logger: Logger

    func run() async throws {
        defer { sessions.removeAll() }
        // The sleep ends at graceful shutdown too, so the sweeper never holds shutdown up.
        while (try? await cancelWhenGracefulShutdown({ try await Task.sleep(for: .seconds(30)) })) != nil {
            let n = sessions.expireIdle()
            if n > 0 { logger.info("expired idle sessions", metadata: ["count": "\(n)"]) }
        }
    }
}

/// Ends the server-initiated GET streams and the `subscriptions/listen` streams when graceful shutdown begins (and
/// stops announcing list changes).
struct StreamCloser: Service {
    let sessions: SessionTable
    let listeners: ListenStreams
    let live: LiveBroker
    /// The sessions' subscription to list changes.
    let token: UInt64

    func run() async throws {
        try? await gracefulShutdown()
        live.hub.unsubscribe(token)
        sessions.closeStreams()
        listeners.closeAll()
    }
}
