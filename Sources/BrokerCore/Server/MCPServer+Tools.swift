// SPDX-License-Identifier: Apache-2.0

import Logging
import MCPCore
import Synchronization

extension MCPServer {
    func listTools(_ params: [String: JSONValue], principal: Principal) -> Result<JSONValue, RPCError> {
        ListCursor.page(visible.lists(for: principal).tools, key: "tools", list: "tools", params: params, pageSize: settings.pageSize)
    }

    /// Whether a `tools/call` must be answered on a stream: it may send progress or log notifications, or ask
    /// the user to confirm through elicitation. A confirm tool the principal may not see is answered like an unknown
    /// tool — as plain JSON — so the transport's choice of framing cannot reveal that it exists.
    public func needsStream(_ request: RPCRequest, session: Session, principal: Principal) -> Bool {
        guard request.method == "tools/call" else { return false }
        if request.progressToken != nil || session.logLevel != nil { return true }
        guard let name = request.params?["name"]?.stringValue, settings.policy.tools[name]?.confirm == true else { return false }
        guard case .allow = settings.policy.visibility(of: name, for: principal) else { return false }
        return true
    }

    func callTool(_ request: RPCRequest, session: Session, principal: Principal, notify: OutboundSink?) async -> Result<MethodResult, RPCError> {
        let params = request.params ?? [:]
        guard let name = params["name"]?.stringValue else { return .failure(.invalidParams("tools/call needs a string 'name'")) }
        let arguments: [String: JSONValue]
        switch params["arguments"] {
        case nil, .null?: arguments = [:]
        case .object(let o)?: arguments = o
        default: return .failure(.invalidParams("'arguments' must be an object"))
        }
        let started = ContinuousClock.now
        // A tool the principal may not see answers exactly like one that does not exist (the audit tells them apart).
        guard let tool = catalog.tool(named: name) else {
            auditRefusal(principal: principal, method: "tools/call", target: String(name.prefix(100)), rule: "unknown-tool", started: started)
            return .failure(Self.unknownTool(name))
        }
        let visibility = settings.policy.visibility(of: name, for: principal)
        guard case .allow = visibility else {
            auditRefusal(
                principal: principal, method: "tools/call", target: name, rule: visibility.rule, started: started,
                digest: audit?.digest(.object(arguments)))
            return .failure(Self.unknownTool(name))
        }
        let backend = catalog.backends[tool.backendIndex]
        let correlationID = CallContext.newCorrelationID()
        var log = logger
        log[metadataKey: "backend"] = .string(backend.name)
        log[metadataKey: "tool"] = .string(name)
        let box = NotifierState()
        let guarded = guards.backends[tool.backendIndex]
        var timeout = Duration.milliseconds(settings.defaultTimeoutMilliseconds)
        if let t = guarded.settings.timeout, t < timeout { timeout = t }
        var context = CallContext(
            principal: principal, correlationID: correlationID, deadline: .now + timeout, logger: log,
            notifier: makeNotifier(request: request, session: session, notify: notify, state: box))
        context.retryBudget = guards.retryBudget
        defer { box.finish() }
        var decision = "allowed", rule = visibility.rule, outcome = "ok"
        defer {
            if audit != nil {
                auditAllowed(
                    context, method: "tools/call", target: name, backend: backend.name, digest: audit?.digest(.object(arguments)), rule: rule,
                    outcome: outcome, started: started, decision: decision)
            }
        }

        let violations = tool.inputValidator.validate(.object(arguments))
        if !violations.isEmpty {
            let detail = violations.prefix(5).map(\.description).joined(separator: "; ")
            context.logger.info("tool call refused", metadata: ["outcome": "invalid_arguments"])
            outcome = BrokerError.Code.invalidArguments.rawValue
            return .success(.value(Self.errorResult(.invalidArguments("Invalid arguments for \(name): \(detail)."), correlationID: correlationID)))
        }
        if case .deny(let denyingRule, let message)? = settings.policy.checkArguments(tool: name, principal: principal, arguments: arguments) {
            (decision, rule, outcome) = ("denied", denyingRule, "not_run")
            context.logger.notice("tool call denied by policy", metadata: ["rule": .string(denyingRule)])
            return .success(.value(Self.errorResult(BrokerError(.forbidden, "Not allowed by policy \(denyingRule): \(message)"), correlationID: correlationID)))
        }
        if settings.policy.tools[name]?.confirm == true {
            if let refusal = await confirm(tool, arguments: arguments, session: session, send: notify, context: context) {
                (decision, rule, outcome) = refusal.code == .forbidden ? ("denied", "confirm-unsupported", "not_run") : ("allowed", rule, refusal.code.rawValue)
                context.logger.notice("tool call not confirmed", metadata: ["outcome": .string(refusal.code.rawValue)])
                return .success(.value(Self.errorResult(refusal, correlationID: correlationID)))
            }
            rule += "+confirmed"
        }
        if let refusal = guards.checkTenantLimits(tool: name, principal: principal) {
            outcome = refusal.code.rawValue
            context.logger.notice("tool call refused by rate limit", metadata: ["outcome": .string(outcome)])
            return .success(.value(Self.errorResult(refusal, correlationID: correlationID)))
        }
        guards.retryBudget.callStarted()
        defer { guards.retryBudget.callEnded() }
        do {
            let call: @Sendable () async throws -> ToolOutput = { [context] in
                try await guarded.run(name, context: context) {
                    try await backend.callTool(tool.definition.name, arguments: arguments, context: context)
                }
            }
            let output: ToolOutput
            if let cache = guarded.cache,
                let key = guards.cacheKey(
                    backend: tool.backendIndex, tool: tool.definition.name, arguments: arguments, principal: principal,
                    visibilityClass: settings.policy.visibilityClass(of: principal))
            {
                let (value, hit) = try await cache.value(for: key, load: call)
                context.logger.info(hit ? "cache hit" : "cache miss", metadata: ["cache": .string(hit ? "hit" : "miss")])
                output = value
            } else {
                output = try await call()
            }
            if tool.definition.outputSchema != nil, !output.hasObjectResult {
                outcome = BrokerError.Code.internal.rawValue
                context.logger.error("backend returned no structured result for a tool with an output schema")
                return .success(.value(Self.errorResult(BrokerError(.internal, "The tool produced an invalid result."), correlationID: correlationID)))
            }
            var content: [ContentBlock] = [.text(output.textForModel)]
            content.append(contentsOf: output.extraContent)
            context.logger.info("tool call", metadata: ["outcome": "ok", "duration_ms": "\(Self.ms(since: started))"])
            if let encoded = output.encodedStructured {
                return .success(.toolResult(content: content, structured: encoded))
            }
            return .success(.value(CallToolResult(content: content, structuredContent: output.structured).json))
        } catch let error as BrokerError {
            outcome = error.code.rawValue
            context.logger.notice(
                "tool call failed", metadata: ["outcome": .string(error.code.rawValue), "duration_ms": "\(Self.ms(since: started))"])
            // Native backend detail can be verbose or sensitive: debug level only, never to the client.
            if let detail = error.detail { context.logger.debug("tool call failure detail", metadata: ["detail": .string(detail)]) }
            return .success(.value(Self.errorResult(error, correlationID: correlationID)))
        } catch is CancellationError {
            outcome = BrokerError.Code.cancelled.rawValue
            return .success(.value(Self.errorResult(.cancelled, correlationID: correlationID)))
        } catch {
            // A non-BrokerError is a bug in a backend: log it, tell the client only the correlation id.
            outcome = BrokerError.Code.internal.rawValue
            context.logger.error("tool call crashed", metadata: ["error_type": .string(String(describing: type(of: error))), "duration_ms": "\(Self.ms(since: started))"])
            return .success(
                .value(Self.errorResult(BrokerError(.internal, "The broker hit an internal error while running \(name)."), correlationID: correlationID)))
        }
    }

