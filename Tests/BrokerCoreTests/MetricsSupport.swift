// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import Logging
import MCPCore
import Prometheus
import Synchronization

/// A fresh registry and the broker metrics recording into it, configured as the exporter configures its own; one
/// per test, so no test sees another's numbers.
struct MetricsFixture {
    let registry = PrometheusCollectorRegistry()
    let metrics: BrokerMetrics

    init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets = MetricNames.histogramBuckets
        metrics = BrokerMetrics(factory: factory, version: "test", processMetrics: false)
    }

    /// Every series in the exposition with its value, keyed by `name{labels}` as written.
    func scrape() -> [String: Double] {
        metrics.refresh()
        var out: [String: Double] = [:]
        for line in registry.emitToString().split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            out[String(line[..<space])] = value
        }
        return out
    }

    /// The value of one series (`nil` when absent).
    func value(_ series: String) -> Double? { scrape()[series] }
}

/// A server over one ``TestBackend`` named `a`, recording into `metrics`, with an audit file and the given policy.
func makeMetricsServer(
    metrics: BrokerMetrics, policyYAML: String = "policy:\n  roles:\n    \"*\": { tools: [\"a__*\"] }\n", limits: ServerLimits = ServerLimits(),
    resilience: BackendResilience = BackendResilience(), tenants: [String] = ["acme"], auditPath: String? = nil
) throws -> (MCPServer, TestBackend, AuditLog?) {
    let yaml =
        "server:\n  tenants: [\(tenants.joined(separator: ", "))]\n  stdio: { principal: { id: local, tenant: \(tenants[0]) } }\n"
        + "  http: { principal: { id: dev, tenant: \(tenants[0]) } }\n" + policyYAML
    var settings = try BrokerConfiguration.parse(yaml: yaml).server
    settings.limits = limits
    let backend = TestBackend(name: "a")
    let catalog = try Catalog(backends: [backend], separator: "__")
    try settings.policy.validate(against: catalog, file: "m.yaml")
    let audit = try auditPath.map { path throws(ConfigError) in try AuditLog(settings: AuditSettings(path: path), metrics: metrics) }
    let server = MCPServer(catalog: catalog, settings: settings, audit: audit, resilience: ["a": resilience], metrics: metrics, logger: Logger(label: "metrics-test"))
    return (server, backend, audit)
}

/// Drives a server the way a transport does (``MCPServer/process(_:session:principal:notify:)``), so the operation
/// metrics are recorded as in production.
struct MetricsClient {
    let server: MCPServer
    let principal: Principal
    let session: Session
    private let ids = IDCounter()

    init(_ server: MCPServer, _ principal: Principal, transport: NetworkTransport = .tcp) {
        self.server = server
        self.principal = principal
        self.session = Session(id: transport == .tcp ? "s-\(UUID().uuidString)" : nil, ownerID: principal.bindingKey, transport: transport)
    }

    func initialize() async { _ = await request("initialize", ["protocolVersion": "2025-11-25"]) }

    /// The decoded response of one request.
    @discardableResult
    func request(_ method: String, _ params: JSONValue? = nil) async -> JSONValue {
        let message = RPCMessage.request(RPCRequest(id: .int(Int64(ids.next())), method: method, params: params?.objectValue))
        guard let bytes = await server.process(message, session: session, principal: principal, notify: nil) else { return .null }
        return (try? JSONParser.parse(bytes)) ?? .null
    }

    /// A `tools/call`; the `_meta` error code of an `isError` result, `ok`, or the JSON-RPC error code.
    @discardableResult
    func call(_ tool: String, _ arguments: JSONValue = [:]) async -> String {
        let r = await request("tools/call", ["name": .string(tool), "arguments": arguments])
        if let code = r["error"]?["code"]?.intValue { return String(code) }
        return r["result"]?["_meta"]?["mcp-broker/error"]?["code"]?.stringValue ?? "ok"
    }
}

final class IDCounter: Sendable {
    private let value = Atomic<Int>(0)
    func next() -> Int { value.add(1, ordering: .relaxed).newValue }
}
