// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import SharedStateTestSupport
import Foundation
import Logging
import MCPCore
import Synchronization
import XCTest

/// Limits across replicas: several MCP servers (replicas) sharing one in-memory store enforce one bucket per key;
/// with the store down each enforces its part locally and counts the fallback; when it returns they share again.
/// No test sleeps: the store's clock is advanced by hand, and local fallbacks use limits that refill once a minute.
final class SharedLimitsTests: XCTestCase {
    let acme = Principal(id: "u1", tenant: "acme"), globex = Principal(id: "u2", tenant: "globex")
    /// Refills one token a minute: within a test only the burst counts.
    let slow = RateLimit(ratePerSecond: 1.0 / 60, burst: 10)

    func replica(
        limits: ServerLimits = ServerLimits(), resilience: BackendResilience = BackendResilience(), _ shared: SharedState,
        metrics: BrokerMetrics = .disabled
    ) throws -> (MCPServer, TestBackend) {
        try makeGuardedServer(limits: limits, resilience: resilience, label: "shared-limits", shared: shared, metrics: metrics)
    }

    func tenantTool(_ limit: RateLimit) -> ServerLimits {
        var limits = ServerLimits()
        limits.tenantToolRate = limit
        return limits
    }

    /// One `tools/call` on a fresh session; `nil` when it ran, else its error code.
    func call(_ server: MCPServer, _ p: Principal, _ tool: String = "a__echo") async throws -> String? {
        let s = Session(id: nil, ownerID: p.bindingKey)
        _ = await server.dispatch(RPCRequest(id: .int(0), method: "initialize", params: ["protocolVersion": "2025-11-25"]), session: s, principal: p, notify: nil)
        let r = try await server.dispatch(
            RPCRequest(id: .int(1), method: "tools/call", params: ["name": .string(tool), "arguments": ["text": "x"]]), session: s, principal: p, notify: nil
        ).get()
        return r["_meta"]?["mcp-broker/error"]?["code"]?.stringValue
    }

    /// Calls alternately on `servers`, `count` times; how many ran.
    func allowed(_ servers: [MCPServer], _ p: Principal, count: Int) async throws -> Int {
        var ran = 0
        for i in 0..<count {
            let code = try await call(servers[i % servers.count], p)
            if code == nil { ran += 1 } else { XCTAssertEqual(code, "rate_limited") }
        }
        return ran
    }

    func calls(_ backends: TestBackend...) -> Int { backends.map { $0.calls.withLock { $0 } }.reduce(0, +) }

    // MARK: one bucket for all replicas

    /// The tenant and tenant × tool limits of a call are one store round trip, all or none: a call the tool limit
    /// refuses does not use up the tenant's budget.
    func testTenantAndToolLimitsAreOneRoundTripAllOrNone() async throws {
        let store = MemorySharedStore()
        var limits = tenantTool(RateLimit(ratePerSecond: 1.0 / 60, burst: 2))
        limits.tenantRate = RateLimit(ratePerSecond: 1.0 / 60, burst: 3)
        let (a, backend) = try replica(limits: limits, SharedState(store: store, replicas: .fixed(2)))
        let before = store.attempts
        let first = try await call(a, acme)
        XCTAssertNil(first)
        XCTAssertEqual(store.attempts - before, 1, "one round trip for both limits")
        XCTAssertEqual(Array(store.keysSeen.suffix(2)).map { $0.hasPrefix("rl:tenant:") || $0.hasPrefix("rl:tenant_tool:") }, [true, true])
        let second = try await call(a, acme)
        let refused = try await call(a, acme)
        XCTAssertNil(second)
        XCTAssertEqual(refused, "rate_limited", "the tool's burst of 2 is spent")
        // The tenant's third token was not taken by the refused call: another tool still runs once.
        let other = try await call(a, acme, "a__slow")
        XCTAssertNil(other)
        XCTAssertEqual(calls(backend), 3)
    }

