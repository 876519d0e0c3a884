// SPDX-License-Identifier: Apache-2.0

import CoreMetrics

/// Connection counts of a backend's pools, read at scrape time.
public struct PoolLevels: Sendable {
    public var idle: Int
    public var inUse: Int
    public var waiting: Int

    public init(idle: Int = 0, inUse: Int = 0, waiting: Int = 0) {
        self.idle = idle
        self.inUse = inUse
        self.waiting = waiting
    }
}

/// What one backend instance reports, without seeing the metrics library: its handles are resolved once, when the
/// backend is built, so reporting costs one counter increment. Comes with ``BackendSetup/metrics``.
public struct BackendMetrics: Sendable {
    /// Reports nothing (tests, `validate`, a broker without `server.metrics`).
    public static let disabled = BackendMetrics(metrics: .disabled, backend: "")

    let metrics: BrokerMetrics
    let backend: String
    private let connectFailures: CoreMetrics.Counter?
    private let reused: CoreMetrics.Counter?
    private let fresh: CoreMetrics.Counter?

    /// The reporter of backend `backend`.
    public init(metrics: BrokerMetrics, backend: String) {
        self.metrics = metrics
        self.backend = backend
        guard metrics.isEnabled else {
            (connectFailures, reused, fresh) = (nil, nil, nil)
            return
        }
        connectFailures = metrics.pgPoolConnectFailures(LabelValues(backend))
        reused = metrics.restRequests(LabelValues(backend, "reused"))
        fresh = metrics.restRequests(LabelValues(backend, "new"))
    }

    /// A connection attempt to the backend's database failed (`mcp_broker_pg_pool_connect_failures_total`).
    public func connectFailed() { connectFailures?.increment() }

    /// One REST request got a response, on a reused or a new connection (`mcp_broker_rest_requests_total`).
    public func restRequest(newConnection: Bool) { (newConnection ? fresh : reused)?.increment() }

    /// Reads the backend's pool levels at scrape time; `levels` returns `nil` once the pools are gone.
    public func watchPools(_ levels: @escaping @Sendable () -> PoolLevels?) {
        guard metrics.isEnabled else { return }
        let idle = metrics.pgPoolConnections(LabelValues(backend, "idle"))
        let inUse = metrics.pgPoolConnections(LabelValues(backend, "in_use"))
        let waiting = metrics.pgPoolWaiting(LabelValues(backend))
        let metrics = self.metrics, backend = self.backend
        metrics.onScrape("pool/" + backend) {
            guard let l = levels() else {
                // The pools are gone (the backend left the configuration): so are their series.
                for state in ["idle", "in_use"] { metrics.pgPoolConnections.remove(LabelValues(backend, state))?.destroy() }
                metrics.pgPoolWaiting.remove(LabelValues(backend))?.destroy()
                return false
            }
            idle.record(l.idle)
            inUse.record(l.inUse)
            waiting.record(l.waiting)
            return true
        }
    }
}
