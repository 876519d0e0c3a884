// SPDX-License-Identifier: Apache-2.0

import Logging
import MCPCore

/// The broker's protections around tool calls: per-tenant and per-tenant-and-tool rate limits, the retry
/// budget, and one ``BackendGuard`` per backend (capacity share, bulkhead, breaker, cache).
final class CallGuards: Sendable {
    let tenantLimiter: SharedRateLimiter?
    let tenantToolLimiter: SharedRateLimiter?
    let retryBudget: RetryBudget
    let backends: [BackendGuard]

    /// - Parameters:
    ///   - adopting: guards of a previous generation, by backend name, to keep instead of building new ones
    ///     (a reload with that backend's section unchanged keeps its breaker state, bulkhead and cache).
    ///   - previous: the guards being replaced on a reload: a tenant limiter whose limit is unchanged is kept, so a
    ///     reload never hands every tenant a fresh burst.
    ///   - shared: the store the tenant and backend limits are enforced in across replicas (``SharedState/local``: this
    ///     process alone, as always).
    init(
        limits: ServerLimits, backends: [(name: String, settings: BackendResilience)], metrics: BrokerMetrics = .disabled, logger: Logger,
        adopting: [String: BackendGuard] = [:], previous: CallGuards? = nil, shared: SharedState = .local
    ) {
        tenantLimiter = Self.limiter(limits.tenantRate, scope: "tenant", keeping: previous?.tenantLimiter, shared: shared, metrics: metrics)
        tenantToolLimiter = Self.limiter(limits.tenantToolRate, scope: "tenant_tool", keeping: previous?.tenantToolLimiter, shared: shared, metrics: metrics)
        retryBudget = RetryBudget(ratio: limits.retryBudgetRatio)
        self.backends = backends.map {
            adopting[$0.name] ?? BackendGuard(name: $0.name, settings: $0.settings, metrics: metrics, logger: logger, shared: shared)
        }
    }

    static func limiter(
        _ limit: RateLimit?, scope: String, keeping old: SharedRateLimiter?, shared: SharedState, metrics: BrokerMetrics
    ) -> SharedRateLimiter? {
        guard let limit else { return nil }
        if let old, old.enforces(limit, over: shared) { return old }
        return SharedRateLimiter(limit: limit, scope: scope, shared: shared, metrics: metrics)
    }

    /// Refuses a call that exceeds its tenant's limits, with the wait the model should observe and the limit's scope.
    ///
    /// With a shared store both limits are one round trip together (all or none, bounded by the store's timeout; a
    /// failed one is decided locally), so the limits hold across replicas.
    func checkTenantLimits(tool: String, principal: Principal) async -> (error: BrokerError, scope: RateLimitScope)? {
        var checks: [SharedRateLimiter.Check] = []
        var scopes: [RateLimitScope] = []
        if let tenantLimiter {
            checks.append(.init(tenantLimiter, principal.tenant))
            scopes.append(.tenant)
        }
        if let tenantToolLimiter {
            checks.append(.init(tenantToolLimiter, principal.tenant, tool))
            scopes.append(.tenantTool)
        }
        guard let refusal = await SharedRateLimiter.acquire(checks), scopes.indices.contains(refusal.bucket) else { return nil }
        let scope = scopes[refusal.bucket]
        let message = scope == .tenant
            ? "Your organisation is making calls faster than its limit allows; wait a moment and try again."
            : "\(tool) is being called faster than your organisation's limit for it; wait a moment and try again."
        return (BrokerError(.rateLimited, message, retriable: true, retryAfterSeconds: refusal.retryAfter.seconds), scope)
    }

    /// The cache key of a call, or `nil` when the tool's results are not cached. Tenant and principal class are
    /// part of the key, so one tenant's (or role's) entry is never served to another.
    func cacheKey(backend: Int, tool: String, arguments: [String: JSONValue], principal: Principal, visibilityClass: String) -> String? {
        guard let settings = backends[backend].settings.cache, settings.tools.contains(tool) else { return nil }
        let who = settings.shareWithinRole ? visibilityClass + "\u{1F}" + principal.attributes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",") : principal.bindingKey
        return principal.tenant + "\u{1E}" + who + "\u{1E}" + tool + "\u{1E}" + JSONValue.object(arguments).jsonText
    }

    /// The guard of the backend called `name`.
    func backend(named name: String) -> BackendGuard? { backends.first { $0.name == name } }

    /// Breaker state per backend, for `/readyz`.
    var breakerStates: [String: String] {
        Dictionary(uniqueKeysWithValues: backends.map { ($0.name, $0.breaker.stateName) })
    }
}
