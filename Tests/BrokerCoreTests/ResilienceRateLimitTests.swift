// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import XCTest

/// Rate limits: the configuration syntax, GCRA's exact burst and retry-after, no double spend under concurrency,
/// and the bound on per-key buckets. All on synthetic instants.
final class ResilienceRateLimitTests: XCTestCase {
    let t0 = ContinuousClock.now

    func testParseAcceptsTheDocumentedForms() {
        XCTAssertEqual(RateLimit.parse("10/s"), RateLimit(ratePerSecond: 10, burst: 10))
        XCTAssertEqual(RateLimit.parse("600/m"), RateLimit(ratePerSecond: 10, burst: 10))
        XCTAssertEqual(RateLimit.parse("10/s burst 20"), RateLimit(ratePerSecond: 10, burst: 20))
        XCTAssertEqual(RateLimit.parse("  10 / S   Burst 20 "), RateLimit(ratePerSecond: 10, burst: 20))
        XCTAssertEqual(RateLimit.parse("3600/h"), RateLimit(ratePerSecond: 1, burst: 1))
        // Default burst: one second's worth, rounded up, at least one.
        XCTAssertEqual(RateLimit.parse("1.5/s")?.burst, 2)
        XCTAssertEqual(RateLimit.parse("1/m")?.burst, 1)
        XCTAssertEqual(RateLimit(ratePerSecond: 0.1).burst, 1)
        XCTAssertEqual(RateLimit(ratePerSecond: 5, burst: 0).burst, 1)
    }

    func testParseRefusesEverythingElse() {
        let bad = [
            "", "10", "10/", "/s", "10/d", "0/s", "-1/s", "nan/s", "inf/s", "10/s burst", "10/s burst 0",
            "10/s burst -2", "10/s burst 2 3", "10/s/s", "10/s burst x", "burst 5", "ten/s", "10/s 20",
        ]
        for text in bad { XCTAssertNil(RateLimit.parse(text), "accepted \"\(text)\"") }
    }

    func testBurstThenExactRetryAfter() {
        var g = GCRA(limit: RateLimit(ratePerSecond: 10, burst: 3))
        for _ in 0..<3 { XCTAssertEqual(g.acquire(now: t0), .allowed) }
        XCTAssertEqual(g.acquire(now: t0), .limited(retryAfter: .milliseconds(100)))
        XCTAssertEqual(g.acquire(now: t0 + .milliseconds(40)), .limited(retryAfter: .milliseconds(60)))
        XCTAssertEqual(g.acquire(now: t0 + .milliseconds(100)), .allowed)
        XCTAssertEqual(g.acquire(now: t0 + .milliseconds(100)), .limited(retryAfter: .milliseconds(100)))
        // Refused calls cost nothing: still exactly one token per 100 ms.
        XCTAssertEqual(g.acquire(now: t0 + .milliseconds(200)), .allowed)
        XCTAssertFalse(g.isFull(at: t0 + .milliseconds(499)))
        XCTAssertTrue(g.isFull(at: t0 + .milliseconds(500)))
        // After a long idle period the bucket holds its burst again, not more.
        let later = t0 + .seconds(60)
        for _ in 0..<3 { XCTAssertEqual(g.acquire(now: later), .allowed) }
        XCTAssertEqual(g.acquire(now: later), .limited(retryAfter: .milliseconds(100)))
    }

    func testSustainedOverloadGetsBurstPlusRate() {
        // 10/s burst 20, offered 50/s for 10 s: 500 attempts at 20 ms spacing, the last at 9.98 s.
        var g = GCRA(limit: RateLimit.parse("10/s burst 20") ?? RateLimit(ratePerSecond: 0))
        var allowed = 0
        for i in 0..<500 where g.acquire(now: t0 + .milliseconds(20 * i)) == .allowed { allowed += 1 }
        // 20 from the burst plus one per 100 ms for 9.98 s (99); the 120th token is due at exactly 10 s.
        XCTAssertEqual(allowed, 119)
        XCTAssertEqual(g.acquire(now: t0 + .seconds(10)), .allowed)
    }

    func testZeroRateDoesNotTrap() {
        var g = GCRA(limit: RateLimit(ratePerSecond: 0))
        XCTAssertEqual(g.acquire(now: t0), .allowed)
        guard case .limited(let wait) = g.acquire(now: t0) else { return XCTFail("a zero rate refilled") }
        XCTAssertGreaterThan(wait, .seconds(86_400 * 365))
    }

    func testConcurrentAcquiresNeverDoubleSpend() async {
        let limiter = KeyedRateLimiter(limit: RateLimit(ratePerSecond: 10, burst: 20))
        let now = t0
        let allowed = await withTaskGroup(of: [String: Int].self) { group in
            for _ in 0..<8 {
                group.addTask {
                    var counts: [String: Int] = [:]
                    for i in 0..<1000 {
                        let key = i.isMultiple(of: 2) ? "alice" : "bob"
                        if limiter.acquire(key, now: now) == .allowed { counts[key, default: 0] += 1 }
                    }
                    return counts
                }
            }
            return await group.reduce(into: [:]) { total, part in total.merge(part, uniquingKeysWith: +) }
        }
        XCTAssertEqual(allowed, ["alice": 20, "bob": 20])
    }

    func testKeysAreIndependent() {
        let limiter = KeyedRateLimiter(limit: RateLimit(ratePerSecond: 1, burst: 1))
        XCTAssertEqual(limiter.acquire("a", now: t0), .allowed)
        XCTAssertEqual(limiter.acquire("a", now: t0), .limited(retryAfter: .seconds(1)))
        XCTAssertEqual(limiter.acquire("b", now: t0), .allowed)
    }

    func testEvictionDropsIdleBucketsFirst() {
        let limiter = KeyedRateLimiter(limit: RateLimit(ratePerSecond: 1, burst: 1), maxKeys: 2)
        XCTAssertEqual(limiter.acquire("idle", now: t0 - .seconds(10)), .allowed)  // full again by t0
        XCTAssertEqual(limiter.acquire("busy", now: t0), .allowed)  // empty until t0 + 1 s
        XCTAssertEqual(limiter.acquire("new", now: t0), .allowed)
        XCTAssertEqual(limiter.keyCount, 2)
        // Had "busy" been dropped instead of "idle", it would get a fresh bucket here.
        XCTAssertEqual(limiter.acquire("busy", now: t0), .limited(retryAfter: .seconds(1)))
    }

    func testKeyCountStaysBoundedUnderAFloodOfKeys() {
        let limiter = KeyedRateLimiter(limit: RateLimit(ratePerSecond: 1, burst: 5), maxKeys: 100)
        for i in 0..<10_000 {
            // Every bucket stays in use (none is full), so only the forced eviction can keep the bound.
            XCTAssertEqual(limiter.acquire("key-\(i)", now: t0 + .microseconds(i)), .allowed)
            if limiter.keyCount > 100 { return XCTFail("\(limiter.keyCount) keys after \(i + 1) inserts") }
        }
        XCTAssertGreaterThanOrEqual(limiter.keyCount, 90)
        // A minute later every old bucket is full: within 11 new keys the table reaches its bound and one sweep
        // drops all the old ones, leaving only the new keys (still in use).
        for i in 0..<11 { XCTAssertEqual(limiter.acquire("late-\(i)", now: t0 + .seconds(60)), .allowed) }
        XCTAssertEqual(limiter.keyCount, 11)
    }
}
