// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Logging
import MCPCore
import SimulationKit
import Synchronization

/// A simulated Workday-like HR system: workers, supervisory organizations, time off and compensation.
///
/// It is the system the broker talks to, not a test double: it owns its data (generated from a seed, one
/// partition per tenant, built on first access), checks the API key on every request, injects latency and
/// faults from its ``FaultPlan`` and speaks its own REST shapes under `/ccx/api/v1/{tenant}/...`.
public final class HRSystem: Sendable {
    /// Path prefix of every endpoint.
    public static let apiPrefix = "/ccx/api/v1"
    /// Tenants one system can hold (each gets its own two-digit ID prefix).
    public static let maxTenants = 90
    /// Workers one tenant can hold (5-digit ID sequence).
    public static let maxEmployeesPerTenant = 99_999

    /// Latency, fault and outage injection; tests may toggle the outage at runtime.
    public let faultPlan: FaultPlan
    /// Workers generated per tenant.
    public let employeesPerTenant: Int
    let seed: UInt64
    private let apiKey: SecretReference
    /// Tenant → base of its worker IDs (tenants never share an ID range).
    private let idBases: [String: Int]
    private let partitions = Mutex<[String: HRPartition]>([:])
    let idempotency = IdempotencyStore()
    /// The system's own access log (its label tells it apart from the broker's lines).
    private let accessLog = Logger(label: "mock-hr")

    /// Creates the system. Nothing is generated until a tenant is first used.
    /// - Parameters:
    ///   - tenants: provisioned tenants, at most ``maxTenants``, in a stable order (it fixes their ID ranges).
    ///   - employeesPerTenant: at most ``maxEmployeesPerTenant``.
    ///   - apiKey: where the one API key this system accepts lives; read at each request, so rotation works.
    public init(seed: UInt64, tenants: [String], employeesPerTenant: Int, apiKey: SecretReference, faultPlan: FaultPlan) {
        self.seed = seed
        self.employeesPerTenant = min(max(employeesPerTenant, 13), Self.maxEmployeesPerTenant)
        self.apiKey = apiKey
        self.faultPlan = faultPlan
        // Worker IDs are "2", a two-digit tenant code, then a 5-digit sequence: the first tenant listed gets code 10,
        // so its CEO is 21000001. Appending tenants to the list keeps existing IDs stable.
        var bases: [String: Int] = [:]
        for tenant in tenants where bases[tenant] == nil && bases.count < Self.maxTenants {
            bases[tenant] = 20_000_000 + (10 + bases.count) * 100_000
        }
        self.idBases = bases
    }

    /// Provisioned tenants, sorted.
    public var tenants: [String] { idBases.keys.sorted() }

    /// Handles one API request and writes its access log line.
    public func handle(_ request: HRNativeRequest) async -> HRNativeResponse {
        let response = await serve(request)
        logAccess(request, status: response.status)
        return response
    }

    /// The access log a real HR API gateway keeps, with the incoming W3C trace id (`trace_id`) so a request can be
    /// tied to the MCP call that made it. No credentials, no query (it may hold search terms).
    private func logAccess(_ request: HRNativeRequest, status: Int) {
        var metadata: Logger.Metadata = [
            "http_method": .string(request.method.rawValue), "path": .string(String(request.path.prefix(200))), "status": "\(status)",
        ]
        if let raw = request.header(TraceHeader.traceparent), let ids = TraceParent.parse(raw) {
            metadata["trace_id"] = .string(ids.traceID.hex)
            metadata["parent_span_id"] = .string(ids.spanID.hex)
        }
        accessLog.info("hr request served", metadata: metadata)
    }

    private func serve(_ request: HRNativeRequest) async -> HRNativeResponse {
        switch faultPlan.next() {
        case .down:
            return .unavailable
        case .fail(let delay):
            _ = await pause(delay)
            return .unavailable
        case .proceed(let delay):
            guard await pause(delay) else { return .unavailable }
        }
        let expected: Secret
        do {
            expected = try apiKey.resolve()
        } catch {
            // The system cannot check anyone's key: it is misconfigured, which clients see as unavailable.
            return .unavailable
        }
        guard let presented = request.header("X-API-Key"), expected.constantTimeEquals(Secret(presented)) else { return .unauthorized }
        return route(request)
    }

    /// Sleeps for simulated latency; `false` when the caller went away meanwhile.
    private func pause(_ milliseconds: Int) async -> Bool {
        guard milliseconds > 0 else { return true }
        do {
            try await Task.sleep(for: .milliseconds(milliseconds))
            return true
        } catch {
            return false
        }
    }

    private func route(_ request: HRNativeRequest) -> HRNativeResponse {
        let parts = request.path.split(separator: "/").map(String.init)
        guard parts.count >= 4, parts[0] == "ccx", parts[1] == "api", parts[2] == "v1" else { return notFound(request) }
        if parts.count == 4 && parts[3] == "ping" {
            return request.method == .get ? .ok(["Status": "OK", "Version": "v1"]) : methodNotAllowed(request)
        }
        let tenant = parts[3]
        guard let idBase = idBases[tenant] else {
            return .error(404, "INVALID_TENANT", "Tenant '\(tenant)' does not exist", field: "Tenant")
        }
        // The client id is scoped to one tenant: "<client>@<tenant>".
        guard let client = request.header("X-Client-Id"), client.hasSuffix("@" + tenant), client.count > tenant.count + 1 else {
            return .unauthorized
        }
        let p = partition(tenant, idBase: idBase)
        let rest = Array(parts.dropFirst(4))
        switch (request.method, rest.count, rest.first) {
        case (.get, 1, "workers"): return searchWorkers(p, request.query)
        case (.get, 1, "organizations"): return organizations(p)
        case (.get, 1, "locations"): return locations(p)
        case (.get, 1, "timeOffPlans"): return timeOffPlans()
        case (.get, 2, "workers"): return worker(p, id: rest[1])
        case (_, 3, "workers"):
            switch (request.method, rest[2]) {
            case (.get, "organizationChart"): return organizationChart(p, id: rest[1], query: request.query)
            case (.get, "timeOffBalances"): return timeOffBalances(p, id: rest[1])
            case (.get, "timeOffRequests"): return timeOffRequests(p, id: rest[1], query: request.query)
            case (.post, "timeOffRequests"): return createTimeOffRequest(p, id: rest[1], request: request)
            default: return notFound(request)
            }
        default:
            return notFound(request)
        }
    }

    private func notFound(_ request: HRNativeRequest) -> HRNativeResponse {
        .error(404, "NOT_FOUND", "No resource at \(request.method.rawValue) \(request.path)")
    }

    private func methodNotAllowed(_ request: HRNativeRequest) -> HRNativeResponse {
        .error(405, "METHOD_NOT_ALLOWED", "\(request.method.rawValue) is not supported for \(request.path)")
    }

    /// The partition of a provisioned tenant (generated on first use); `nil` for an unknown tenant.
    func partition(tenant: String) -> HRPartition? { idBases[tenant].map { partition(tenant, idBase: $0) } }

    /// The tenant's partition, generated on first use. Generation runs outside the lock so other tenants are never
    /// held up; if two first requests race, both build the same deterministic data and the first one stored wins.
    func partition(_ tenant: String, idBase: Int) -> HRPartition {
        if let p = partitions.withLock({ $0[tenant] }) { return p }
        let built = HRGenerator(seed: seed, tenant: tenant, idBase: idBase, employees: employeesPerTenant).generate()
        return partitions.withLock { cache in
            if let existing = cache[tenant] { return existing }
            cache[tenant] = built
            return built
        }
    }
}
