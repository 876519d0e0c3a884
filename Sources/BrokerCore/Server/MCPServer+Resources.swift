// SPDX-License-Identifier: Apache-2.0

import Logging
import MCPCore

extension MCPServer {
    func listResources(_ params: [String: JSONValue]) -> Result<JSONValue, RPCError> {
        ListCursor.page(catalog.resourceListEntries, key: "resources", list: "resources", params: params, pageSize: settings.pageSize)
    }

    func listResourceTemplates(_ params: [String: JSONValue]) -> Result<JSONValue, RPCError> {
        ListCursor.page(
            catalog.templateListEntries, key: "resourceTemplates", list: "templates", params: params, pageSize: settings.pageSize)
    }

    func listPrompts(_ params: [String: JSONValue]) -> Result<JSONValue, RPCError> {
        ListCursor.page(catalog.promptListEntries, key: "prompts", list: "prompts", params: params, pageSize: settings.pageSize)
    }

    func context(for principal: Principal, backend: String) -> CallContext {
        var log = logger
        log[metadataKey: "backend"] = .string(backend)
        return CallContext(
            principal: principal, correlationID: CallContext.newCorrelationID(),
            deadline: .now + .milliseconds(settings.defaultTimeoutMilliseconds), logger: log)
    }

    func readResource(_ params: [String: JSONValue], principal: Principal) async -> Result<JSONValue, RPCError> {
        guard let uri = params["uri"]?.stringValue, !uri.isEmpty, uri.utf8.count <= 2048 else {
            return .failure(.invalidParams("resources/read needs a string 'uri' (at most 2048 bytes)"))
        }
        guard let name = ResourceURI.backend(of: uri), let backend = catalog.backend(named: name) else {
            return .failure(.resourceNotFound(uri))
        }
        let context = context(for: principal, backend: name)
        do {
            let contents = try await Deadline.run(until: context.deadline) { try await backend.readResource(uri: uri, context: context) }
            return .success(["contents": .array(contents.map(\.json))])
        } catch let error as BrokerError {
            if error.code == .notFound { return .failure(.resourceNotFound(uri)) }
            context.logger.notice("resource read failed", metadata: ["outcome": .string(error.code.rawValue)])
            if let detail = error.detail { context.logger.debug("resource read failure detail", metadata: ["detail": .string(detail)]) }
            return .failure(RPCError(code: RPCErrorCode.internalError, message: "\(error.message) (correlation id \(context.correlationID))"))
        } catch {
            context.logger.error("resource read crashed", metadata: ["error_type": .string(String(describing: type(of: error)))])
            return .failure(.internalError(correlationID: context.correlationID))
        }
    }

    func getPrompt(_ params: [String: JSONValue], principal: Principal) async -> Result<JSONValue, RPCError> {
        guard let name = params["name"]?.stringValue else { return .failure(.invalidParams("prompts/get needs a string 'name'")) }
        guard let entry = catalog.prompt(named: name) else { return .failure(.invalidParams("Unknown prompt: \(name.prefix(100))")) }
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
