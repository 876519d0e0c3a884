// SPDX-License-Identifier: Apache-2.0

import Logging
import MCPCore
import Tracing

/// The tenant's call rate, overall and per tool (`server.limits.tenant_rate`, `tenant_tool_rate`).
struct TenantLimitStage: CallStage {
    let guards: CallGuards
    let metrics: BrokerMetrics

    func handle(_ call: ToolCall, next: CallNext) async -> CallOutcome {
        let refusal = withChildSpan("mcp_broker.rate_limit") { _ in guards.checkTenantLimits(tool: call.name, principal: call.context.principal) }
        if let (error, scope) = refusal {
            metrics.recordRateLimited(scope, tenant: call.tenantLabel)
            call.context.logger.notice("tool call refused by rate limit", metadata: ["outcome": .string(error.code.rawValue)])
            return .refused(error)
        }
        return await next(call)
    }
}
