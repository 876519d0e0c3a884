// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import BrokerHTTP
import BrokerStdio
import Logging
import ServiceLifecycle

/// `serve --stdio` with `server.metrics`: the stdio transport in front, the metrics listener beside it, both ending
/// when the client closes stdin.
enum StdioWithMetrics {
    static func run(
        _ transport: StdioTransport, metrics: (exporter: MetricsExporter, settings: MetricsSettings), logger: Logger,
        onMetricsRunning: @escaping @Sendable (Int) async -> Void
    ) async throws {
        let listener = MetricsListener.makeApplication(
            exporter: metrics.exporter, settings: metrics.settings, logger: logger, onServerRunning: onMetricsRunning)
        // No signal handling here: SIGTERM ends a stdio broker as before; the listener stops when stdin closes.
        let group = ServiceGroup(configuration: .init(services: [listener], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            await transport.run()
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}
