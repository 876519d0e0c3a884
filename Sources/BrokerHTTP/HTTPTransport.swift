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
    /// Builds the application and its helper services.
    /// - Parameters:
    ///   - broker: the assembled broker.
    ///   - logger: the transport's logger.
    ///   - onServerRunning: called with the bound port once listening (port 0 picks a free one: tests).
    /// The services to run, in order: the application, then a closer for server-initiated SSE streams.
    ///
    /// A ServiceGroup shuts services down in reverse order, so the closer ends the never-ending GET streams
    /// first and the HTTP server's graceful shutdown then only waits for real in-flight calls.
    ///   - authenticator: verifies each request's credentials; `nil` runs every request as the configured
    ///     development principal (``HTTPSettings/principal``), which configuration allows on loopback only.
    public static func makeServices(
        broker: Broker, authenticator: (any Authenticator)? = nil, logger: Logger,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> [any Service] {
        let settings = broker.server.settings.http
        let sessions = SessionTable(
            maxSessions: settings.maxSessions, maxPerOwner: settings.maxSessionsPerPrincipal, idleTimeout: .seconds(settings.sessionIdleTimeoutSeconds))
        let auth = authenticator ?? FixedPrincipalAuthenticator(settings.principal)
        let app = makeApplication(broker: broker, sessions: sessions, authenticator: auth, logger: logger, onServerRunning: onServerRunning)
        return [app, StreamCloser(sessions: sessions)]
    }

    static func makeApplication(
        broker: Broker, sessions: SessionTable, authenticator: any Authenticator, logger: Logger,
        onServerRunning: @escaping @Sendable (Int) async -> Void
    ) -> some ApplicationProtocol {
        let settings = broker.server.settings.http
        let endpoint = MCPEndpoint(server: broker.server, settings: settings, sessions: sessions, authenticator: authenticator, logger: logger)
        let router = Router()
        // RFC 9728 Protected Resource Metadata, at the root and at the path-suffixed form MCP clients try first.
        if let metadata = authenticator.protectedResourceMetadata {
            for path in ["/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource" + settings.path] {
                router.get(RouterPath(path)) { _, _ in json(.ok, metadata) }
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
            let readiness = await broker.readiness()
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
    /// - Parameter first: services started before and stopped after the HTTP server (the span exporter, which must
    ///   outlive the calls whose spans it flushes).
    public static func serve(
        broker: Broker, authenticator: (any Authenticator)?, logger: Logger, first: [any Service] = [],
        onServerRunning: @escaping @Sendable (Int) async -> Void
    ) async throws {
        let group = ServiceGroup(
            configuration: .init(
                services: first + makeServices(broker: broker, authenticator: authenticator, logger: logger, onServerRunning: onServerRunning),
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
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

/// Ends the server-initiated GET streams when graceful shutdown begins.
struct StreamCloser: Service {
    let sessions: SessionTable

    func run() async throws {
        try? await gracefulShutdown()
        sessions.closeStreams()
    }
}
