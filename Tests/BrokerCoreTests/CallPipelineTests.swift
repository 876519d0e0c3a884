// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import MCPCore
import Synchronization
import XCTest

/// The `tools/call` pipeline: the stages run in order, a refusal in an early stage keeps the backend (and every
/// later stage) from running, and the audit and metrics stages around them record every outcome.
final class CallPipelineTests: XCTestCase {
    var auditPath = ""

    override func setUp() { auditPath = NSTemporaryDirectory() + "pipeline-audit-\(UUID().uuidString).jsonl" }
    override func tearDown() { try? FileManager.default.removeItem(atPath: auditPath) }

    static let policy = """
        policy:
          roles:
            "*": { tools: ["a__*"] }
          rules:
            - id: two-steps-at-most
              tools: ["a__slow"]
              require: [ { argument: steps, in: [1, 2] } ]
        """

    func auditLines(_ audit: AuditLog?) throws -> [JSONValue] {
        audit?.flush()
        let text = try String(contentsOfFile: auditPath, encoding: .utf8)
        return try text.split(separator: "\n").map { try JSONParser.parse(String($0)) }
    }

    func testRefusalsStopBeforeTheBackendAndAreStillAuditedAndCounted() async throws {
        let fixture = MetricsFixture()
        var limits = ServerLimits()
        limits.tenantRate = RateLimit(ratePerSecond: 0.001, burst: 1)
        let (server, backend, audit) = try makeMetricsServer(metrics: fixture.metrics, policyYAML: Self.policy, limits: limits, auditPath: auditPath)
        let client = MetricsClient(server, Principal(id: "u", tenant: "acme"))
        await client.initialize()

        // Validation comes before policy: arguments that are both invalid and denied are refused as invalid.
        let invalid = await client.call("a__slow", ["steps": "many"])
        let denied = await client.call("a__slow", ["steps": 5])
        let ok = await client.call("a__echo", ["text": "hi"])
        let limited = await client.call("a__echo", ["text": "hi"])
        let unknown = await client.call("a__nope")
        XCTAssertEqual([invalid, denied, ok, limited, unknown], ["invalid_arguments", "forbidden", "ok", "rate_limited", "-32602"])
        XCTAssertEqual(backend.calls.withLock { $0 }, 1, "only the call that passed every stage reached the backend")

        let lines = try auditLines(audit)
        XCTAssertEqual(lines.map { $0["outcome"]?.stringValue ?? "" }, ["invalid_arguments", "not_run", "ok", "rate_limited", "not_run"])
        XCTAssertEqual(lines.map { $0["decision"]?.stringValue ?? "" }, ["allowed", "denied", "allowed", "allowed", "denied"])
        XCTAssertEqual(lines.map { $0["rule"]?.stringValue ?? "" }, ["role:*", "two-steps-at-most", "role:*", "role:*", "unknown-tool"])

        let s = fixture.scrape()
        func calls(_ tool: String, _ outcome: String, backend: String = "a") -> Double? {
            s[#"mcp_broker_tool_calls_total{backend="\#(backend)",tool="\#(tool)",tenant="acme",outcome="\#(outcome)"}"#]
        }
        XCTAssertEqual(calls("a__slow", "invalid_arguments"), 1)
        XCTAssertEqual(calls("a__slow", "forbidden"), 1)
        XCTAssertEqual(calls("a__echo", "ok"), 1)
        XCTAssertEqual(calls("a__echo", "rate_limited"), 1)
        XCTAssertEqual(calls("_unknown", "unknown_tool", backend: ""), 1)
        XCTAssertEqual(s[#"mcp_broker_rate_limited_total{scope="tenant",tenant="acme"}"#], 1)
        // The backend ran once; the broker's own time is recorded for all four resolved calls.
        XCTAssertEqual(s[#"mcp_broker_backend_duration_seconds_count{backend="a",tool="a__echo"}"#], 1)
        XCTAssertNil(s[#"mcp_broker_backend_duration_seconds_count{backend="a",tool="a__slow"}"#])
        XCTAssertEqual(s[#"mcp_broker_overhead_seconds_count{backend="a"}"#], 4)
    }

    func testOperationDurationLabelsEveryRequest() async throws {
        let fixture = MetricsFixture()
        let (server, _, _) = try makeMetricsServer(metrics: fixture.metrics)
        let client = MetricsClient(server, Principal(id: "u", tenant: "acme"))
        await client.initialize()
        await client.request("tools/list")
        await client.call("a__echo", ["text": "hi"])
        await client.call("a__fail")
        await client.call("a__missing")
        await client.request("no/such/method")
        let s = fixture.scrape()
        func count(_ method: String, _ tool: String, _ error: String) -> Double? {
            s[
                #"mcp_server_operation_duration_seconds_count{mcp_method_name="\#(method)",gen_ai_tool_name="\#(tool)",error_type="\#(error)",mcp_protocol_version="2025-11-25",network_transport="tcp"}"#
            ]
        }
        XCTAssertEqual(count("initialize", "", ""), 1)
        XCTAssertEqual(count("tools/list", "", ""), 1)
        XCTAssertEqual(count("tools/call", "a__echo", ""), 1)
        XCTAssertEqual(count("tools/call", "a__fail", "not_found"), 1)
        XCTAssertEqual(count("tools/call", "_unknown", "-32602"), 1)
        XCTAssertEqual(count("_other", "", "-32601"), 1, "a method outside MCP is _other")
        XCTAssertEqual(s["mcp_broker_in_flight_requests"], 0)
    }

    func testNoMetricsSectionRecordsNothing() async throws {
        let (server, backend, _) = try makeMetricsServer(metrics: .disabled)
        let client = MetricsClient(server, Principal(id: "u", tenant: "acme"))
        await client.initialize()
        let code = await client.call("a__echo", ["text": "hi"])
        XCTAssertEqual(code, "ok")
        XCTAssertFalse(server.metrics.isEnabled)
        XCTAssertEqual(backend.calls.withLock { $0 }, 1)
    }
}
