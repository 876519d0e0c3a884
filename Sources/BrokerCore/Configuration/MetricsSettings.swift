// SPDX-License-Identifier: Apache-2.0

/// `server.metrics`: the Prometheus listener, separate from the MCP endpoint. Unauthenticated, so loopback by
/// default; a deployment that scrapes from another host binds `0.0.0.0` on a port only the scraper can reach.
public struct MetricsSettings: Sendable, Equatable {
    public var host = "127.0.0.1"
    /// 0 picks a free port (tests; see `serve --metrics-port-file`).
    public var port = 9464
    /// The exposition path.
    public var path = "/metrics"

    public init() {}
}

extension BrokerConfiguration {
    /// Reads `server.metrics: {host, port, path}`; unknown keys are refused like everywhere else.
    static func readMetrics(_ m: ConfigNode, httpPort: Int) throws(ConfigError) -> MetricsSettings {
        var out = MetricsSettings()
        out.host = try m.string("host", default: out.host)
        guard !out.host.isEmpty else { throw m.error("host", "must name an address to bind") }
        out.port = try m.int("port", default: out.port, range: 0...65535)
        out.path = try m.string("path", default: out.path)
        guard out.path.hasPrefix("/"), out.path.count > 1 else { throw m.error("path", "must start with '/' and name a path, e.g. /metrics") }
        if out.port != 0 && out.port == httpPort {
            throw m.error("port", "\(out.port) is server.http.port; the metrics listener needs a port of its own")
        }
        try m.finish()
        return out
    }
}
