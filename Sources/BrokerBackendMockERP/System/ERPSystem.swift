// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import Logging
import MCPCore
import SimulationKit
import Synchronization

/// The simulated SAP-like ERP: owns its tenant partitions, authenticates every request, injects latency and
/// faults, and answers on its own OData-v2-flavoured wire. It knows nothing about MCP or the broker's errors.
final class ERPSystem: Sendable {
    /// The system's own settings (a real deployment would not configure the ERP through the broker).
    struct Settings: Sendable {
        var seed: UInt64 = 42
        var tenants: [String]
        /// The client (`sap-client`) the technical user belongs to.
        var client: String
        var user: String
        /// The password the system accepts; read at each request, so it can be rotated.
        var password: SecretReference
        var sizes = ERPSizes()
    }

    /// One tenant's partition behind its own lock, so tenants never contend.
    final class TenantStore: Sendable {
        let state: Mutex<ERPPartition>
        init(_ partition: ERPPartition) { state = Mutex(partition) }
        /// A consistent copy for reading (arrays are copy-on-write, so this is cheap).
        var snapshot: ERPPartition { state.withLock { $0 } }
    }

    let settings: Settings
    /// Latency and fault injection; tests may toggle the outage at runtime.
    let faults: FaultPlan
    let idempotency = IdempotencyStore()
    private let stores = Mutex<[String: TenantStore]>([:])
    /// The system's own access log (its label tells it apart from the broker's lines).
    private let accessLog = Logger(label: "mock-erp")

    init(settings: Settings, faults: FaultPlan) {
        self.settings = settings
        self.faults = faults
    }

    /// The single entry point: one request in, one native response out, one access log line.
    /// - Throws: `CancellationError` when the caller cancelled while the simulated latency elapsed.
    func handle(_ request: ERPRequest) async throws(CancellationError) -> ERPResponse {
        let response = try await serve(request)
        logAccess(request, status: response.status)
        return response
    }

    /// The access log a real ERP's web dispatcher keeps, with the incoming W3C trace id (`trace_id`) so a
    /// request can be tied to the MCP call that made it. No credentials, no query options (they hold filters).
    private func logAccess(_ request: ERPRequest, status: Int) {
        var metadata: Logger.Metadata = [
            "http_method": .string(request.method.rawValue), "path": .string(String(request.path.prefix(200))), "status": "\(status)",
        ]
        if let raw = request.headers[TraceHeader.traceparent], let ids = TraceParent.parse(raw) {
            metadata["trace_id"] = .string(ids.traceID.hex)
            metadata["parent_span_id"] = .string(ids.spanID.hex)
        }
        accessLog.info("erp request served", metadata: metadata)
    }

    private func serve(_ request: ERPRequest) async throws(CancellationError) -> ERPResponse {
        switch faults.next() {
        case .down:
            return Self.unavailable
        case .fail(let delay):
            try await pause(delay)
            return Self.unavailable
        case .proceed(let delay):
            try await pause(delay)
        }
        if let refusal = authenticate(request) { return refusal }
        do {
            return try route(request)
        } catch {
            return error.response
        }
    }

    static let unavailable = ERPResponse.error(503, ERPCode.serviceUnavailable, "Service is temporarily unavailable; try again later")

    private func pause(_ milliseconds: Int) async throws(CancellationError) {
        guard milliseconds > 0 else { return }
        do { try await Task.sleep(for: .milliseconds(milliseconds)) } catch { throw CancellationError() }
    }

    /// Checks `sap-client` and HTTP basic credentials; `nil` when accepted.
    private func authenticate(_ request: ERPRequest) -> ERPResponse? {
        let refused = ERPResponse.error(401, ERPCode.logonFailed, "Logon failed: name or password is incorrect")
        guard request.headers[ERPRequest.clientHeader] == settings.client,
            let auth = request.headers[ERPRequest.authorizationHeader], auth.hasPrefix("Basic "),
            let data = Data(base64Encoded: String(auth.dropFirst(6))), let decoded = String(data: data, encoding: .utf8),
            let colon = decoded.firstIndex(of: ":")
        else { return refused }
        let expected: Secret
        do { expected = try settings.password.resolve() } catch {
            return .error(500, ERPCode.logonConfiguration, "Logon configuration of the service is incomplete")
        }
        let userMatches = String(decoded[..<colon]) == settings.user
        let passwordMatches = expected.constantTimeEquals(Secret(String(decoded[decoded.index(after: colon)...])))
        return userMatches && passwordMatches ? nil : refused
    }

