// SPDX-License-Identifier: Apache-2.0

import CoreMetrics
import Synchronization

/// The broker's metrics (names in ``MetricNames``), recorded through a swift-metrics factory that is injected, never
/// bootstrapped globally: each test gets a fresh registry, and the process one exporter.
///
/// One instance lives for the whole process and outlives configuration generations, so counters keep counting across
/// a reload. ``disabled`` (no `server.metrics` section) records nothing: every method returns at its first line, and
/// the call pipeline leaves its metrics stage out. State that is a level rather than an event (pools, breakers,
/// bulkheads, sessions, process figures) is read at scrape time by the closures registered with
/// ``onScrape(_:_:)``, so the hot path pays nothing for it.
public final class BrokerMetrics: Sendable {
    /// Records nothing.
    public static let disabled = BrokerMetrics()

    /// Whether anything is recorded.
    public let isEnabled: Bool
    let factory: any MetricsFactory

    let operationDuration: MetricFamily<CoreMetrics.Timer>
    let sessionDuration: MetricFamily<CoreMetrics.Timer>
    let toolCalls: MetricFamily<CoreMetrics.Counter>
    let backendDuration: MetricFamily<CoreMetrics.Timer>
    let overhead: MetricFamily<CoreMetrics.Timer>
    let rateLimited: MetricFamily<CoreMetrics.Counter>
    let breakerState: MetricFamily<CoreMetrics.Gauge>
    let breakerTransitions: MetricFamily<CoreMetrics.Counter>
    let bulkheadInFlight: MetricFamily<CoreMetrics.Gauge>
    let bulkheadQueued: MetricFamily<CoreMetrics.Gauge>
    let bulkheadRejected: MetricFamily<CoreMetrics.Counter>
    let pgPoolConnections: MetricFamily<CoreMetrics.Gauge>
    let pgPoolWaiting: MetricFamily<CoreMetrics.Gauge>
    let pgPoolConnectFailures: MetricFamily<CoreMetrics.Counter>
    let restRequests: MetricFamily<CoreMetrics.Counter>
    let cacheLookups: MetricFamily<CoreMetrics.Counter>
    let sessionsOpen: MetricFamily<CoreMetrics.Gauge>
    let httpRefusals: MetricFamily<CoreMetrics.Counter>
    let configReloads: MetricFamily<CoreMetrics.Counter>
    let configInfo: MetricFamily<CoreMetrics.Gauge>
    let sharedStateFallbacks: MetricFamily<CoreMetrics.Counter>
    let sharedStateAvailable: MetricFamily<CoreMetrics.Gauge>
    let auditWriteFailureCount: CoreMetrics.Counter
    let configLastReloadFailed: CoreMetrics.Gauge
    let inFlightGauge: CoreMetrics.Gauge

    /// MCP requests being processed (read at scrape time).
    let inFlight = Atomic<Int>(0)
    /// The hash whose `config_info` series is present.
    let activeConfigHash = Mutex<String?>(nil)
    let scrapeSources = ScrapeSources()

    /// Records through `factory`. The factory's histograms should use ``MetricNames/histogramBuckets``.
    /// - Parameters:
    ///   - version: the `mcp_broker_build_info` version.
    ///   - processMetrics: read `process_*` from /proc/self at scrape time (off in unit tests that compare series).
    public convenience init(factory: any MetricsFactory, version: String, processMetrics: Bool = true) {
        self.init(factory: factory, enabled: true)
        CoreMetrics.Gauge(label: MetricNames.buildInfo, dimensions: [("version", version)], factory: factory).record(1)
        configLastReloadFailed.record(0)
        prepareReloadSeries()
        if processMetrics { ProcessMetrics(factory: factory).register(in: self) }
        onScrape("broker/in_flight") { [weak self] in
            guard let self else { return false }
            self.inFlightGauge.record(self.inFlight.load(ordering: .relaxed))
            return true
        }
    }

    private convenience init() { self.init(factory: NOOPMetricsHandler.instance, enabled: false) }

    private init(factory: any MetricsFactory, enabled: Bool) {
        self.factory = factory
        self.isEnabled = enabled
        typealias N = MetricNames
        operationDuration = .histogram(
            N.operationDuration, ["mcp_method_name", "gen_ai_tool_name", "error_type", "mcp_protocol_version", "network_transport"], factory: factory)
        sessionDuration = .histogram(N.sessionDuration, ["mcp_protocol_version", "network_transport"], factory: factory)
        toolCalls = .counter(N.toolCalls, ["backend", "tool", "tenant", "outcome"], factory: factory)
        backendDuration = .histogram(N.backendDuration, ["backend", "tool"], factory: factory)
        overhead = .histogram(N.overhead, ["backend"], factory: factory)
        rateLimited = .counter(N.rateLimited, ["scope", "tenant"], factory: factory)
        breakerState = .gauge(N.breakerState, ["backend"], factory: factory)
        breakerTransitions = .counter(N.breakerTransitions, ["backend", "to"], factory: factory)
        bulkheadInFlight = .gauge(N.bulkheadInFlight, ["backend"], factory: factory)
        bulkheadQueued = .gauge(N.bulkheadQueued, ["backend"], factory: factory)
        bulkheadRejected = .counter(N.bulkheadRejected, ["backend"], factory: factory)
        pgPoolConnections = .gauge(N.pgPoolConnections, ["backend", "state"], factory: factory)
        pgPoolWaiting = .gauge(N.pgPoolWaiting, ["backend"], factory: factory)
        pgPoolConnectFailures = .counter(N.pgPoolConnectFailures, ["backend"], factory: factory)
        restRequests = .counter(N.restRequests, ["backend", "connection"], factory: factory)
        cacheLookups = .counter(N.cacheLookups, ["backend", "result"], factory: factory)
        sessionsOpen = .gauge(N.sessionsOpen, ["transport"], factory: factory)
        httpRefusals = .counter(N.httpRefusals, ["status", "reason"], factory: factory)
        configReloads = .counter(N.configReloads, ["result"], factory: factory)
        configInfo = .gauge(N.configInfo, ["hash"], factory: factory)
        sharedStateFallbacks = .counter(N.sharedStateFallbacks, ["operation"], factory: factory)
        sharedStateAvailable = .gauge(N.sharedStateAvailable, [], factory: factory)
        auditWriteFailureCount = CoreMetrics.Counter(label: N.auditWriteFailures, factory: factory)
        configLastReloadFailed = CoreMetrics.Gauge(label: N.configLastReloadFailed, factory: factory)
        inFlightGauge = CoreMetrics.Gauge(label: N.inFlightRequests, factory: factory)
    }

    /// Runs every scrape-time refresh; the exporter calls it right before rendering.
    public func refresh() { scrapeSources.run() }

    /// Registers `refresh` under `key`, replacing an earlier one with the same key (a new configuration generation
    /// re-registers its parts). `refresh` returns `false` once what it reads is gone; it is then dropped.
    public func onScrape(_ key: String, _ refresh: @escaping @Sendable () -> Bool) {
        guard isEnabled else { return }
        scrapeSources.set(key, refresh)
    }

    /// Drops the refresh registered under `key`.
    public func removeScrapeSource(_ key: String) { scrapeSources.remove(key) }
}
