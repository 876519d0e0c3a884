// SPDX-License-Identifier: Apache-2.0

import Logging
import MCPCore
import Tracing

/// The tenant's call rate, overall and per tool (`server.limits.tenant_rate`, `tenant_tool_rate`), across replicas
/// when a shared store is configured.
struct TenantLimitStage: CallStage {
    let guards: CallGuards
    let metrics: BrokerMetrics

    func handle(_ call: ToolCall, next: CallNext) async -> CallOutcome {
        // With a shared store this span covers the store's round trips (one per configured limit).
        let refusal = await withChildSpan("mcp_broker.rate_limit") { _ in await guards.checkTenantLimits(tool: call.name, principal: call.context.principal) }
        if let (error, scope) = refusal {
            metrics.recordRateLimited(scope, tenant: call.tenantLabel)
            call.context.logger.notice("tool call refused by rate limit", metadata: ["outcome": .string(error.code.rawValue)])
            return .refused(error)
        }
        return await next(call)
    }
}
