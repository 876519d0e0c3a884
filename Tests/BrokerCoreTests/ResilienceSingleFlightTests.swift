// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import XCTest

/// The single-flight cache: one load for many concurrent callers, per-key flights, TTL on injected instants, the
/// size bound, failures not cached, and cancellation of waiters and of the loading caller.
final class ResilienceSingleFlightTests: XCTestCase {
    struct LoadFailed: Error, Equatable {}

    let t0 = ContinuousClock.now

    func testConcurrentCallersShareOneLoad() async throws {
        let cache = SingleFlightCache<Int>(ttl: .seconds(60), maxEntries: 10)
        let gate = ResilienceGate()
        let loads = ResilienceLocked(0)
        let now = t0
        let results = try await withThrowingTaskGroup(of: (value: Int, hit: Bool).self) { group in
            for _ in 0..<100 {
                group.addTask {
                    try await cache.value(for: "tools", now: now) {
                        loads.withLock { $0 += 1 }
                        await gate.wait()
                        return 42
                    }
                }
            }
            // Every caller is inside (loading or waiting) before the load may finish: nobody gets a cache hit.
            let allIn = await resilienceEventually { cache.misses == 100 }
            XCTAssertTrue(allIn, "misses \(cache.misses)")
            gate.open()
            return try await group.reduce(into: []) { $0.append($1) }
        }
        XCTAssertEqual(results.count, 100)
        XCTAssertTrue(results.allSatisfy { $0.value == 42 && !$0.hit })
        XCTAssertEqual(loads.withLock { $0 }, 1)
        XCTAssertEqual(cache.loads, 1)
        XCTAssertEqual(cache.hits, 0)
        let again = try await cache.value(for: "tools", now: now) { 0 }
        XCTAssertEqual(again.value, 42)
        XCTAssertTrue(again.hit)
    }

    func testDifferentKeysDoNotShare() async throws {
        let cache = SingleFlightCache<String>(ttl: .seconds(60), maxEntries: 10)
        let gate = ResilienceGate()
        let now = t0
        async let a = cache.value(for: "a", now: now) { await gate.wait(); return "A" }
        async let b = cache.value(for: "b", now: now) { await gate.wait(); return "B" }
        let bothLoading = await resilienceEventually { cache.loads == 2 }
        XCTAssertTrue(bothLoading)
        gate.open()
        let (ra, rb) = try await (a, b)
        XCTAssertEqual(ra.value, "A")
        XCTAssertEqual(rb.value, "B")
    }

    func testEntriesExpireAfterTheTTL() async throws {
        let cache = SingleFlightCache<Int>(ttl: .seconds(10), maxEntries: 10)
        let counter = ResilienceLocked(0)
        let load: @Sendable () async throws -> Int = { counter.withLock { $0 += 1; return $0 } }
        let first = try await cache.value(for: "k", now: t0, load: load)
        let cached = try await cache.value(for: "k", now: t0 + .milliseconds(9999), load: load)
        let reloaded = try await cache.value(for: "k", now: t0 + .seconds(10), load: load)
        XCTAssertEqual(first.value, 1)
        XCTAssertFalse(first.hit)
        XCTAssertEqual(cached.value, 1)
        XCTAssertTrue(cached.hit)
        XCTAssertEqual(reloaded.value, 2)
        XCTAssertFalse(reloaded.hit)
        XCTAssertEqual(cache.loads, 2)
    }

    func testMaxEntriesEvictsTheOldest() async throws {
        let cache = SingleFlightCache<Int>(ttl: .seconds(60), maxEntries: 3)
        for i in 0..<5 { _ = try await cache.value(for: "k\(i)", now: t0 + .milliseconds(i)) { i } }
        XCTAssertEqual(cache.count, 3)
        let later = t0 + .milliseconds(10)
        let newest = try await cache.value(for: "k4", now: later) { -1 }
        XCTAssertEqual(newest.value, 4)
        XCTAssertTrue(newest.hit)
        let oldest = try await cache.value(for: "k0", now: later) { -1 }
        XCTAssertEqual(oldest.value, -1)
        XCTAssertFalse(oldest.hit)
        XCTAssertEqual(cache.count, 3)
        XCTAssertEqual(cache.loads, 6)
    }

