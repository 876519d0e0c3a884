// SPDX-License-Identifier: Apache-2.0

import CoreMetrics
import Synchronization

/// Where a rate limit refused a call (`mcp_broker_rate_limited_total{scope}`).
public enum RateLimitScope: String, Sendable {
    /// `server.limits.tenant_rate`.
    case tenant
    /// `server.limits.tenant_tool_rate`.
    case tenantTool = "tenant_tool"
    /// A backend's `rate` share, or one tenant's part of it.
    case backendShare = "backend_share"
    /// `server.limits.http_rate`, per principal at the HTTP front door.
    case principal
}

/// How a cached tool's lookup was answered (`mcp_broker_cache_lookups_total{result}`).
public enum CacheLookupResult: String, Sendable {
    case hit, miss, joined
}

/// The transport of a session (`network_transport`): `pipe` for stdio, `tcp` for HTTP.
public enum NetworkTransport: String, Sendable {
    case pipe, tcp
}

extension BrokerMetrics {
    /// One MCP request began (the `mcp_broker_in_flight_requests` gauge).
    func requestStarted() {
        guard isEnabled else { return }
        inFlight.wrappingAdd(1, ordering: .relaxed)
    }

    /// One MCP request ended.
    func requestEnded() {
        guard isEnabled else { return }
        inFlight.wrappingSubtract(1, ordering: .relaxed)
    }

    /// `mcp_server_operation_duration_seconds`. `tool` is a catalogue name, ``MetricLabels/unknownTool`` or empty.
    func recordOperation(method: String, tool: String, errorType: String, version: String, transport: NetworkTransport, duration: Duration) {
        guard isEnabled else { return }
        operationDuration(LabelValues(MetricLabels.method(method), tool, errorType, version, transport.rawValue)).recordNanoseconds(duration.nanoseconds)
    }

    /// `mcp_broker_tool_calls_total`; labels from configuration (see ``MetricLabels``).
    func recordToolCall(backend: String, tool: String, tenant: String, outcome: String) {
        guard isEnabled else { return }
        toolCalls(LabelValues(backend, tool, tenant, outcome)).increment()
    }

    /// `mcp_broker_backend_duration_seconds`: time inside the backend call.
    func recordBackendTime(backend: String, tool: String, _ duration: Duration) {
        guard isEnabled else { return }
        backendDuration(LabelValues(backend, tool)).recordNanoseconds(duration.nanoseconds)
    }

    /// `mcp_broker_overhead_seconds`: a tool call's total time less its backend time.
    func recordOverhead(backend: String, _ duration: Duration) {
        guard isEnabled else { return }
        overhead(LabelValues(backend)).recordNanoseconds(max(.zero, duration).nanoseconds)
    }

    /// `mcp_broker_rate_limited_total`; `tenant` is already a label (``TenantLabels``).
    public func recordRateLimited(_ scope: RateLimitScope, tenant: String) {
        guard isEnabled else { return }
        rateLimited(LabelValues(scope.rawValue, tenant)).increment()
    }

    /// `mcp_broker_cache_lookups_total`.
    func recordCacheLookup(backend: String, _ result: CacheLookupResult) {
        guard isEnabled else { return }
        cacheLookups(LabelValues(backend, result.rawValue)).increment()
    }

    /// `mcp_broker_breaker_transitions_total`; `to` is `closed`, `half_open` or `open`.
    func recordBreakerTransition(backend: String, to: String) {
        guard isEnabled else { return }
        breakerTransitions(LabelValues(backend, to)).increment()
    }

    /// `mcp_broker_bulkhead_rejected_total`.
    func recordBulkheadRejected(backend: String) {
        guard isEnabled else { return }
        bulkheadRejected(LabelValues(backend)).increment()
    }

    /// Reads a backend guard's breaker state and bulkhead levels at scrape time, for as long as the guard lives.
    func watch(_ guarded: BackendGuard) {
        guard isEnabled else { return }
        let name = guarded.name
        let state = breakerState(LabelValues(name)), running = bulkheadInFlight(LabelValues(name)), queued = bulkheadQueued(LabelValues(name))
        // Pre-created at zero, so a dashboard shows every backend before its first refusal or transition.
        _ = bulkheadRejected(LabelValues(name))
        onScrape("guard/" + name) { [weak guarded, self] in
            guard let guarded else {
                // The backend left the configuration (a reload): its gauges go too, so the last state of a removed
                // backend (an open breaker) cannot keep a dashboard or an alert on it. A changed backend's new guard
                // replaced this refresh under the same key before that could happen.
                for family in [breakerState, bulkheadInFlight, bulkheadQueued] { family.remove(LabelValues(name))?.destroy() }
                return false
            }
            state.record(Self.breakerLevel(guarded.breaker.stateName))
            running.record(guarded.bulkhead.inFlight)
            queued.record(guarded.bulkhead.waiting)
            return true
        }
    }

    /// 0 closed, 1 half open, 2 open.
    static func breakerLevel(_ name: String) -> Int {
        switch name {
        case "open": 2
        case "half_open": 1
        default: 0
        }
    }
}

extension Duration {
    /// Whole nanoseconds, wrapping instead of trapping (durations measured here are far from the limit).
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds &* 1_000_000_000 &+ attoseconds / 1_000_000_000
    }
}