    /// The tenant's partition, generated on first access; `nil` for a tenant that is not provisioned.
    func store(for tenant: String) -> TenantStore? {
        guard let index = settings.tenants.firstIndex(of: tenant) else { return nil }
        if let existing = stores.withLock({ $0[tenant] }) { return existing }
        // Generate outside the lock so other tenants are not held up; a racing duplicate is identical and dropped.
        let fresh = TenantStore(ERPGenerator.partition(tenant: tenant, index: index, seed: settings.seed, sizes: settings.sizes))
        return stores.withLock { all in
            if let existing = all[tenant] { return existing }
            all[tenant] = fresh
            return fresh
        }
    }

    private func route(_ request: ERPRequest) throws(ERPReject) -> ERPResponse {
        guard let (set, key) = ERPQuery.parsePath(request.path) else { throw Self.unknownResource(request.path) }
        if set.isEmpty && key == nil && request.method == .get {
            return .entity(["EntitySets": ["A_Supplier", "A_CostCenter", "A_MaterialStock", "A_PurchaseOrder", "A_SupplierInvoice"]])
        }
        guard let tenant = request.headers[ERPRequest.partitionHeader], let store = store(for: tenant) else {
            throw ERPReject(403, ERPCode.partitionUnknown, "No authorization for the requested data partition")
        }
        switch (request.method, set, key) {
        case (.get, "A_Supplier", nil): return try listSuppliers(request, store.snapshot)
        case (.get, "A_Supplier", let id?): return try supplier(id, store.snapshot)
        case (.get, "GetSupplierOpenItems", nil): return try supplierOpenItems(request, store.snapshot)
        case (.get, "A_CostCenter", nil): return try listCostCenters(request, store.snapshot)
        case (.get, "A_MaterialStock", nil): return try listStock(request, store.snapshot)
        case (.get, "A_PurchaseOrder", nil): return try listOrders(request, store.snapshot)
        case (.get, "A_PurchaseOrder", let id?): return try order(id, request, store.snapshot)
        case (.post, "A_PurchaseOrder", nil):
            return try write(request, tenant: tenant, store) { (p: inout ERPPartition) throws(ERPReject) in try createOrder(request, &p) }
        case (.get, "A_SupplierInvoice", nil): return try listInvoices(request, store.snapshot)
        case (.get, "A_SupplierInvoice", let id?): return try invoice(id, store.snapshot)
        case (.post, "ReleaseSupplierInvoice", nil):
            return try write(request, tenant: tenant, store) { (p: inout ERPPartition) throws(ERPReject) in try releaseInvoice(request, &p) }
        default: throw Self.unknownResource(request.path)
        }
    }

    static func unknownResource(_ path: String) -> ERPReject {
        ERPReject(404, ERPCode.resourceUnknown, "Resource not found for segment '\(path.prefix(80))'")
    }

    /// Runs a write at most once per `Repeatability-Request-ID`: a repeat with the same payload replays the
    /// first response, a repeat with another payload is refused. The whole check-write-record sequence holds the
    /// tenant's lock, so a concurrent duplicate waits and then replays instead of seeing a half-finished write.
    private func write(
        _ request: ERPRequest, tenant: String, _ store: TenantStore, _ body: (inout ERPPartition) throws(ERPReject) -> ERPResponse
    ) throws(ERPReject) -> ERPResponse {
        guard let key = request.headers[ERPRequest.repeatabilityHeader], !key.isEmpty else {
            throw ERPReject(400, ERPCode.badRequest, "Header Repeatability-Request-ID is required for this operation")
        }
        let fingerprint = request.path + " " + (request.body ?? .null).jsonText
        return try store.state.withLock { (p: inout ERPPartition) throws(ERPReject) -> ERPResponse in
            switch idempotency.begin(tenant: tenant, key: key, fingerprint: fingerprint) {
            case .replay(let stored):
                return ERPResponse(status: Int(stored["status"]?.intValue ?? 200), body: stored["body"] ?? .null)
            case .conflict:
                throw ERPReject(409, ERPCode.repeatabilityConflict, "Repeatability-Request-ID \(key) was already used for a different request")
            case .inProgress:
                // Unreachable while writes run under the partition lock; kept so the mapping is total.
                throw ERPReject(503, ERPCode.serviceUnavailable, "Repeatability-Request-ID \(key) is being processed")
            case .new:
                do throws(ERPReject) {
                    let response = try body(&p)
                    idempotency.record(tenant: tenant, key: key, fingerprint: fingerprint, result: ["status": .int(response.status), "body": response.body])
                    return response
                } catch {
                    // A refused write changed nothing; the key stays free so a corrected retry can use it.
                    idempotency.abandon(tenant: tenant, key: key)
                    throw error
                }
            }
        }
    }
}
