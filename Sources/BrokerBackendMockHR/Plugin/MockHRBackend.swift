// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Logging
import MCPCore

/// The broker's backend for a Workday-like HR system: employees, org chart, departments, leave and compensation.
///
/// It presents the configured API key (resolved at each call, so a rotated secret is used without a restart)
/// and a tenant-scoped client id, and normalizes the system's native shapes and error codes into documented
/// snake_case results and ``BrokerError``s. The caller's tenant comes only from ``CallContext/principal``.
public final class MockHRBackend: Backend {
    /// Instance name (`backends.<name>`), also the tool namespace.
    public let name: String
    /// The HR system this instance talks to.
    public let system: HRSystem
    /// Tools, with local names.
    public let tools: [ToolDefinition]
    /// Reference data resources.
    public let resources: [Resource]
    /// Employee lookups by URI.
    public let resourceTemplates: [ResourceTemplate]
    /// Guided workflows.
    public let prompts: [Prompt]
    let apiKey: SecretReference
    let errors: HRErrorMapper
    let logger: Logger

    /// Creates the backend; no I/O happens until the first call or health check.
    /// - Parameters:
    ///   - description: what this instance holds, appended to every tool description so a model can choose
    ///     between several HR instances.
    public init(name: String, description: String?, apiKey: SecretReference, system: HRSystem, logger: Logger) {
        self.name = name
        self.system = system
        self.apiKey = apiKey
        self.logger = logger
        self.errors = HRErrorMapper(backend: name)
        self.tools = HRToolDefinitions.all(instanceDescription: description)
        self.resources = HRResources.resources(backend: name)
        self.resourceTemplates = HRResources.templates(backend: name)
        self.prompts = HRPrompts.all
    }

    /// Runs one tool.
    public func callTool(_ name: String, arguments: [String: JSONValue], context: CallContext) async throws -> ToolOutput {
        switch name {
        case "search_employees": return try await searchEmployees(arguments, context: context)
        case "get_employee": return try await getEmployee(arguments, context: context)
        case "get_org_chart": return try await getOrgChart(arguments, context: context)
        case "list_departments": return try await listDepartments(context: context)
        case "get_leave_balance": return try await getLeaveBalance(arguments, context: context)
        case "get_compensation": return try await getCompensation(arguments, context: context)
        case "request_leave": return try await requestLeave(arguments, context: context)
        case "headcount_report": return try await headcountReport(arguments, context: context)
        default: throw BrokerError.notFound("Tool \(name) does not exist in \(self.name).")
        }
    }

    /// Pings the system with the broker's credentials.
    public func checkHealth(context: CallContext) async -> HealthReport {
        let key: Secret
        do {
            key = try apiKey.resolve()
        } catch {
            return HealthReport(healthy: false, reason: "credential \(apiKey) is not available")
        }
        let path = HRSystem.apiPrefix + "/ping"
        let response = await system.handle(HRNativeRequest(method: .get, path: path, headers: key.withValue { ["X-API-Key": $0] }))
        switch response.status {
        case 200..<300: return .ok
        case 401: return HealthReport(healthy: false, reason: "The HR system rejected the broker's credentials (check backends.\(name).credentials)")
        case 503: return HealthReport(healthy: false, reason: "The HR system is not responding")
        default: return HealthReport(healthy: false, reason: "The HR system answered the health check with status \(response.status)")
        }
    }

    /// Sends one request for the caller's tenant and returns the native body of a successful answer.
    ///
    /// - Parameter subject: what the request is about, so native errors become precise business messages.
    func send(
        _ method: HRNativeRequest.Method, _ path: String, query: [String: JSONValue] = [:], body: JSONValue? = nil,
        idempotencyKey: String? = nil, subject: HRErrorSubject = HRErrorSubject(), context: CallContext
    ) async throws -> JSONValue {
        try context.checkAlive()
        let tenant = context.principal.tenant
        guard !tenant.isEmpty, !tenant.contains("/"), !tenant.contains("@") else {
            throw BrokerError(.forbidden, "Your organisation is not provisioned in the HR system (\(name)).", backend: name)
        }
        let key: Secret
        do {
            key = try apiKey.resolve()
        } catch {
            throw BrokerError(
                .backendCredentialsRejected,
                "The broker's credentials for the HR system are not available; an administrator must check backends.\(name).credentials.",
                backend: name, detail: error.reason)
        }
        var headers = key.withValue { ["X-API-Key": $0] }
        headers["X-Client-Id"] = "mcp-broker@" + tenant
        if let idempotencyKey { headers["Idempotency-Key"] = idempotencyKey }
        // The call's trace context, as a real HTTP client would send it.
        for (name, value) in TracePropagation.headers() { headers[name] = value }
        let request = HRNativeRequest(method: method, path: "\(HRSystem.apiPrefix)/\(tenant)/\(path)", query: query, body: body, headers: headers)
        let response = await system.handle(request)
        // A call cancelled or timed out while the system was answering reports that, not the system's reaction.
        try context.checkAlive()
        guard (200..<300).contains(response.status) else {
            let error = errors.map(response, subject: subject)
            context.logger.debug("HR system refused a request", metadata: ["status": "\(response.status)", "code": "\(error.code)"])
            throw error
        }
        return response.body
    }
}
