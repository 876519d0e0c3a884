// SPDX-License-Identifier: Apache-2.0

/// The exposed metric names: the contract with the dashboards and alerts (README "Operating it"). The OpenTelemetry
/// MCP conventions come first, translated as the OTel-to-Prometheus rules do (dots to underscores, unit suffix).
public enum MetricNames {
    public static let operationDuration = "mcp_server_operation_duration_seconds"
    public static let sessionDuration = "mcp_server_session_duration_seconds"

    public static let toolCalls = "mcp_broker_tool_calls_total"
    public static let backendDuration = "mcp_broker_backend_duration_seconds"
    public static let overhead = "mcp_broker_overhead_seconds"
    public static let rateLimited = "mcp_broker_rate_limited_total"
    public static let breakerState = "mcp_broker_breaker_state"
    public static let breakerTransitions = "mcp_broker_breaker_transitions_total"
    public static let bulkheadInFlight = "mcp_broker_bulkhead_in_flight"
    public static let bulkheadQueued = "mcp_broker_bulkhead_queued"
    public static let bulkheadRejected = "mcp_broker_bulkhead_rejected_total"
    public static let pgPoolConnections = "mcp_broker_pg_pool_connections"
    public static let pgPoolWaiting = "mcp_broker_pg_pool_waiting"
    public static let pgPoolConnectFailures = "mcp_broker_pg_pool_connect_failures_total"
    public static let restRequests = "mcp_broker_rest_requests_total"
    public static let cacheLookups = "mcp_broker_cache_lookups_total"
    public static let sessionsOpen = "mcp_broker_sessions_open"
    public static let inFlightRequests = "mcp_broker_in_flight_requests"
    public static let httpRefusals = "mcp_broker_http_refusals_total"
    public static let auditWriteFailures = "mcp_broker_audit_write_failures_total"
    public static let configReloads = "mcp_broker_config_reloads_total"
    public static let configInfo = "mcp_broker_config_info"
    public static let configLastReloadFailed = "mcp_broker_config_last_reload_failed"
    public static let buildInfo = "mcp_broker_build_info"
    public static let memoryWatermark = "mcp_broker_memory_watermark_bytes"
    public static let sharedStateFallbacks = "mcp_broker_shared_state_fallbacks_total"
    public static let sharedStateAvailable = "mcp_broker_shared_state_available"

    public static let processResidentMemory = "process_resident_memory_bytes"
    public static let processCPUSeconds = "process_cpu_seconds_total"
    public static let processStartTime = "process_start_time_seconds"
    public static let processOpenFDs = "process_open_fds"

    /// Buckets of the request-scale histograms (operation, backend), in seconds.
    public static let requestBuckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .microseconds(2500), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500),
        .seconds(5), .seconds(10), .seconds(30),
    ]
    /// The broker's own time per call is usually well under a millisecond: three finer buckets before the request ones.
    public static let overheadBuckets: [Duration] = [.microseconds(50), .microseconds(100), .microseconds(250)] + requestBuckets
    /// Sessions live from seconds to a day.
    public static let sessionBuckets: [Duration] = [
        .seconds(1), .seconds(10), .seconds(60), .seconds(300), .seconds(900), .seconds(1800), .seconds(3600), .seconds(4 * 3600),
        .seconds(12 * 3600), .seconds(24 * 3600),
    ]

    /// The buckets of every histogram by name, for the exporter's factory (CoreMetrics has no way to pass them).
    public static let histogramBuckets: [String: [Duration]] = [
        operationDuration: requestBuckets, backendDuration: requestBuckets, overhead: overheadBuckets, sessionDuration: sessionBuckets,
    ]
}
