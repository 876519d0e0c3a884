// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Hummingbird
import Logging
import NIOCore

/// The `/metrics` listener: a small application of its own on `server.metrics`, apart from the MCP endpoint, so a
/// scraper needs no MCP credentials and a flood of MCP traffic cannot hide the numbers that explain it.
public enum MetricsListener {
    /// Prometheus text exposition format 0.0.4.
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// The listener, as a service for a ServiceGroup.
    /// - Parameter onServerRunning: called with the bound port (port 0 picks a free one: tests).
    public static func makeApplication(
        exporter: MetricsExporter, settings: MetricsSettings, logger: Logger, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let router = Router()
        router.get(RouterPath(settings.path)) { _, _ in
            Response(
                status: .ok, headers: [.contentType: contentType, .cacheControl: "no-store"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: exporter.render())))
        }
        var log = logger
        log[metadataKey: "listener"] = "metrics"
        return Application(
            router: router,
            configuration: ApplicationConfiguration(
                address: .hostname(settings.host, port: settings.port), serverName: "mcp-broker-metrics",
                availableConnectionsDelegate: .maximum(64, logger: log)),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? settings.port) },
            logger: log
        )
    }
}
