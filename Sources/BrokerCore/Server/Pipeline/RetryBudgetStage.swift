// SPDX-License-Identifier: Apache-2.0

/// Counts the call in the broker-wide retry budget while it runs: retries may add only a share of the calls made.
struct RetryBudgetStage: CallStage {
    let budget: RetryBudget

    func handle(_ call: ToolCall, next: CallNext) async -> CallOutcome {
        budget.callStarted()
        defer { budget.callEnded() }
        return await next(call)
    }
}
