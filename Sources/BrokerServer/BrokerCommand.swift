// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import BrokerCore
import Foundation
import Logging

/// `mcp-broker`: one MCP endpoint in front of an enterprise's systems (started from main.swift).
struct BrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp-broker",
        abstract: "One MCP endpoint for an enterprise's systems (ERP, HR, warehouses, REST APIs).",
        version: MCPServer.version,
        subcommands: [Serve.self, Validate.self, Tools.self, Call.self, Kinds.self, HashKey.self, Health.self],
        defaultSubcommand: Serve.self
    )
}

/// Options shared by every subcommand that reads configuration.
struct ConfigOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "Configuration file or directory of *.yaml files (env MCP_BROKER_CONFIG).")
    var config: String = ProcessInfo.processInfo.environment["MCP_BROKER_CONFIG"] ?? "config/broker.yaml"

    /// Loads configuration and builds the broker, printing ops-readable errors to stderr.
    /// - Parameter metrics: what the broker records through, given the final settings (default: nothing recorded).
    /// - Parameter shared: the state replicas share, given the configuration; the default (every command but `serve`)
    ///   is this process alone, so `validate`, `tools` and `call` never connect to the shared store.
    func loadBroker(
        logLevel: Logger.Level? = nil, metrics: (ServerSettings) -> BrokerMetrics = { _ in .disabled }, adjust: (inout ServerSettings) -> Void = { _ in },
        shared: (BrokerConfiguration, Logger) -> SharedState = { _, _ in .local }
    ) throws -> (Broker, BrokerConfiguration) {
        do {
            // The same checks a hot reload runs (Reloader.build): validate and reload cannot disagree.
            let configuration = try BrokerConfiguration.loadChecked(path: config, adjust: adjust)
            BrokerLogging.bootstrap(level: logLevel ?? configuration.server.logLevel)
            let logger = Logger(label: "mcp-broker")
            if let m = configuration.server.metrics, m.port != 0, m.port == configuration.server.http.port {
                throw ConfigError(file: config, path: "server.metrics.port", reason: "\(m.port) is also the HTTP port; the metrics listener needs a port of its own")
            }
            let broker = try Broker(
                configuration: configuration, registry: BuiltinBackends.registry, metrics: metrics(configuration.server), logger: logger,
                shared: shared(configuration, logger))
            return (broker, configuration)
        } catch let error as ConfigError {
            FileHandle.standardError.write(Data("configuration error: \(error.description)\n".utf8))
            throw ExitCode(2)
        }
    }
}
