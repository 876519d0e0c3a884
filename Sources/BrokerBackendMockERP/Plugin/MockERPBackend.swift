// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import Logging
import MCPCore

/// What the plugin presents to the ERP: the client, the technical user and a reference to its password.
struct ERPCredentials: Sendable {
    var client: String
    var user: String
    var password: SecretReference
}

/// The broker backend for the simulated ERP: declares the procurement tools, resources and prompts, talks to the
/// system on its native wire with the configured credentials, and normalizes every answer and error.
final class MockERPBackend: Backend {
    let name: String
    let systemDescription: String?
    let credentials: ERPCredentials
    let system: ERPSystem
    let logger: Logger
    let errors: ERPErrorMapper
    let tools: [ToolDefinition]
    let resources: [Resource]
    let resourceTemplates: [ResourceTemplate]
    let prompts: [Prompt]

    init(name: String, description: String?, credentials: ERPCredentials, system: ERPSystem, logger: Logger) {
        self.name = name
        self.systemDescription = description
        self.credentials = credentials
        self.system = system
        self.logger = logger
        self.errors = ERPErrorMapper(backend: name)
        self.tools = Self.toolDefinitions(description: description)
        self.resources = Self.resourceList(backend: name)
        self.resourceTemplates = Self.templateList(backend: name)
        self.prompts = Self.promptList()
    }

    func callTool(_ name: String, arguments: [String: JSONValue], context: CallContext) async throws -> ToolOutput {
        switch name {
        case "search_suppliers": return try await searchSuppliers(arguments, context)
        case "get_supplier": return try await getSupplier(arguments, context)
        case "search_purchase_orders": return try await searchPurchaseOrders(arguments, context)
        case "get_purchase_order": return try await getPurchaseOrder(arguments, context)
        case "search_invoices": return try await searchInvoices(arguments, context)
        case "get_invoice": return try await getInvoice(arguments, context)
        case "check_inventory": return try await checkInventory(arguments, context)
        case "list_cost_centers": return try await listCostCenters(arguments, context)
        case "create_purchase_order": return try await createPurchaseOrder(arguments, context)
        case "approve_invoice": return try await approveInvoice(arguments, context)
        case "spend_report": return try await spendReport(arguments, context)
        default: throw BrokerError.notFound("Tool \(name) is not provided by backend \(self.name).")
        }
    }

    // MARK: Native transport

    /// The credential headers, built from the password as it is now (so a rotated secret is used at once).
    private func authHeaders() throws(SecretResolutionError) -> [String: String] {
        let secret = try credentials.password.resolve()
        let basic = secret.withValue { Data("\(credentials.user):\($0)".utf8).base64EncodedString() }
        return [ERPRequest.clientHeader: credentials.client, ERPRequest.authorizationHeader: "Basic \(basic)"]
    }

    private func credentialUnavailable() -> BrokerError {
        BrokerError(
            .backendCredentialsRejected,
            "The broker's credential for the ERP system (\(credentials.password)) is not available; an administrator must check backends.\(name).credentials.",
            backend: name)
    }

    /// Sends one request for the caller's tenant and returns the `d` payload, or throws the normalized error.
    func send(
        _ method: ERPRequest.Method, _ path: String, query: [String: JSONValue] = [:], body: JSONValue? = nil,
        idempotencyKey: String? = nil, context: CallContext
    ) async throws(BrokerError) -> JSONValue {
        try context.checkAlive()
        var headers: [String: String]
        do { headers = try authHeaders() } catch { throw credentialUnavailable() }
        headers[ERPRequest.partitionHeader] = context.principal.tenant
        if let idempotencyKey { headers[ERPRequest.repeatabilityHeader] = idempotencyKey }
        // The call's trace context, as a real HTTP client would send it.
        for (name, value) in TracePropagation.headers() { headers[name] = value }
        let request = ERPRequest(method: method, path: path, query: query, body: body, headers: headers)
        let response: ERPResponse
        do {
            response = try await system.handle(request)
        } catch {
            if ContinuousClock.now >= context.deadline { throw BrokerError.timeout("The ERP system did not answer before the call's deadline.") }
            throw BrokerError.cancelled
        }
        context.logger.debug("erp request", metadata: ["erp_method": "\(method.rawValue)", "erp_path": "\(path)", "erp_status": "\(response.status)"])
        guard (200..<300).contains(response.status) else {
            let error = errors.map(response)
            context.logger.debug("erp error", metadata: ["detail": "\(error.detail ?? "")"])
            throw error
        }
        return response.body["d"] ?? .null
    }

    /// One `$filter` condition.
    static func condition(_ property: String, _ op: String, _ value: JSONValue) -> JSONValue {
        ["property": .string(property), "op": .string(op), "value": value]
    }

    // MARK: Health

    func checkHealth(context: CallContext) async -> HealthReport {
        let headers: [String: String]
        do { headers = try authHeaders() } catch { return HealthReport(healthy: false, reason: "credential \(credentials.password) is not available") }
        let response: ERPResponse
        do { response = try await system.handle(ERPRequest(method: .get, path: "/", headers: headers)) } catch {
            return HealthReport(healthy: false, reason: "health check cancelled")
        }
        switch response.status {
        case 200..<300: return .ok
        case 401: return HealthReport(healthy: false, reason: "ERP rejected the broker's credentials (check backends.\(name).credentials)")
        case 503: return HealthReport(healthy: false, reason: "ERP is not responding (service unavailable)")
        default: return HealthReport(healthy: false, reason: "ERP answered the health check with HTTP \(response.status)")
        }
    }
}
