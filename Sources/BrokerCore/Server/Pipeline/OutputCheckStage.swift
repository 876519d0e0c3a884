// SPDX-License-Identifier: Apache-2.0

import Logging
import MCPCore

/// A tool that declares an output schema must return an object: anything else is the backend's bug, reported as an
/// internal error. Outside the cache, so a cached result is checked on every use, as a fresh one is.
struct OutputCheckStage: CallStage {
    func handle(_ call: ToolCall, next: CallNext) async -> CallOutcome {
        var outcome = await next(call)
        guard call.tool.definition.outputSchema != nil, case .success(let output) = outcome.result, !output.hasObjectResult else { return outcome }
        call.context.logger.error("backend returned no structured result for a tool with an output schema")
        outcome.result = .failure(BrokerError(.internal, "The tool produced an invalid result."))
        outcome.logged = true
        return outcome
    }
}
