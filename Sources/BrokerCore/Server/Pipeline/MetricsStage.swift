// SPDX-License-Identifier: Apache-2.0

/// Counts every resolved call by backend, tool, tenant and outcome, and records the broker's own time (total less
/// backend). Outermost, so refusals of every later stage are counted too. Left out when metrics are off.
struct MetricsStage: CallStage {
    let metrics: BrokerMetrics

    func handle(_ call: ToolCall, next: CallNext) async -> CallOutcome {
        let outcome = await next(call)
        let total = ContinuousClock.now - call.started
        let outcomeLabel: String =
            switch outcome.result {
            case _ where outcome.inputRequired != nil: "input_required"
            case .success: "ok"
            case .failure(let e): MetricLabels.code(e.code)
            }
        metrics.recordToolCall(backend: call.backend.name, tool: call.name, tenant: call.tenantLabel, outcome: outcomeLabel)
        metrics.recordOverhead(backend: call.backend.name, total - call.timing.backend)
        return outcome
    }
}
