// SPDX-License-Identifier: Apache-2.0

import Logging
import MCPCore

/// What `tools/call` answered, with the labels its operation metric needs.
struct ToolCallReply: Sendable {
    let result: Result<MCPServer.MethodResult, RPCError>
    /// The catalogue name, or ``MetricLabels/unknownTool``.
    let toolLabel: String
    /// Empty on success; the JSON-RPC code of a protocol error, or the broker code of an `isError` result.
    let errorType: String
}

/// The `tools/call` pipeline of one configuration generation: resolution, then the stages (metrics, audit,
/// validation, policy, confirmation, tenant limits, retry budget, output check, cache), then the guarded backend
/// call. Composed once in `MCPServer.init`, so a reload swaps it as one value.
struct CallPipeline: Sendable {
    let catalog: Catalog
    let policy: Policy
    let guards: CallGuards
    let trail: AuditTrail
    let metrics: BrokerMetrics
    let tenants: TenantLabels
    let defaultTimeout: Duration
    let logger: Logger
    /// Given to every call's context, for the backends' cursors.
    let tokens: SealedTokens
    /// Each tool's logger, its `backend` and `tool` metadata set once per generation: setting them per call copied
    /// and grew the handler's metadata dictionary twice, ~18,000 instructions a call under callgrind.
    private let toolLoggers: [String: Logger]
    private let chain: CallNext

    /// - Parameter sealer: seals and opens the 2026-07-28 confirmation states of this generation.
    /// - Parameter shared: where a confirmation state is marked used across replicas (``SharedState/local``: here).
    /// - Parameter tokens: seals the cursors backends hand out in this generation.
    init(
        catalog: Catalog, settings: ServerSettings, guards: CallGuards, audit: AuditLog?, metrics: BrokerMetrics, sealer: RequestStateSealer,
        shared: SharedState = .local, tokens: SealedTokens = .process, logger: Logger
    ) {
        self.tokens = tokens
        self.catalog = catalog
        self.policy = settings.policy
        self.guards = guards
        self.trail = AuditTrail(audit: audit, logger: logger)
        self.metrics = metrics
        self.tenants = TenantLabels(settings: settings)
        self.defaultTimeout = .milliseconds(settings.defaultTimeoutMilliseconds)
        self.logger = logger
        self.toolLoggers = Dictionary(
            catalog.tools.map { tool in (tool.fullName, Self.logger(logger, backend: catalog.backends[tool.backendIndex].name, tool: tool.fullName)) },
            uniquingKeysWith: { first, _ in first })
        var stages: [any CallStage] = []
        if metrics.isEnabled { stages.append(MetricsStage(metrics: metrics)) }
        if let audit { stages.append(AuditStage(audit: audit)) }
        stages += [
            ValidationStage(), PolicyStage(policy: settings.policy), ConfirmationStage(policy: settings.policy, sealer: sealer, shared: shared, metrics: metrics),
            TenantLimitStage(guards: guards, metrics: metrics), RetryBudgetStage(budget: guards.retryBudget), OutputCheckStage(),
            CacheStage(guards: guards, policy: settings.policy, metrics: metrics),
        ]
        self.chain = Self.compose(stages, ending: BackendStage(metrics: metrics))
    }

    /// `base` with the call's backend and tool as metadata.
    static func logger(_ base: Logger, backend: String, tool: String) -> Logger {
        var log = base
        log[metadataKey: "backend"] = .string(backend)
        log[metadataKey: "tool"] = .string(tool)
        return log
    }

    /// Each stage gets the rest of the pipeline as its `next`, ending in the backend call.
    static func compose(_ stages: [any CallStage], ending: BackendStage) -> CallNext {
        var next: CallNext = { call in await ending.run(call) }
        for stage in stages.reversed() {
            let rest = next
            next = { call in await stage.handle(call, next: rest) }
        }
        return next
    }

