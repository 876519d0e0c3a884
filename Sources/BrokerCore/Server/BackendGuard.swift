// SPDX-License-Identifier: Apache-2.0

import Logging
import MCPCore

/// What stands between the broker and one backend: its share of the backend's capacity, a bulkhead, a circuit
/// breaker and an optional result cache. Built once per backend; every call to it goes through ``run(_:context:work:)``.
final class BackendGuard: Sendable {
    let name: String
    let settings: BackendResilience
    /// The broker's share of the backend's capacity: one bucket per backend, global across replicas with a store.
    let limiter: SharedRateLimiter?
    /// Each tenant's part of the rate share (``BackendResilience/tenantShare``).
    let tenantLimiter: SharedRateLimiter?
    let bulkhead: Bulkhead
    let breaker: CircuitBreaker
    let cache: SingleFlightCache<ToolOutput>?
    /// Counts this guard's refusals and breaker transitions (its levels are read at scrape time).
    let metrics: BrokerMetrics

    /// - Parameter shared: where the capacity share and the tenants' parts of it are counted across replicas
    ///   (``SharedState/local``: in this process, as always).
    init(name: String, settings: BackendResilience, metrics: BrokerMetrics = .disabled, logger: Logger, shared: SharedState = .local) {
        self.name = name
        self.settings = settings
        self.limiter = settings.effectiveRate.map { SharedRateLimiter(limit: $0, scope: "backend", shared: shared, metrics: metrics, maxKeys: 1) }
        self.tenantLimiter = settings.tenantRate.map { SharedRateLimiter(limit: $0, scope: "backend_tenant", owner: name, shared: shared, metrics: metrics) }
        self.bulkhead = Bulkhead(
            maxConcurrent: settings.maxConcurrent, maxQueue: settings.maxQueue, maxPerTenant: settings.tenantMaxConcurrent,
            maxQueuePerTenant: settings.tenantMaxQueue, name: "The \(name) system")
        self.metrics = metrics
        self.breaker = CircuitBreaker(policy: settings.breaker) { from, to in
            // State changes are rare and matter to operators: always logged and counted.
            logger.warning("circuit breaker \(from) -> \(to)", metadata: ["backend": .string(name), "breaker": .string(to)])
            metrics.recordBreakerTransition(backend: name, to: to)
        }
        self.cache = settings.cache.map { SingleFlightCache<ToolOutput>(ttl: $0.ttl, maxEntries: $0.maxEntries) }
    }

    /// Failures that say the backend is unwell. A refused argument or a missing record says nothing about its health.
    /// A fault of the caller's own making (``BrokerError/isCallerFault``) never counts, whatever its code.
    static func countsAgainstBackend(_ error: BrokerError) -> Bool {
        !error.isCallerFault && [.backendUnavailable, .timeout, .backendError, .internal].contains(error.code)
    }

    /// Runs `work` under the backend's rate share, bulkhead and breaker, in that order: each refusal is cheap and
    /// happens before the backend is touched.
    /// - Parameter tenantLabel: the caller's tenant as a metric label (``TenantLabels``), for counted refusals.
    func run<Output: Sendable>(
        _ tool: String, context: CallContext, tenantLabel: String = MetricLabels.other, work: @escaping @Sendable () async throws -> Output
    ) async throws -> Output {
        let tenant = context.principal.tenant
        // The tenant's part first: a tenant over it is refused without using up the shared rate of the others. With a
        // shared store both are one round trip, all or none.
        var checks: [SharedRateLimiter.Check] = []
        if let tenantLimiter { checks.append(.init(tenantLimiter, tenant)) }
        if let limiter { checks.append(.init(limiter, name)) }
        if let refusal = await SharedRateLimiter.acquire(checks) {
            metrics.recordRateLimited(.backendShare, tenant: tenantLabel)
            let message = tenantLimiter != nil && refusal.bucket == 0
                ? "Your organisation is using the largest part of the \(name) system's capacity that one organisation may; try again shortly."
                : "The \(name) system is at the share of its capacity this broker may use; try again shortly."
            throw BrokerError(.rateLimited, message, retriable: true, backend: name, retryAfterSeconds: refusal.retryAfter.seconds)
        }
        let admission = breaker.admit()
        if case .rejected(let wait) = admission {
            throw BrokerError(
                .backendUnavailable, "The \(name) system is failing, so calls to it are paused for a moment; try again shortly.",
                retriable: true, backend: name, retryAfterSeconds: wait.seconds)
        }
        do {
            try await bulkhead.acquire(until: context.deadline, tenant: tenant)
        } catch {
            // The breaker admitted this call (perhaps as its probe): tell it the call never reached the backend.
            breaker.abandon()
            if error.code != .cancelled { metrics.recordBulkheadRejected(backend: name) }
            throw error
        }
        defer { bulkhead.release(tenant: tenant) }
        do {
            let output = try await Deadline.run(until: context.deadline, work)
            breaker.record(success: true)
            return output
        } catch let error as BrokerError {
            breaker.record(success: !Self.countsAgainstBackend(error))
            throw error
        } catch {
            if Task.isCancelled { breaker.abandon() } else { breaker.record(success: false) }
            throw error
        }
    }

}
