// SPDX-License-Identifier: Apache-2.0

import Logging
import MCPCore

extension MCPServer {
    func listResources(_ params: [String: JSONValue], principal: Principal) -> Result<JSONValue, RPCError> {
        ListCursor.page(visible.lists(for: principal).resources, key: "resources", list: "resources", params: params, pageSize: settings.pageSize)
    }

    func listResourceTemplates(_ params: [String: JSONValue], principal: Principal) -> Result<JSONValue, RPCError> {
        ListCursor.page(
            visible.lists(for: principal).templates, key: "resourceTemplates", list: "templates", params: params, pageSize: settings.pageSize)
    }

    func listPrompts(_ params: [String: JSONValue], principal: Principal) -> Result<JSONValue, RPCError> {
        ListCursor.page(visible.lists(for: principal).prompts, key: "prompts", list: "prompts", params: params, pageSize: settings.pageSize)
    }

    func context(for principal: Principal, backend: String) -> CallContext {
        var log = logger
        log[metadataKey: "backend"] = .string(backend)
        var context = CallContext(
            principal: principal, correlationID: CallContext.newCorrelationID(),
            deadline: .now + .milliseconds(settings.defaultTimeoutMilliseconds), logger: log)
        context.tokens = tokens
        return context
    }

    func readResource(_ params: [String: JSONValue], principal: Principal) async -> Result<JSONValue, RPCError> {
        guard let uri = params["uri"]?.stringValue, !uri.isEmpty, uri.utf8.count <= 2048 else {
            return .failure(.invalidParams("resources/read needs a string 'uri' (at most 2048 bytes)"))
        }
        let started = ContinuousClock.now
        // A resource the principal may not read answers exactly like one that does not exist.
        guard let name = ResourceURI.backend(of: uri), let backend = catalog.backend(named: name),
            settings.policy.mayRead(resource: uri, principal: principal)
        else {
            auditRefusal(principal: principal, method: "resources/read", target: uri, rule: "default-deny", started: started)
            return .failure(.resourceNotFound(uri))
        }
        let context = context(for: principal, backend: name)
        var outcome = "ok"
        defer {
            auditAllowed(context, method: "resources/read", target: uri, backend: name, digest: nil, rule: "resources", outcome: outcome, started: started)
        }
        do {
            // A read reaches the backend like a tool call does, so it passes the same protections: the tenant's rate
            // limits, then the backend's tenant and capacity shares, bulkhead and breaker (which also bounds it by the
            // deadline).
            if let (refusal, scope) = await guards.checkTenantLimits(tool: "resources/read", principal: principal) {
                metrics.recordRateLimited(scope, tenant: pipeline.tenants(principal.tenant))
                throw refusal
            }
            let read: @Sendable () async throws -> [ResourceContents] = { try await backend.readResource(uri: uri, context: context) }
            let contents =
                if let guarded = guards.backend(named: name) {
                    try await guarded.run("resources/read", context: context, tenantLabel: pipeline.tenants(principal.tenant), work: read)
                } else {
                    try await Deadline.run(until: context.deadline, read)
                }
            return .success(["contents": .array(contents.map(\.json))])
        } catch let error as BrokerError {
            outcome = error.code.rawValue
            if error.code == .notFound { return .failure(.resourceNotFound(uri)) }
            context.logger.notice("resource read failed", metadata: ["outcome": .string(error.code.rawValue)])
            if let detail = error.detail { context.logger.debug("resource read failure detail", metadata: ["detail": .string(detail)]) }
            return .failure(RPCError(code: RPCErrorCode.internalError, message: "\(error.message) (correlation id \(context.correlationID))"))
        } catch {
            outcome = BrokerError.Code.internal.rawValue
            context.logger.error("resource read crashed", metadata: ["error_type": .string(String(describing: type(of: error)))])
            return .failure(.internalError(correlationID: context.correlationID))
        }
    }

    func getPrompt(_ params: [String: JSONValue], principal: Principal) async -> Result<JSONValue, RPCError> {
        guard let name = params["name"]?.stringValue else { return .failure(.invalidParams("prompts/get needs a string 'name'")) }
        let started = ContinuousClock.now
        guard let entry = catalog.prompt(named: name), settings.policy.mayGet(prompt: name, principal: principal) else {
            auditRefusal(principal: principal, method: "prompts/get", target: String(name.prefix(100)), rule: "default-deny", started: started)
            return .failure(.invalidParams("Unknown prompt: \(name.prefix(100))"))
        }
        var arguments: [String: String] = [:]
        switch params["arguments"] {
        case nil, .null?: break
        case .object(let o)?:
            for (k, v) in o {
                guard let s = v.stringValue else { return .failure(.invalidParams("prompt argument '\(k.prefix(64))' must be a string")) }
                arguments[k] = s
            }
        default: return .failure(.invalidParams("'arguments' must be an object of strings"))
        }
        for arg in entry.prompt.arguments where arg.required && (arguments[arg.name]?.isEmpty ?? true) {
            return .failure(.invalidParams("Missing required argument '\(arg.name)' for prompt \(name)"))
        }
        let backend = catalog.backends[entry.backendIndex]
        let context = context(for: principal, backend: backend.name)
        defer { auditAllowed(context, method: "prompts/get", target: name, backend: backend.name, digest: nil, rule: "prompts", outcome: "ok", started: started) }
        do {
            let result = try await backend.getPrompt(entry.prompt.name, arguments: arguments, context: context)
            return .success(result.json)
        } catch let error as BrokerError {
            if error.code == .invalidArguments || error.code == .notFound { return .failure(.invalidParams(error.message)) }
            return .failure(RPCError(code: RPCErrorCode.internalError, message: "\(error.message) (correlation id \(context.correlationID))"))
        } catch {
            context.logger.error("prompt failed", metadata: ["error_type": .string(String(describing: type(of: error)))])
            return .failure(.internalError(correlationID: context.correlationID))
        }
    }
}