    /// The one answer for a name nobody may call: unknown and hidden tools must be indistinguishable.
    static func unknownTool(_ name: String) -> RPCError { .invalidParams("Unknown tool: \(name.prefix(100))") }

    static func ms(since start: ContinuousClock.Instant) -> String {
        let micros = (ContinuousClock.now - start) / .microseconds(1)
        return String(format3(micros / 1000))
    }

    static func format3(_ v: Double) -> String { String(Double(Int((v * 1000).rounded())) / 1000) }

    /// An `isError` result: the safe message plus code and correlation id, also as `_meta` for programs.
    static func errorResult(_ error: BrokerError, correlationID: String) -> JSONValue {
        var text = error.message
        var tags = [error.code.rawValue]
        if error.isRetriable { tags.append("retriable") }
        if let r = error.retryAfterSeconds { tags.append("retry after \(format3(r)) s") }
        tags.append("correlation id \(correlationID)")
        text += " [\(tags.joined(separator: "; "))]"
        var meta: [String: JSONValue] = [
            "code": .string(error.code.rawValue), "retriable": .bool(error.isRetriable), "correlationId": .string(correlationID),
        ]
        if let b = error.backend { meta["backend"] = .string(b) }
        if let r = error.retryAfterSeconds { meta["retryAfterSeconds"] = .double(r) }
        guard case .object(var o) = CallToolResult(content: [.text(text)], isError: true).json else { return .null }
        o["_meta"] = ["mcp-broker/error": .object(meta)]
        return .object(o)
    }

    func makeNotifier(request: RPCRequest, session: Session, notify: OutboundSink?, state: NotifierState) -> ClientNotifier {
        guard let notify else { return .none }
        var progress: (@Sendable (Double, Double?, String?) async -> Void)?
        if let token = request.progressToken {
            progress = { value, total, message in
                // MCP requires strictly increasing progress, and none after the response.
                guard state.advance(to: value) else { return }
                var p: [String: JSONValue] = ["progressToken": token, "progress": .double(value)]
                if let total { p["total"] = .double(total) }
                if let message { p["message"] = .string(message) }
                await notify(RPCEncoding.notification(RPCNotification(method: "notifications/progress", params: p)))
            }
        }
        let log: @Sendable (LogLevel, String, JSONValue) async -> Void = { level, name, data in
            guard let minimum = session.logLevel, level >= minimum, state.isOpen else { return }
            await notify(
                RPCEncoding.notification(
                    RPCNotification(method: "notifications/message", params: ["level": .string(level.rawValue), "logger": .string(name), "data": data])))
        }
        return ClientNotifier(progress: progress, log: log)
    }
}

/// Per-call notification state: the last progress value, and whether the call has finished.
final class NotifierState: Sendable {
    private let state = Mutex<(last: Double, open: Bool)>((-Double.infinity, true))

    func advance(to value: Double) -> Bool {
        state.withLock { s in
            guard s.open, value > s.last else { return false }
            s.last = value
            return true
        }
    }

    var isOpen: Bool { state.withLock { $0.open } }
    func finish() { state.withLock { $0.open = false } }
}
