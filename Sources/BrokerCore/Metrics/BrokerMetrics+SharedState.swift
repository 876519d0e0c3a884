// SPDX-License-Identifier: Apache-2.0

import CoreMetrics

/// What a replica did locally because the shared store could not answer
/// (`mcp_broker_shared_state_fallbacks_total{operation}`).
public enum SharedStateOperation: String, Sendable, CaseIterable {
    /// A rate-limit decision taken by the local limiter at rate / replicas.
    case rateLimit = "rate_limit"
    /// A 2026-07-28 requestState marked used in this process's set only.
    case requestState = "request_state"
    /// A session looked up or stored in this process only.
    case session
    /// A server-to-client answer (elicitation reply) that could not be relayed through the store.
    case reply
}

extension BrokerMetrics {
    /// Counts one operation that fell back to this replica's own state because the shared store was unavailable.
    public func recordSharedStateFallback(_ operation: SharedStateOperation) {
        guard isEnabled else { return }
        sharedStateFallbacks(LabelValues(operation.rawValue)).increment()
    }

    /// The same, by name (`rate_limit`, `request_state`, `session`, `reply`): for parts that count their own
    /// fallbacks (sessions, relayed replies). Any other name counts as `_other`, so the label stays bounded.
    public func recordSharedStateFallback(_ operation: String) {
        guard isEnabled else { return }
        let label = SharedStateOperation(rawValue: operation)?.rawValue ?? MetricLabels.other
        sharedStateFallbacks(LabelValues(label)).increment()
    }

    /// With a shared store: pre-creates the fallback series at zero (alerts and dashboards see them before the first
    /// fallback) and reads `mcp_broker_shared_state_available` (1/0) from the store at scrape time, never with a round
    /// trip. Without a store nothing is exported.
    public func watchSharedState(_ shared: SharedState) {
        guard isEnabled, let store = shared.store else { return }
        for operation in SharedStateOperation.allCases { _ = sharedStateFallbacks(LabelValues(operation.rawValue)) }
        let gauge = sharedStateAvailable(LabelValues())
        onScrape("shared_state") {
            gauge.record(store.isAvailable ? 1 : 0)
            return true
        }
    }
}
