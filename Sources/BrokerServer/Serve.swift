// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import BrokerAuth
import BrokerCore
import BrokerHTTP
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

    func run() async throws {
        let (broker, configuration) = try options.loadBroker { settings in
            settings.http.port = port ?? settings.http.port
            settings.http.host = host ?? settings.http.host
        }
        let logger = Logger(label: "mcp-broker")
        let exporter = try TracingBootstrap.bootstrap(configuration.server.tracing, logger: logger)
        if stdio {
            let transport = StdioTransport(server: broker.server, principal: configuration.server.stdioPrincipal, logger: logger)
            try await Self.running(exporter, logger: logger) { await transport.run() }
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
        try await HTTPTransport.serve(broker: broker, authenticator: authenticator, logger: logger, first: exporter.map { [$0] } ?? []) { bound in
            logger.info("listening", metadata: ["port": "\(bound)", "path": .string(path), "tools": "\(broker.catalog.tools.count)"])
            if let portFile { try? Data("\(bound)\n".utf8).write(to: URL(fileURLWithPath: portFile)) }
        }
    }

    /// Runs `body` with the span exporter's service beside it (stdio has no ServiceGroup of its own), then shuts
    /// the exporter down gracefully so the last spans are flushed.
    static func running(_ exporter: (any Service)?, logger: Logger, _ body: () async -> Void) async throws {
        guard let exporter else { return await body() }
        let group = ServiceGroup(configuration: .init(services: [exporter], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            await body()
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}
