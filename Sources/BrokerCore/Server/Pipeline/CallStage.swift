// SPDX-License-Identifier: Apache-2.0

import Logging
import MCPCore
import Synchronization

/// The rest of the pipeline behind a stage.
typealias CallNext = @Sendable (ToolCall) async -> CallOutcome

/// One step of a `tools/call`, with one job (validate, check policy, limit, cache, …). Composed once per
/// configuration generation into a ``CallPipeline``, the way Hummingbird composes middleware: a stage gets the call
/// and the rest of the pipeline, and either answers itself (a refusal: nothing behind it runs) or calls `next` and
/// may look at, or change, what comes back.
protocol CallStage: Sendable {
    func handle(_ call: ToolCall, next: CallNext) async -> CallOutcome
}

/// A resolved tool call on its way through the stages: the catalogue entry, its backend and guard, and the context
/// the backend will get. Unknown and hidden tools never become one (``CallPipeline`` answers them itself).
///
/// A class: every stage hands it on through an async `next`, and a struct of this many references would be
/// copied, with a retain and release per field, at each hop.
final class ToolCall: Sendable {
    /// The namespaced tool name (`hr__get_employee`).
    let name: String
    let arguments: [String: JSONValue]
    let tool: CatalogTool
    let backend: any Backend
    let guarded: BackendGuard
    /// The policy rule that made the tool visible (the audit's `rule`).
    let visibilityRule: String
    /// Identity, correlation id, deadline, logger and notifier for the backend.
    let context: CallContext
    let session: Session
    /// The request as sent (a 2026-07-28 retry carries `inputResponses` and `requestState` beside the arguments).
    let request: RPCRequest
    let notify: OutboundSink?
    let started: ContinuousClock.Instant
    /// The caller's tenant as a metric label (``TenantLabels``).
    let tenantLabel: String
    /// Time spent in the backend, for the broker's own overhead.
    let timing: CallTiming

    init(
        name: String, arguments: [String: JSONValue], tool: CatalogTool, backend: any Backend, guarded: BackendGuard, visibilityRule: String,
        context: CallContext, session: Session, request: RPCRequest, notify: OutboundSink?, started: ContinuousClock.Instant, tenantLabel: String,
        timing: CallTiming
    ) {
        self.name = name
        self.arguments = arguments
        self.tool = tool
        self.backend = backend
        self.guarded = guarded
        self.visibilityRule = visibilityRule
        self.context = context
        self.session = session
        self.request = request
        self.notify = notify
        self.started = started
        self.tenantLabel = tenantLabel
        self.timing = timing
    }
}

/// How a call ended, as it travels back out through the stages.
struct CallOutcome: Sendable {
    /// The backend's output, or the error the client gets as an `isError` result.
    var result: Result<ToolOutput, BrokerError>
    /// Whether the stage that produced the error logged it already (refusals do; backend errors are logged once, at the end).
    var logged = false
    /// The rule that denied the call (policy, or a confirmation the client cannot give): the audit says `denied`.
    var deniedBy: String?
    /// Whether the user confirmed the call (the audit's rule gets `+confirmed`).
    var confirmed = false
    /// A 2026-07-28 `input_required` result: the call waits for the client's answer and did not run (`result` is
    /// then a placeholder nobody reads).
    var inputRequired: JSONValue?

    static func output(_ output: ToolOutput) -> CallOutcome { CallOutcome(result: .success(output)) }

    /// A refusal the refusing stage has logged.
    static func refused(_ error: BrokerError, deniedBy: String? = nil) -> CallOutcome {
        CallOutcome(result: .failure(error), logged: true, deniedBy: deniedBy)
    }

    /// The call asks the client for input (MRTR round 1) instead of running.
    static func asking(_ result: JSONValue) -> CallOutcome {
        CallOutcome(result: .failure(BrokerError(.declined, "waiting for the client's answer")), logged: true, inputRequired: result)
    }

    /// `ok`, `input_required`, or the error code.
    var code: String {
        if inputRequired != nil { return "input_required" }
        switch result {
        case .success: return "ok"
        case .failure(let e): return e.code.rawValue
        }
    }

    /// The audit's outcome: `not_run` for a denial, else ``code``.
    var auditOutcome: String { deniedBy == nil ? code : "not_run" }
}

/// A call's time inside the backend, added up by the stages that wait for it (backend call, joined cache load).
final class CallTiming: Sendable {
    private let backendNanoseconds = Atomic<Int64>(0)

    init() {}

    func addBackend(_ duration: Duration) { backendNanoseconds.wrappingAdd(duration.nanoseconds, ordering: .relaxed) }

    var backend: Duration { .nanoseconds(backendNanoseconds.load(ordering: .relaxed)) }
}
