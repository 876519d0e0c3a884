// SPDX-License-Identifier: Apache-2.0

import Logging
import MCPCore
import Tracing

/// Serves a cached tool's result from its backend's single-flight cache: a hit skips everything behind this stage,
/// and concurrent misses for the same key share one backend call. Other tools pass straight through.
struct CacheStage: CallStage {
    let guards: CallGuards
    let policy: Policy
    let metrics: BrokerMetrics

    func handle(_ call: ToolCall, next: CallNext) async -> CallOutcome {
        let principal = call.context.principal
        guard let cache = call.guarded.cache,
            let key = guards.cacheKey(
                backend: call.tool.backendIndex, tool: call.tool.definition.name, arguments: call.arguments, principal: principal,
                visibilityClass: policy.visibilityClass(of: principal))
        else { return await next(call) }
        return await withChildSpan("mcp_broker.cache") { span in
            let begun = ContinuousClock.now
            let (result, source) = await cache.lookup(for: key) { try await next(call).result.get() }
            span.set("mcp_broker.cache.result", source.rawValue)
            metrics.recordCacheLookup(backend: call.backend.name, source)
            // Waiting for another caller's load is waiting for the backend, not the broker's own time.
            if source == .joined { call.timing.addBackend(ContinuousClock.now - begun) }
            switch result {
            case .success(let output):
                let hit = source == .hit
                call.context.logger.info(hit ? "cache hit" : "cache miss", metadata: ["cache": .string(hit ? "hit" : "miss")])
                return .output(output)
            case .failure(let error as BrokerError):
                return CallOutcome(result: .failure(error))
            case .failure:
                // The only other error a lookup ends with is this caller's cancellation.
                return CallOutcome(result: .failure(.cancelled), logged: true)
            }
        }
    }
}
