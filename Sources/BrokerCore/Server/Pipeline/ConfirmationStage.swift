// SPDX-License-Identifier: Apache-2.0

import Logging
import MCPCore

/// Asks the user to approve a tool marked `confirm: true` (MCP elicitation) before anything else may use capacity.
struct ConfirmationStage: CallStage {
    let policy: Policy

    func handle(_ call: ToolCall, next: CallNext) async -> CallOutcome {
        guard policy.tools[call.name]?.confirm == true else { return await next(call) }
        if let refusal = await MCPServer.confirm(call.tool, arguments: call.arguments, session: call.session, send: call.notify, context: call.context) {
            call.context.logger.notice("tool call not confirmed", metadata: ["outcome": .string(refusal.code.rawValue)])
            // A client that cannot ask is a denial; a user who declined (or did not answer) is an allowed call that did not run.
            return .refused(refusal, deniedBy: refusal.code == .forbidden ? "confirm-unsupported" : nil)
        }
        var outcome = await next(call)
        outcome.confirmed = true
        return outcome
    }
}
