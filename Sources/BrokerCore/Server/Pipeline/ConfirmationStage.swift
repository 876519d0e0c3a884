// SPDX-License-Identifier: Apache-2.0

import Logging
import MCPCore

/// Asks the user to approve a tool marked `confirm: true` before anything else may use capacity: through an
/// `elicitation/create` request on a handshake-era session, through MRTR (``ModernConfirmation``) for 2026-07-28.
struct ConfirmationStage: CallStage {
    let policy: Policy
    let sealer: RequestStateSealer
    /// With a store, a state is single-use across replicas (``RequestStateSealer/open(_:for:store:metrics:)``).
    let shared: SharedState
    let metrics: BrokerMetrics

    func handle(_ call: ToolCall, next: CallNext) async -> CallOutcome {
        guard policy.tools[call.name]?.confirm == true else { return await next(call) }
        if call.session.isModern { return await modern(call, next: next) }
        if let refusal = await MCPServer.confirm(call.tool, arguments: call.arguments, session: call.session, send: call.notify, context: call.context) {
            call.context.logger.notice("tool call not confirmed", metadata: ["outcome": .string(refusal.code.rawValue)])
            // A client that cannot ask is a denial; a user who declined (or did not answer) is an allowed call that did not run.
            return .refused(refusal, deniedBy: refusal.code == .forbidden ? "confirm-unsupported" : nil)
        }
        return await approved(call, next: next)
    }

    private func modern(_ call: ToolCall, next: CallNext) async -> CallOutcome {
        switch await ModernConfirmation.step(call, sealer: sealer, store: shared.store, metrics: metrics) {
        case .ask(let result): return .asking(result)
        case .approved: return await approved(call, next: next)
        case .refused(let error, let rule):
            call.context.logger.notice("tool call not confirmed", metadata: ["outcome": .string(error.code.rawValue), "rule": .string(rule ?? "declined")])
            return .refused(error, deniedBy: rule)
        }
    }

    private func approved(_ call: ToolCall, next: CallNext) async -> CallOutcome {
        var outcome = await next(call)
        outcome.confirmed = true
        return outcome
    }
}
