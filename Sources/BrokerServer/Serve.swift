// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import BrokerAuth
import BrokerCore
import BrokerHTTP
import BrokerRedis
import BrokerStdio
import Foundation
import Logging
import ServiceLifecycle

/// `mcp-broker serve`: run the daemon over Streamable HTTP, or over stdio for a desktop client.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve MCP over Streamable HTTP (default) or stdio.")

    @OptionGroup var options: ConfigOptions

    @Flag(help: "Serve one client over stdin/stdout (Claude Desktop, Claude Code).")
    var stdio = false

    @Option(help: "Override server.http.port (0 picks a free port).")
    var port: Int?

    @Option(help: "Override server.http.host.")
    var host: String?

    @Option(help: "Write the bound port to this file once listening (for scripts using --port 0).")
    var portFile: String?

    @Option(help: "Override server.metrics.port (0 picks a free port; no effect without a server.metrics section).")
    var metricsPort: Int?

    @Option(help: "Write the metrics listener's bound port to this file once listening (server.metrics.port 0 picks a free one).")
    var metricsPortFile: String?

    func run() async throws {
        let port = self.port, host = self.host, metricsPort = self.metricsPort
        let adjust: @Sendable (inout ServerSettings) -> Void = { settings in
            settings.http.port = port ?? settings.http.port
            settings.http.host = host ?? settings.http.host
            if let metricsPort { settings.metrics?.port = metricsPort }
        }
        var exporter: MetricsExporter?
        var shared = SharedState.local
        let (broker, configuration) = try options.loadBroker(
            metrics: { settings in
                guard settings.metrics != nil else { return .disabled }
                let made = MetricsExporter()
                exporter = made
                return made.metrics
            },
            adjust: adjust,
            shared: { configuration, logger in
                shared = Self.makeSharedState(configuration.server.sharedState, logger: logger)
                return shared
            })
        // Reloads reuse the store through MCPServer.shared; it stops after the transport, whatever way that ends.
        defer { shared.store?.shutdown() }
        let logger = Logger(label: "mcp-broker")
        let spanExporter = try TracingBootstrap.bootstrap(configuration.server.tracing, logger: logger)
        let path = options.config
        let watched = WatchedHashes.read(path: path, settings: configuration.server)
        let metrics = exporter.flatMap { e in configuration.server.metrics.map { (exporter: e, settings: $0) } }
        let recorder = broker.server.metrics
        recorder.setActiveConfig(hash: watched.config)
        if let mb = configuration.server.limits.memoryWatermarkMB { recorder.setMemoryWatermark(bytes: mb << 20) }
        let metricsPortFile = self.metricsPortFile
        let onMetricsRunning: @Sendable (Int) async -> Void = { bound in
            logger.info("metrics listening", metadata: ["port": "\(bound)", "path": .string(metrics?.settings.path ?? "")])
            if let metricsPortFile { try? Data("\(bound)\n".utf8).write(to: URL(fileURLWithPath: metricsPortFile)) }
        }
        let onOutcome: Reloader.OutcomeObserver = { outcome in Self.recordReload(outcome, metrics: recorder) }
        if stdio {
            let live = LiveBroker(BrokerGeneration(number: 1, broker: broker, authenticator: nil, configHash: watched.config, watched: watched), logger: logger)
            let reloader = Reloader(live: live, path: path, registry: BuiltinBackends.registry, logger: logger, adjust: adjust, onOutcome: onOutcome)
            let reloads = ReloadService(live: live, reloader: reloader, path: path, logger: logger)
            let transport = StdioTransport(live: live, logger: logger)
            // Beside the transport, in start order (a group stops them in reverse): the span exporter, which must
            // outlive the calls whose spans it flushes, the metrics listener and the reload service.
            var beside: [any Service] = spanExporter.map { [$0] } ?? []
            if let metrics {
                beside.append(
                    MetricsListener.makeApplication(exporter: metrics.exporter, settings: metrics.settings, logger: logger, onServerRunning: onMetricsRunning))
            }
            beside.append(reloads)
            try await Self.running(beside, logger: logger) { await transport.run() }
            return
        }
        let portFile = self.portFile
        let authenticator: (any Authenticator)?
        do {
            authenticator = try await Self.makeAuthenticator(configuration.server, logger: logger)
        } catch {
            FileHandle.standardError.write(Data("configuration error: server.http.auth: \(error)\n".utf8))
            throw ExitCode(2)
        }
        if authenticator == nil {
            logger.warning(
                "no server.http.auth: every HTTP request runs as the development principal (loopback only)",
                metadata: ["principal": .string(configuration.server.http.principal.description)])
        }
        let live = LiveBroker(
            BrokerGeneration(number: 1, broker: broker, authenticator: authenticator, configHash: watched.config, watched: watched), logger: logger)
        let reloader = Reloader(
            live: live, path: path, registry: BuiltinBackends.registry, logger: logger, adjust: adjust,
            makeAuthenticator: { settings in
                do { return try await Self.makeAuthenticator(settings, logger: logger) } catch {
                    throw ConfigError(file: path, path: "server.http.auth", reason: "\(error)")
                }
            },
            onOutcome: onOutcome)
        let reloads = ReloadService(live: live, reloader: reloader, path: path, logger: logger)
        let tools = broker.catalog.tools.count, mcpPath = configuration.server.http.path
        try await HTTPTransport.serve(
            live: live, extraServices: [reloads], first: spanExporter.map { [$0] } ?? [], metrics: metrics, logger: logger,
            onServerRunning: { bound in
                logger.info("listening", metadata: ["port": "\(bound)", "path": .string(mcpPath), "tools": "\(tools)"])
                if let portFile { try? Data("\(bound)\n".utf8).write(to: URL(fileURLWithPath: portFile)) }
            }, onMetricsRunning: onMetricsRunning)
    }

    /// ONE store for the process when `server.shared_state` is set (connecting in the background), else this
    /// process alone.
    static func makeSharedState(_ settings: SharedStateSettings?, logger: Logger) -> SharedState {
        guard let settings else { return .local }
        let store = RedisStore(settings: settings, logger: logger)
        let shared = SharedState(store: store, replicas: settings.replicas)
        logger.info(
            "shared state on",
            metadata: [
                "address": .string(store.address), "database": "\(settings.redis.database)", "tls": "\(settings.redis.tls)",
                "replicas": "\(settings.replicas.resolved)", "replica_id": .string(shared.replicaID), "key_prefix": .string(settings.keyPrefix),
            ])
        return shared
    }

    /// The authenticator of a generation's settings: `nil` without `server.http.auth`.
    static func makeAuthenticator(_ settings: ServerSettings, logger: Logger) async throws -> (any Authenticator)? {
        guard let auth = settings.http.auth else { return nil }
        return try await BrokerAuthenticator(settings: auth, logger: logger)
    }

    /// Every reload attempt ends here: counted, and an applied one becomes the active configuration's hash
    /// (`LiveBroker.status` has the same counts and the latest error for `/readyz`).
    static func recordReload(_ outcome: ReloadOutcome, metrics: BrokerMetrics) {
        metrics.recordReload(success: outcome.applied)
        if outcome.applied { metrics.setActiveConfig(hash: outcome.newHash) }
    }

    /// Runs `body` (the stdio transport, which has no ServiceGroup of its own) with `services` beside it, then shuts
    /// them down gracefully, so the exporter flushes the last spans. No signal handling: SIGTERM ends a stdio broker as
    /// before, and everything stops when the client closes stdin.
    static func running(_ services: [any Service], logger: Logger, _ body: () async throws -> Void) async throws {
        let group = ServiceGroup(configuration: .init(services: services, logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await body()
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}
