// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import MCPCore
import Synchronization
import XCTest

/// What the broker records, read back from a fresh Prometheus registry per test, and that every label value comes
/// from configuration or a fixed list.
final class MetricsRecordingTests: XCTestCase {
    func testLabelsOnlyTakeConfiguredValues() async throws {
        let fixture = MetricsFixture()
        let (server, _, _) = try makeMetricsServer(metrics: fixture.metrics, tenants: ["acme", "globex"])
        // A tenant the configuration does not name (a token's claim, say) is counted as _other.
        let stranger = MetricsClient(server, Principal(id: "x", tenant: "initech"))
        await stranger.initialize()
        await stranger.call("a__echo", ["text": "hi"])
        for i in 0..<200 { await stranger.call("random_\(i)_\(UUID().uuidString)") }
        await stranger.request("vendor/\(UUID().uuidString)")
        let s = fixture.scrape()
        XCTAssertEqual(s[#"mcp_broker_tool_calls_total{backend="a",tool="a__echo",tenant="_other",outcome="ok"}"#], 1)
        XCTAssertEqual(s[#"mcp_broker_tool_calls_total{backend="",tool="_unknown",tenant="_other",outcome="unknown_tool"}"#], 200)
        let allowed: [String: Set<String>] = [
            "tenant": ["acme", "globex", "_other"], "tool": Set(server.catalog.tools.map(\.fullName) + ["_unknown"]),
            "gen_ai_tool_name": Set(server.catalog.tools.map(\.fullName) + ["_unknown", ""]), "backend": ["a", ""],
            "mcp_method_name": MetricLabels.mcpMethods.union(["_other"]),
        ]
        for series in s.keys {
            for (label, values) in allowed {
                guard let value = Self.label(label, in: series) else { continue }
                XCTAssertTrue(values.contains(value), "\(series): \(label)=\(value) is not a configured value")
            }
        }
        // A backend's own error code is not a label value either.
        XCTAssertEqual(MetricLabels.code(BrokerError.Code(rawValue: "erp_specific_\(UUID().uuidString)")), "_other")
        XCTAssertEqual(MetricLabels.code(.rateLimited), "rate_limited")
    }

    func testRandomUnknownToolNamesAddNoSeries() async throws {
        let fixture = MetricsFixture()
        let (server, _, _) = try makeMetricsServer(metrics: fixture.metrics)
        let client = MetricsClient(server, Principal(id: "u", tenant: "acme"))
        await client.initialize()
        await client.call("warm_up_\(UUID().uuidString)")
        let before = Set(fixture.scrape().keys)
        for _ in 0..<1000 { await client.call(UUID().uuidString) }
        let after = fixture.scrape()
        XCTAssertEqual(Set(after.keys), before)
        XCTAssertEqual(after[#"mcp_broker_tool_calls_total{backend="",tool="_unknown",tenant="acme",outcome="unknown_tool"}"#], 1001)
    }

    func testBreakerCacheAndGuardLevels() async throws {
        let fixture = MetricsFixture()
        var r = BackendResilience()
        r.breaker.consecutiveFailures = 2
        r.breaker.openBase = .seconds(30)
        r.cache = CacheSettings(tools: ["echo"], ttl: .seconds(60), maxEntries: 10, shareWithinRole: true)
        let (server, backend, _) = try makeMetricsServer(metrics: fixture.metrics, resilience: r)
        let client = MetricsClient(server, Principal(id: "u", tenant: "acme"))
        await client.initialize()
        await client.call("a__echo", ["text": "x"])
        await client.call("a__echo", ["text": "x"])
        XCTAssertEqual(backend.calls.withLock { $0 }, 1)
        var s = fixture.scrape()
        XCTAssertEqual(s[#"mcp_broker_cache_lookups_total{backend="a",result="miss"}"#], 1)
        XCTAssertEqual(s[#"mcp_broker_cache_lookups_total{backend="a",result="hit"}"#], 1)
        XCTAssertEqual(s[#"mcp_broker_breaker_state{backend="a"}"#], 0)
        XCTAssertEqual(s[#"mcp_broker_bulkhead_in_flight{backend="a"}"#], 0)
        XCTAssertEqual(s[#"mcp_broker_bulkhead_rejected_total{backend="a"}"#], 0)
        for _ in 0..<2 { await client.call("a__crash") }
        s = fixture.scrape()
        XCTAssertEqual(s[#"mcp_broker_breaker_state{backend="a"}"#], 2)
        XCTAssertEqual(s[#"mcp_broker_breaker_transitions_total{backend="a",to="open"}"#], 1)
        let paused = await client.call("a__fail")
        XCTAssertEqual(paused, "backend_unavailable")
        XCTAssertEqual(fixture.value(#"mcp_broker_tool_calls_total{backend="a",tool="a__fail",tenant="acme",outcome="backend_unavailable"}"#), 1)
    }

    func testSessionsReloadsAndConfigHash() async throws {
        let fixture = MetricsFixture()
        let m = fixture.metrics
        XCTAssertEqual(fixture.value(#"mcp_broker_build_info{version="test"}"#), 1)
        XCTAssertEqual(fixture.value(#"mcp_broker_config_reloads_total{result="success"}"#), 0)
        m.setActiveConfig(hash: "aaa")
        m.recordReload(success: false)
        XCTAssertEqual(fixture.value("mcp_broker_config_last_reload_failed"), 1)
        m.setActiveConfig(hash: "bbb")
        m.recordReload(success: true)
        let s = fixture.scrape()
        XCTAssertNil(s[#"mcp_broker_config_info{hash="aaa"}"#], "only the active hash is present")
        XCTAssertEqual(s[#"mcp_broker_config_info{hash="bbb"}"#], 1)
        XCTAssertEqual(s[#"mcp_broker_config_reloads_total{result="failure"}"#], 1)
        XCTAssertEqual(s[#"mcp_broker_config_reloads_total{result="success"}"#], 1)
        XCTAssertEqual(s["mcp_broker_config_last_reload_failed"], 0)

        var session: Session? = Session(id: nil, ownerID: "o", transport: .pipe)
        m.watchSessions(.pipe) { [weak session] in session.map { _ in 1 } }
        XCTAssertEqual(fixture.value(#"mcp_broker_sessions_open{transport="pipe"}"#), 1)
        if let session { m.sessionEnded(session) }
        session = nil
        XCTAssertEqual(fixture.value(#"mcp_broker_sessions_open{transport="pipe"}"#), 0)
        XCTAssertEqual(fixture.value(#"mcp_server_session_duration_seconds_count{mcp_protocol_version="",network_transport="pipe"}"#), 1)
        m.recordHTTPRefusal(status: 429, reason: "http_rate")
        XCTAssertEqual(fixture.value(#"mcp_broker_http_refusals_total{status="429",reason="http_rate"}"#), 1)
    }

    func testBackendReportsPoolLevelsAndConnections() {
        let fixture = MetricsFixture()
        let reporter = BackendMetrics(metrics: fixture.metrics, backend: "wh")
        reporter.connectFailed()
        reporter.restRequest(newConnection: true)
        reporter.restRequest(newConnection: false)
        reporter.restRequest(newConnection: false)
        reporter.watchPools { PoolLevels(idle: 2, inUse: 1, waiting: 3) }
        let s = fixture.scrape()
        XCTAssertEqual(s[#"mcp_broker_pg_pool_connect_failures_total{backend="wh"}"#], 1)
        XCTAssertEqual(s[#"mcp_broker_rest_requests_total{backend="wh",connection="new"}"#], 1)
        XCTAssertEqual(s[#"mcp_broker_rest_requests_total{backend="wh",connection="reused"}"#], 2)
        XCTAssertEqual(s[#"mcp_broker_pg_pool_connections{backend="wh",state="idle"}"#], 2)
        XCTAssertEqual(s[#"mcp_broker_pg_pool_connections{backend="wh",state="in_use"}"#], 1)
        XCTAssertEqual(s[#"mcp_broker_pg_pool_waiting{backend="wh"}"#], 3)
        // Disabled: nothing is registered and nothing fails.
        BackendMetrics.disabled.connectFailed()
        BackendMetrics.disabled.restRequest(newConnection: true)
    }

    func testGaugesOfAGoneBackendLeaveTheExposition() throws {
        let fixture = MetricsFixture()
        let reporter = BackendMetrics(metrics: fixture.metrics, backend: "wh")
        let pools = Mutex<PoolLevels?>(PoolLevels(idle: 1))
        reporter.watchPools { pools.withLock { $0 } }
        var server: MCPServer? = try makeMetricsServer(metrics: fixture.metrics).0
        XCTAssertNotNil(server)
        XCTAssertEqual(fixture.scrape()[#"mcp_broker_breaker_state{backend="a"}"#], 0)
        XCTAssertEqual(fixture.scrape()[#"mcp_broker_pg_pool_connections{backend="wh",state="idle"}"#], 1)
        // A reload dropped both backends: their pools and guards are gone, and so must their gauges be, or the last
        // state of a removed backend (an open breaker) would keep an alert firing.
        server = nil
        pools.withLock { $0 = nil }
        let s = fixture.scrape()
        XCTAssertNil(s[#"mcp_broker_breaker_state{backend="a"}"#])
        XCTAssertNil(s[#"mcp_broker_bulkhead_in_flight{backend="a"}"#])
        XCTAssertNil(s[#"mcp_broker_pg_pool_connections{backend="wh",state="idle"}"#])
        XCTAssertNil(s[#"mcp_broker_pg_pool_waiting{backend="wh"}"#])
    }

    func testMetricsConfigurationIsStrict() throws {
        let c = try BrokerConfiguration.parse(yaml: "server:\n  metrics: { host: 0.0.0.0, port: 0, path: /m }\n")
        XCTAssertEqual(c.server.metrics?.host, "0.0.0.0")
        XCTAssertEqual(c.server.metrics?.port, 0)
        XCTAssertEqual(c.server.metrics?.path, "/m")
        XCTAssertNil(try BrokerConfiguration.parse(yaml: "server:\n  name: x\n").server.metrics)
        XCTAssertEqual(try BrokerConfiguration.parse(yaml: "server:\n  metrics: {}\n").server.metrics, MetricsSettings())
        for bad in [
            "server:\n  metrics: { prot: 9464 }\n", "server:\n  metrics: { port: 70000 }\n", "server:\n  metrics: { path: metrics }\n",
            "server:\n  http: { port: 9000 }\n  metrics: { port: 9000 }\n",
        ] {
            XCTAssertThrowsError(try BrokerConfiguration.parse(yaml: bad), bad) { error in
                XCTAssertTrue((error as? ConfigError)?.path.hasPrefix("server.metrics") ?? false, "\(error)")
            }
        }
    }

    /// The value of `label` in a series key such as `name{a="1",b="2"}`.
    static func label(_ label: String, in series: String) -> String? {
        guard let range = series.range(of: "{\(label)=\"") ?? series.range(of: ",\(label)=\"") else { return nil }
        let rest = series[range.upperBound...]
        return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
    }
}
