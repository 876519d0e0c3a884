// SPDX-License-Identifier: Apache-2.0

import Logging
import MCPCore

/// Writes the audit line of a resolved call once it has ended, whatever stage answered it. Left out when no audit
/// sink is configured.
struct AuditStage: CallStage {
    let audit: AuditLog

    func handle(_ call: ToolCall, next: CallNext) async -> CallOutcome {
        let outcome = await next(call)
        let rule = outcome.deniedBy ?? (outcome.confirmed ? call.visibilityRule + "+confirmed" : call.visibilityRule)
        audit.record(
            AuditRecord(
                correlationID: call.context.correlationID, principal: call.context.principal, method: "tools/call", target: call.name,
                backend: call.backend.name, argumentsDigest: audit.digest(.object(call.arguments)),
                decision: outcome.deniedBy == nil ? "allowed" : "denied", rule: rule, outcome: outcome.auditOutcome,
                durationMilliseconds: MCPServer.milliseconds(since: call.started)))
        return outcome
    }
}
