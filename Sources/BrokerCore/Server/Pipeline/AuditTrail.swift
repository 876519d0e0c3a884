// SPDX-License-Identifier: Apache-2.0

import Logging

/// Audit lines for requests refused before a call context exists (unknown or hidden names), and for those with one.
/// Shared by the call pipeline and the resource and prompt handlers.
struct AuditTrail: Sendable {
    /// The audit sink; `nil` when none is configured (refusals are still logged).
    let audit: AuditLog?
    let logger: Logger

    /// Logs and audits a request refused before any context existed.
    func refused(principal: Principal, method: String, target: String, rule: String, started: ContinuousClock.Instant, digest: String? = nil) {
        let correlationID = CallContext.newCorrelationID()
        logger.notice(
            "request denied",
            metadata: [
                "correlation_id": .string(correlationID), "principal": .string(principal.id), "tenant": .string(principal.tenant),
                "method": .string(method), "rule": .string(rule),
            ])
        audit?.record(
            AuditRecord(
                correlationID: correlationID, principal: principal, method: method, target: target, backend: nil, argumentsDigest: digest,
                decision: "denied", rule: rule, outcome: "not_run", durationMilliseconds: MCPServer.milliseconds(since: started)))
    }

    /// Audits a request that policy allowed (its outcome may still be an error) or refused with a context.
    func allowed(
        _ context: CallContext, method: String, target: String, backend: String, digest: String?, rule: String, outcome: String,
        started: ContinuousClock.Instant, decision: String = "allowed"
    ) {
        audit?.record(
            AuditRecord(
                correlationID: context.correlationID, principal: context.principal, method: method, target: target, backend: backend,
                argumentsDigest: digest, decision: decision, rule: rule, outcome: outcome, durationMilliseconds: MCPServer.milliseconds(since: started)))
    }
}
