// SPDX-License-Identifier: Apache-2.0

import Logging
import MCPCore
import Tracing

/// Applies the policy's argument rules (the tool itself is already visible to the caller).
struct PolicyStage: CallStage {
    let policy: Policy

    func handle(_ call: ToolCall, next: CallNext) async -> CallOutcome {
        let decision = withChildSpan("mcp_broker.policy") { _ in
            policy.checkArguments(tool: call.name, principal: call.context.principal, arguments: call.arguments)
        }
        if case .deny(let rule, let message)? = decision {
            call.context.logger.notice("tool call denied by policy", metadata: ["rule": .string(rule)])
            return .refused(BrokerError(.forbidden, "Not allowed by policy \(rule): \(message)"), deniedBy: rule)
        }
        return await next(call)
    }
}