    func testTwoReplicasTogetherAllowExactlyBurstPlusRateForTenantAndTool() async throws {
        let store = MemorySharedStore()
        let shared = SharedState(store: store, replicas: .fixed(2))
        let limits = tenantTool(RateLimit(ratePerSecond: 10, burst: 20))
        let (a, backendA) = try replica(limits: limits, shared)
        let (b, backendB) = try replica(limits: limits, shared)

        let burst = try await allowed([a, b], acme, count: 40)
        XCTAssertEqual(burst, 20, "the burst is the deployment's, not each replica's")
        store.advance(.seconds(1))
        let refilled = try await allowed([a, b], acme, count: 40)
        XCTAssertEqual(refilled, 10, "10/s for one second of the store's clock")
        XCTAssertEqual(calls(backendA, backendB), 30, "burst + rate × t reached the backends")
        XCTAssertEqual(calls(backendA), 15, "both replicas served their half")
        XCTAssertEqual(store.attempts, 80, "one round trip per call")
        XCTAssertTrue(store.keysSeen.allSatisfy { $0 == "rl:tenant_tool:4:acme7:a__echo" }, "\(Set(store.keysSeen))")
        // Another tenant has its own bucket.
        let other = try await allowed([a, b], globex, count: 4)
        XCTAssertEqual(other, 4)

        // The same two replicas without a store: each has its own burst, so together they let twice as much through.
        let (c, _) = try replica(limits: limits, .local)
        let (d, _) = try replica(limits: limits, .local)
        let unshared = try await allowed([c, d], acme, count: 40)
        XCTAssertEqual(unshared, 40)
    }

    func testTheCapacityShareIsOneBucketPerBackendAcrossReplicas() async throws {
        let store = MemorySharedStore()
        let shared = SharedState(store: store, replicas: .fixed(2))
        var r = BackendResilience()
        r.capacity = RateLimit(ratePerSecond: 1.0 / 60, burst: 4)
        r.tenantShare = 0.5  // a tenant may take 2 of the 4
        let (a, backendA) = try replica(resilience: r, shared)
        let (b, backendB) = try replica(resilience: r, shared)

        let acmeRan = try await allowed([a, b], acme, count: 4)
        XCTAssertEqual(acmeRan, 2, "one tenant's part of the share, across both replicas")
        let globexRan = try await allowed([b, a], globex, count: 4)
        XCTAssertEqual(globexRan, 2)
        let third = try await call(a, Principal(id: "u3", tenant: "initech"))
        XCTAssertEqual(third, "rate_limited", "the backend's share is used up for every tenant on every replica")
        XCTAssertEqual(calls(backendA, backendB), 4)
        let keys = Set(store.keysSeen)
        XCTAssertTrue(keys.contains("rl:backend:1:a"), "\(keys)")
        XCTAssertTrue(keys.contains("rl:backend_tenant:1:a4:acme"), "\(keys)")

        // Without a store each replica would have its own share: four acme calls run on two replicas.
        let (c, _) = try replica(resilience: r, .local)
        let (d, _) = try replica(resilience: r, .local)
        let unshared = try await allowed([c, d], acme, count: 4)
        XCTAssertEqual(unshared, 4)
    }

    // MARK: degrade and recover

