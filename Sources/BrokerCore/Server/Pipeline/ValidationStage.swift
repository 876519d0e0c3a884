// SPDX-License-Identifier: Apache-2.0

import Logging
import MCPCore

/// Checks the arguments against the tool's input schema: a backend only ever sees well-typed input.
struct ValidationStage: CallStage {
    func handle(_ call: ToolCall, next: CallNext) async -> CallOutcome {
        let violations = call.tool.inputValidator.validate(.object(call.arguments))
        guard violations.isEmpty else {
            let detail = violations.prefix(5).map(\.description).joined(separator: "; ")
            call.context.logger.info("tool call refused", metadata: ["outcome": "invalid_arguments"])
            return .refused(.invalidArguments("Invalid arguments for \(call.name): \(detail)."))
        }
        return await next(call)
    }
}