    func testAFailedLoadReachesEveryWaiterAndIsNotCached() async throws {
        let cache = SingleFlightCache<Int>(ttl: .seconds(60), maxEntries: 10)
        let gate = ResilienceGate()
        let now = t0
        let failures = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<10 {
                group.addTask {
                    do {
                        _ = try await cache.value(for: "k", now: now) {
                            await gate.wait()
                            throw LoadFailed()
                        }
                        return false
                    } catch { return error is LoadFailed }
                }
            }
            let allIn = await resilienceEventually { cache.misses == 10 }
            XCTAssertTrue(allIn)
            gate.open()
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        XCTAssertEqual(failures, 10)
        XCTAssertEqual(cache.loads, 1)
        XCTAssertEqual(cache.count, 0)
        let next = try await cache.value(for: "k", now: now) { 7 }
        XCTAssertEqual(next.value, 7)
        XCTAssertEqual(cache.loads, 2)
    }

    func testACancelledWaiterStopsWaitingAndTheLoadGoesOn() async throws {
        let cache = SingleFlightCache<Int>(ttl: .seconds(60), maxEntries: 10)
        let gate = ResilienceGate()
        let now = t0
        let leader = Task { try await cache.value(for: "k", now: now) { await gate.wait(); return 1 } }
        let started = await resilienceEventually { cache.loads == 1 }
        XCTAssertTrue(started)
        let waiter = Task { try await cache.value(for: "k", now: now) { 2 } }
        let joined = await resilienceEventually { cache.misses == 2 }
        XCTAssertTrue(joined)
        waiter.cancel()
        let waited = await waiter.result
        XCTAssertThrowsError(try waited.get()) { XCTAssertTrue($0 is CancellationError) }
        gate.open()
        let led = try await leader.value
        XCTAssertEqual(led.value, 1)
        XCTAssertEqual(cache.loads, 1)
    }

    func testACancelledLeaderHandsTheLoadToAWaiter() async throws {
        let cache = SingleFlightCache<Int>(ttl: .seconds(60), maxEntries: 10)
        let now = t0
        let attempts = ResilienceLocked(0)
        let load: @Sendable () async throws -> Int = {
            let n = attempts.withLock { $0 += 1; return $0 }
            if n == 1 { try await Task.sleep(for: .seconds(60)) }  // the first load only ends by cancellation
            return n
        }
        let leader = Task { try await cache.value(for: "k", now: now, load: load) }
        let started = await resilienceEventually { cache.loads == 1 }
        XCTAssertTrue(started)
        let waiter = Task { try await cache.value(for: "k", now: now, load: load) }
        let joined = await resilienceEventually { cache.misses == 2 }
        XCTAssertTrue(joined)
        leader.cancel()
        let led = await leader.result
        XCTAssertThrowsError(try led.get()) { XCTAssertTrue($0 is CancellationError) }
        let waited = try await waiter.value
        XCTAssertEqual(waited.value, 2)
        XCTAssertEqual(cache.loads, 2)
    }

    func testRemoveAllForgetsEntriesAndLoadsInFlightStoreNothing() async throws {
        let cache = SingleFlightCache<Int>(ttl: .seconds(60), maxEntries: 10)
        let now = t0
        _ = try await cache.value(for: "a", now: now) { 1 }
        let gate = ResilienceGate()
        let slow = Task { try await cache.value(for: "b", now: now) { await gate.wait(); return 2 } }
        let started = await resilienceEventually { cache.loads == 2 }
        XCTAssertTrue(started)
        cache.removeAll()
        XCTAssertEqual(cache.count, 0)
        gate.open()
        let b = try await slow.value
        XCTAssertEqual(b.value, 2)  // its caller still gets the value …
        XCTAssertEqual(cache.count, 0)  // … but it is not stored: it may predate the invalidation
        let a = try await cache.value(for: "a", now: now) { 3 }
        XCTAssertEqual(a.value, 3)
        XCTAssertFalse(a.hit)
    }
}
