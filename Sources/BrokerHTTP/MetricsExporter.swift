// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Prometheus

/// The Prometheus side of the broker's metrics: a registry of its own (never the global default), the factory that
/// records into it with the broker's histogram buckets, and the text exposition. Only this target sees Prometheus;
/// everything else records through ``BrokerMetrics``.
public final class MetricsExporter: Sendable {
    public let registry: PrometheusCollectorRegistry
    /// What the broker records through.
    public let metrics: BrokerMetrics

    /// - Parameter processMetrics: read `process_*` from /proc/self at scrape time.
    public init(version: String = MCPServer.version, processMetrics: Bool = true) {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets = MetricNames.histogramBuckets
        self.registry = registry
        self.metrics = BrokerMetrics(factory: factory, version: version, processMetrics: processMetrics)
    }

    /// The exposition: state gauges are refreshed first, then every series is written in Prometheus text format.
    public func render() -> [UInt8] {
        metrics.refresh()
        return registry.emitToBuffer()
    }
}