    func testStoreDownEachReplicaAllowsItsPartLocallyAndCountsFallbacks() async throws {
        let store = DownSharedStore()
        let fixture = MetricsFixture()
        let shared = SharedState(store: store, replicas: .fixed(2))
        let (a, _) = try replica(limits: tenantTool(slow), shared, metrics: fixture.metrics)
        let (b, _) = try replica(limits: tenantTool(slow), shared, metrics: fixture.metrics)

        let onA = try await allowed([a], acme, count: 10)
        let onB = try await allowed([b], acme, count: 10)
        XCTAssertEqual(onA, 5, "burst 10 over 2 replicas")
        XCTAssertEqual(onB, 5)
        XCTAssertEqual(store.attempts.load(ordering: .relaxed), 0, "an unavailable store is not asked")
        XCTAssertEqual(fixture.value(#"mcp_broker_shared_state_fallbacks_total{operation="rate_limit"}"#), 20)
        XCTAssertEqual(fixture.value("mcp_broker_shared_state_available"), 0)

        let readiness = await Broker(server: a, logger: Logger(label: "shared-limits")).readiness()
        XCTAssertEqual(readiness.sharedState, "degraded: shared state unavailable")
        XCTAssertEqual(readiness.status, "degraded", "calls still work: degraded, not unavailable (200, not 503)")
        XCTAssertEqual(readiness.json["sharedState"], "degraded: shared state unavailable")
    }

    func testAStoreThatFailsWhileMarkedAvailableIsAlsoDecidedLocally() async throws {
        let store = MemorySharedStore()
        store.flaky()
        let fixture = MetricsFixture()
        let (a, _) = try replica(limits: tenantTool(slow), SharedState(store: store, replicas: .fixed(5)), metrics: fixture.metrics)
        let ran = try await allowed([a], acme, count: 4)
        XCTAssertEqual(ran, 2, "burst 10 over 5 replicas")
        XCTAssertEqual(store.attempts, 4, "tried once per call, never retried")
        XCTAssertEqual(fixture.value(#"mcp_broker_shared_state_fallbacks_total{operation="rate_limit"}"#), 4)
        XCTAssertEqual(fixture.value("mcp_broker_shared_state_available"), 1, "the store still claims to be available")
    }

    func testWhenTheStoreReturnsReplicasShareAgain() async throws {
        let store = MemorySharedStore()
        let fixture = MetricsFixture()
        let shared = SharedState(store: store, replicas: .fixed(2))
        let (a, _) = try replica(limits: tenantTool(slow), shared, metrics: fixture.metrics)
        let (b, _) = try replica(limits: tenantTool(slow), shared, metrics: fixture.metrics)
        let broker = Broker(server: a, logger: Logger(label: "shared-limits"))

        store.down()
        let degraded = try await allowed([a], acme, count: 6)
        XCTAssertEqual(degraded, 5)
        let whileDown = await broker.readiness()
        XCTAssertEqual(whileDown.sharedState, Readiness.sharedStateDegraded)
        let fallbacks = #"mcp_broker_shared_state_fallbacks_total{operation="rate_limit"}"#
        XCTAssertEqual(fixture.value(fallbacks), 6)

        store.up()
        let shared2 = try await allowed([a, b], acme, count: 14)
        XCTAssertEqual(shared2, 10, "the store's bucket again: the whole burst, once, for both replicas")
        XCTAssertEqual(fixture.value(fallbacks), 6, "no fallback once the store answers")
        XCTAssertEqual(fixture.value("mcp_broker_shared_state_available"), 1)
        let back = await broker.readiness()
        XCTAssertEqual(back.sharedState, "ok")
        XCTAssertEqual(back.status, "ready")
    }

    // MARK: the limiter itself

    func testStoreKeysAreUnambiguousAndBounded() async {
        let store = MemorySharedStore()
        let limiter = SharedRateLimiter(limit: RateLimit(ratePerSecond: 1.0 / 60, burst: 1), scope: "tenant_tool", shared: SharedState(store: store, replicas: .fixed(1)))
        let first = await limiter.acquire("a:b", "c")
        let second = await limiter.acquire("a", "b:c")
        XCTAssertEqual(first, .allowed)
        XCTAssertEqual(second, .allowed, "a ':' in a name cannot make two tenants share a bucket")
        let again = await limiter.acquire("a:b", "c")
        guard case .limited = again else { return XCTFail("the same pair has one bucket: \(again)") }
        XCTAssertEqual(Array(store.keysSeen.prefix(2)), ["rl:tenant_tool:3:a:b1:c", "rl:tenant_tool:1:a3:b:c"])

        let long = String(repeating: "x", count: 10_000)
        _ = await limiter.acquire(long + "1", "t")
        _ = await limiter.acquire(long + "2", "t")
        let seen = store.keysSeen
        guard seen.count == 5 else { return XCTFail("one round trip per decision: \(seen.count)") }
        let (k1, k2) = (seen[3], seen[4])
        XCTAssertNotEqual(k1, k2)
        XCTAssertLessThan(k1.utf8.count, 100, "a long name is hashed: \(k1)")
        XCTAssertTrue(k1.hasPrefix("rl:tenant_tool:#"), k1)
    }

    func testWithoutAStoreTheLimiterIsTheLocalOne() async {
        let t0 = ContinuousClock.now
        let limit = RateLimit(ratePerSecond: 10, burst: 3)
        let limiter = SharedRateLimiter(limit: limit, scope: "tenant")
        XCTAssertEqual(limiter.localLimit, limit, "a broker on its own enforces the whole limit")
        var decisions: [RateDecision] = []
        for _ in 0..<4 { decisions.append(await limiter.acquire("acme", now: t0)) }
        XCTAssertEqual(decisions, [.allowed, .allowed, .allowed, .limited(retryAfter: .milliseconds(100))])
        let later = await limiter.acquire("acme", now: t0 + .milliseconds(100))
        XCTAssertEqual(later, .allowed)
        XCTAssertEqual(limiter.localKeyCount, 1)
    }

    func testEachReplicasPartOfALimit() {
        XCTAssertEqual(SharedRateLimiter.part(of: RateLimit(ratePerSecond: 10, burst: 20), replicas: 1), RateLimit(ratePerSecond: 10, burst: 20))
        XCTAssertEqual(SharedRateLimiter.part(of: RateLimit(ratePerSecond: 10, burst: 20), replicas: 4), RateLimit(ratePerSecond: 2.5, burst: 5))
        XCTAssertEqual(SharedRateLimiter.part(of: RateLimit(ratePerSecond: 10, burst: 20), replicas: 3).burst, 6, "rounded down")
        XCTAssertEqual(SharedRateLimiter.part(of: RateLimit(ratePerSecond: 1, burst: 2), replicas: 10).burst, 1, "at least one")
        let shared = SharedState(store: DownSharedStore(), replicas: .fixed(4))
        XCTAssertEqual(SharedRateLimiter(limit: RateLimit(ratePerSecond: 8, burst: 8), scope: "tenant", shared: shared).localLimit, RateLimit(ratePerSecond: 2, burst: 2))
    }

    // MARK: metrics and readiness without a store

    func testNoStoreExportsNoSharedStateSeriesAndReadinessHasNoField() async throws {
        let fixture = MetricsFixture()
        let (a, _) = try replica(limits: tenantTool(slow), .local, metrics: fixture.metrics)
        _ = try await call(a, acme)
        XCTAssertFalse(fixture.scrape().keys.contains { $0.hasPrefix("mcp_broker_shared_state") })
        let readiness = await Broker(server: a, logger: Logger(label: "shared-limits")).readiness()
        XCTAssertNil(readiness.sharedState)
        XCTAssertNil(readiness.json["sharedState"])
        XCTAssertEqual(readiness.status, "ready")
    }

    func testFallbackSeriesArePreparedAndTheNamedAPICountsBoundedLabels() throws {
        let fixture = MetricsFixture()
        _ = try replica(SharedState(store: MemorySharedStore(), replicas: .fixed(2)), metrics: fixture.metrics)
        for operation in ["rate_limit", "request_state", "session", "reply"] {
            XCTAssertEqual(fixture.value("mcp_broker_shared_state_fallbacks_total{operation=\"\(operation)\"}"), 0, operation)
        }
        XCTAssertEqual(fixture.value("mcp_broker_shared_state_available"), 1)
        fixture.metrics.recordSharedStateFallback("session")
        fixture.metrics.recordSharedStateFallback("reply")
        fixture.metrics.recordSharedStateFallback("reply")
        fixture.metrics.recordSharedStateFallback("session-id-from-a-request")
        XCTAssertEqual(fixture.value(#"mcp_broker_shared_state_fallbacks_total{operation="session"}"#), 1)
        XCTAssertEqual(fixture.value(#"mcp_broker_shared_state_fallbacks_total{operation="reply"}"#), 2)
        XCTAssertEqual(fixture.value(#"mcp_broker_shared_state_fallbacks_total{operation="_other"}"#), 1)
    }

    func testReadinessBodyNamesTheSharedState() {
        var r = Readiness(backends: [("a", .ok)])
        XCTAssertEqual(r.status, "ready")
        XCTAssertNil(r.json["sharedState"])
        r.sharedState = Readiness.sharedStateOK
        XCTAssertEqual(r.status, "ready")
        XCTAssertEqual(r.json["sharedState"], "ok")
        r.sharedState = Readiness.sharedStateDegraded
        XCTAssertEqual(r.status, "degraded")
        XCTAssertEqual(r.json["sharedState"], "degraded: shared state unavailable")
    }
}
