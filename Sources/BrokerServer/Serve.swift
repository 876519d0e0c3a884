// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import BrokerAuth
import BrokerCore
import BrokerHTTP
import BrokerStdio
import Foundation
import Logging

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

    @Option(help: "Write the metrics listener's bound port to this file once listening (server.metrics.port 0 picks a free one).")
    var metricsPortFile: String?

    func run() async throws {
        var exporter: MetricsExporter?
        let (broker, configuration) = try options.loadBroker(
            metrics: { settings in
                guard settings.metrics != nil else { return .disabled }
                let made = MetricsExporter()
                exporter = made
                return made.metrics
            },
            adjust: { settings in
                settings.http.port = port ?? settings.http.port
                settings.http.host = host ?? settings.http.host
            })
        let logger = Logger(label: "mcp-broker")
        let metrics = exporter.flatMap { e in configuration.server.metrics.map { (exporter: e, settings: $0) } }
        if let metrics { announce(metrics.exporter.metrics, configuration: configuration) }
        let metricsPortFile = self.metricsPortFile
        let onMetricsRunning: @Sendable (Int) async -> Void = { bound in
            logger.info("metrics listening", metadata: ["port": "\(bound)", "path": .string(metrics?.settings.path ?? "")])
            if let metricsPortFile { try? Data("\(bound)\n".utf8).write(to: URL(fileURLWithPath: metricsPortFile)) }
        }
        if stdio {
            let transport = StdioTransport(server: broker.server, principal: configuration.server.stdioPrincipal, logger: logger)
            guard let metrics else {
                await transport.run()
                return
            }
            try await StdioWithMetrics.run(transport, metrics: metrics, logger: logger, onMetricsRunning: onMetricsRunning)
            return
        }
        let path = configuration.server.http.path
        let portFile = self.portFile
        var authenticator: (any Authenticator)?
        if let auth = configuration.server.http.auth {
            do {
                authenticator = try await BrokerAuthenticator(settings: auth, logger: logger)
            } catch {
                FileHandle.standardError.write(Data("configuration error: server.http.auth: \(error)\n".utf8))
                throw ExitCode(2)
            }
        } else {
            logger.warning(
                "no server.http.auth: every HTTP request runs as the development principal (loopback only)",
                metadata: ["principal": .string(configuration.server.http.principal.description)])
        }
        try await HTTPTransport.serve(
            broker: broker, authenticator: authenticator, metrics: metrics, logger: logger,
            onServerRunning: { bound in
                logger.info("listening", metadata: ["port": "\(bound)", "path": .string(path), "tools": "\(broker.catalog.tools.count)"])
                if let portFile { try? Data("\(bound)\n".utf8).write(to: URL(fileURLWithPath: portFile)) }
            }, onMetricsRunning: onMetricsRunning)
    }

    /// Startup values: the active configuration's hash and the memory watermark.
    func announce(_ metrics: BrokerMetrics, configuration: BrokerConfiguration) {
        metrics.setActiveConfig(hash: BrokerMetrics.configHash(files: configuration.files))
        if let mb = configuration.server.limits.memoryWatermarkMB { metrics.setMemoryWatermark(bytes: mb << 20) }
    }

}