    /// Runs one call: answers an unknown or hidden tool itself, runs the stages for any other.
    func run(
        name: String, arguments: [String: JSONValue], request: RPCRequest, session: Session, principal: Principal, notify: OutboundSink?
    ) async -> ToolCallReply {
        let started = ContinuousClock.now
        // A tool the principal may not see answers exactly like one that does not exist (the audit tells them apart).
        guard let tool = catalog.tool(named: name) else {
            trail.refused(principal: principal, method: "tools/call", target: String(name.prefix(100)), rule: "unknown-tool", started: started)
            return unknown(name, principal: principal)
        }
        let visibility = policy.visibility(of: name, for: principal)
        guard case .allow = visibility else {
            trail.refused(
                principal: principal, method: "tools/call", target: name, rule: visibility.rule, started: started,
                digest: trail.audit?.digest(.object(arguments)))
            return unknown(name, principal: principal)
        }
        let backend = catalog.backends[tool.backendIndex]
        let guarded = guards.backends[tool.backendIndex]
        let log = toolLoggers[name] ?? Self.logger(logger, backend: backend.name, tool: name)
        var timeout = defaultTimeout
        if let t = guarded.settings.timeout, t < timeout { timeout = t }
        let notifier = NotifierState()
        defer { notifier.finish() }
        var context = CallContext(
            principal: principal, correlationID: CallContext.newCorrelationID(), deadline: .now + timeout, logger: log,
            notifier: MCPServer.makeNotifier(request: request, session: session, notify: notify, state: notifier))
        context.retryBudget = guards.retryBudget
        context.tokens = tokens
        let call = ToolCall(
            name: name, arguments: arguments, tool: tool, backend: backend, guarded: guarded, visibilityRule: visibility.rule, context: context,
            session: session, request: request, notify: notify, started: started, tenantLabel: tenants(principal.tenant), timing: CallTiming())
        let outcome = await chain(call)
        return ToolCallReply(result: .success(reply(outcome, call: call)), toolLabel: name, errorType: Self.errorType(outcome))
    }

    /// The answer for a name the caller may not call; counted without the name, which is raw input.
    func unknown(_ name: String, principal: Principal) -> ToolCallReply {
        let error = MCPServer.unknownTool(name)
        metrics.recordToolCall(backend: "", tool: MetricLabels.unknownTool, tenant: tenants(principal.tenant), outcome: MetricLabels.unknownToolOutcome)
        return ToolCallReply(result: .failure(error), toolLabel: MetricLabels.unknownTool, errorType: MetricLabels.rpcCode(error))
    }

    /// The MCP result of an outcome: the output as content (relaying an encoded document as is), or an `isError`
    /// result with the code and correlation id.
    func reply(_ outcome: CallOutcome, call: ToolCall) -> MCPServer.MethodResult {
        let context = call.context
        if let asking = outcome.inputRequired {
            context.logger.info("tool call needs the client's input", metadata: ["outcome": "input_required"])
            return .value(asking)
        }
        switch outcome.result {
        case .success(let output):
            var content: [ContentBlock] = [.text(output.textForModel)]
            content.append(contentsOf: output.extraContent)
            context.logger.info("tool call", metadata: ["outcome": "ok", "duration_ms": "\(MCPServer.ms(since: call.started))"])
            if let encoded = output.encodedStructured { return .toolResult(content: content, structured: encoded) }
            return .value(CallToolResult(content: content, structuredContent: output.structured).json)
        case .failure(let error):
            if !outcome.logged {
                context.logger.notice(
                    "tool call failed", metadata: ["outcome": .string(error.code.rawValue), "duration_ms": "\(MCPServer.ms(since: call.started))"])
                // Native backend detail can be verbose or sensitive: debug level only, never to the client.
                if let detail = error.detail { context.logger.debug("tool call failure detail", metadata: ["detail": .string(detail)]) }
            }
            return .value(MCPServer.errorResult(error, correlationID: context.correlationID))
        }
    }

    static func errorType(_ outcome: CallOutcome) -> String {
        guard outcome.inputRequired == nil, case .failure(let error) = outcome.result else { return "" }
        return MetricLabels.code(error.code)
    }
}
