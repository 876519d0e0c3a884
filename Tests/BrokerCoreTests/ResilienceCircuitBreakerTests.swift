// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import XCTest

/// The circuit breaker as a pure machine on synthetic instants: both trip rules, the sliding window, the single
/// probe, the growing and jittered open interval; and the shared wrapper's transition callback.
final class ResilienceCircuitBreakerTests: XCTestCase {
    let t0 = ContinuousClock.now

    func machine(_ policy: CircuitBreakerPolicy, seed: UInt64 = 0) -> CircuitBreakerMachine {
        CircuitBreakerMachine(policy: policy, seed: seed)
    }

    func testOpensAfterConsecutiveFailuresAndASuccessResetsTheRun() {
        var m = machine(CircuitBreakerPolicy(consecutiveFailures: 3, minimumCalls: 1000, jitter: 0))
        for outcome in [false, false, true, false, false] {
            XCTAssertEqual(m.admit(now: t0), .allowed)
            m.record(success: outcome, now: t0)
        }
        XCTAssertEqual(m.state, .closed)
        m.record(success: false, now: t0)
        XCTAssertEqual(m.state, .open(until: t0 + .seconds(5)))
        XCTAssertEqual(m.stateName, "open")
        XCTAssertEqual(m.admit(now: t0 + .seconds(1)), .rejected(retryAfter: .seconds(4)))
    }

    func testOpensOnFailureRatioOnlyWithMinimumCalls() {
        let policy = CircuitBreakerPolicy(consecutiveFailures: 0, failureRatio: 0.5, minimumCalls: 10, window: .seconds(10), jitter: 0)
        var m = machine(policy)
        // 4 failures in 9 calls: too few calls to judge, however bad the ratio would look.
        for i in 0..<9 { m.record(success: i.isMultiple(of: 2), now: t0 + .milliseconds(100 * i)) }
        XCTAssertEqual(m.state, .closed)
        m.record(success: false, now: t0 + .seconds(1))  // 5 of 10
        XCTAssertEqual(m.state, .open(until: t0 + .seconds(6)))

        // Below the ratio it stays closed however many calls there are.
        var healthy = machine(policy)
        for i in 0..<100 { healthy.record(success: i % 3 != 0, now: t0 + .milliseconds(10 * i)) }
        XCTAssertEqual(healthy.state, .closed)
    }

    func testFailuresOutsideTheWindowNoLongerCount() {
        let policy = CircuitBreakerPolicy(consecutiveFailures: 0, failureRatio: 0.5, minimumCalls: 10, window: .seconds(10), jitter: 0)
        var inside = machine(policy)
        var outside = machine(policy)
        for _ in 0..<9 {
            inside.record(success: false, now: t0)
            outside.record(success: false, now: t0)
        }
        inside.record(success: false, now: t0 + .seconds(5))
        outside.record(success: false, now: t0 + .seconds(11))
        XCTAssertEqual(inside.stateName, "open")
        XCTAssertEqual(outside.stateName, "closed")
    }

    func testSingleProbeThenDoublingIntervalsCappedAndResetOnSuccess() {
        let policy = CircuitBreakerPolicy(consecutiveFailures: 1, openBase: .seconds(5), openMax: .seconds(20), jitter: 0)
        var m = machine(policy)
        m.record(success: false, now: t0)
        XCTAssertEqual(m.state, .open(until: t0 + .seconds(5)))
        XCTAssertEqual(m.admit(now: t0 + .seconds(5)), .probe)
        XCTAssertEqual(m.state, .halfOpen(probeInFlight: true))
        XCTAssertEqual(m.stateName, "half_open")
        guard case .rejected = m.admit(now: t0 + .seconds(5)) else { return XCTFail("a second call joined the probe") }
        m.record(success: false, now: t0 + .seconds(6))
        XCTAssertEqual(m.state, .open(until: t0 + .seconds(16)))  // 10 s: doubled

        var now = t0 + .seconds(16)
        for _ in 0..<2 {
            XCTAssertEqual(m.admit(now: now), .probe)
            m.record(success: false, now: now)
            XCTAssertEqual(m.state, .open(until: now + .seconds(20)))  // 20 s, then still 20 s: capped
            now = now + .seconds(20)
        }
        XCTAssertEqual(m.trips, 4)
        XCTAssertEqual(m.admit(now: now), .probe)
        m.record(success: true, now: now)
        XCTAssertEqual(m.state, .closed)
        XCTAssertEqual(m.trips, 0)
        XCTAssertEqual(m.admit(now: now), .allowed)
        m.record(success: false, now: now + .seconds(1))
        XCTAssertEqual(m.state, .open(until: now + .seconds(6)))  // back to the base interval
    }

    func testJitterStaysWithinBoundsAndIsReproducible() {
        let policy = CircuitBreakerPolicy(consecutiveFailures: 1, openBase: .seconds(10), openMax: .seconds(60), jitter: 0.2)
        func interval(seed: UInt64) -> Duration {
            var m = machine(policy, seed: seed)
            m.record(success: false, now: t0)
            guard case .open(let until) = m.state else { return .zero }
            return until - t0
        }
        var seen = Set<Int64>()
        for seed in UInt64(1)...50 {
            let d = interval(seed: seed)
            XCTAssertGreaterThanOrEqual(d, .seconds(8))
            XCTAssertLessThan(d, .seconds(12))
            XCTAssertEqual(d, interval(seed: seed))
            seen.insert(d.wholeMilliseconds)
        }
        XCTAssertGreaterThan(seen.count, 40, "jitter is not spreading the intervals")
        // At the cap jitter only shortens: never above openMax.
        XCTAssertLessThanOrEqual(policy.openInterval(trip: 10, unit: 0.999), .seconds(60))
        XCTAssertEqual(policy.openInterval(trip: 10, unit: 0), .seconds(48))
    }

    func testLostProbeIsReplacedAndAbandonFreesTheSlot() {
        var m = machine(CircuitBreakerPolicy(consecutiveFailures: 1, jitter: 0, probeTimeout: .seconds(30)))
        m.record(success: false, now: t0)
        let t5 = t0 + .seconds(5)
        XCTAssertEqual(m.admit(now: t5), .probe)
        XCTAssertEqual(m.admit(now: t5 + .seconds(29)), .rejected(retryAfter: .seconds(1)))
        XCTAssertEqual(m.admit(now: t5 + .seconds(30)), .probe)
        m.abandon()
        XCTAssertEqual(m.state, .halfOpen(probeInFlight: false))
        XCTAssertEqual(m.admit(now: t5 + .seconds(31)), .probe)
    }

    func testReportsWhileOpenAreIgnored() {
        var m = machine(CircuitBreakerPolicy(consecutiveFailures: 1, jitter: 0))
        m.record(success: false, now: t0)
        m.record(success: true, now: t0 + .seconds(1))  // a call admitted before the trip
        XCTAssertEqual(m.state, .open(until: t0 + .seconds(5)))
        m.refresh(now: t0 + .seconds(5))
        m.record(success: true, now: t0 + .seconds(5))  // half-open, but not the probe
        XCTAssertEqual(m.state, .halfOpen(probeInFlight: false))
    }

    func testWrapperReportsTransitionsAndDescribesTheState() {
        let log = ResilienceLocked<[String]>([])
        let breaker = CircuitBreaker(
            policy: CircuitBreakerPolicy(consecutiveFailures: 2, jitter: 0), seed: 7,
            onTransition: { from, to in log.withLock { $0.append("\(from)->\(to)") } })
        XCTAssertEqual(breaker.describe(now: t0), "closed")
        breaker.record(success: false, now: t0)
        breaker.record(success: false, now: t0)
        XCTAssertEqual(breaker.describe(now: t0 + .milliseconds(800)), "open (probe allowed in 4200 ms, trip 1)")
        XCTAssertEqual(breaker.admit(now: t0 + .seconds(1)), .rejected(retryAfter: .seconds(4)))
        XCTAssertEqual(breaker.admit(now: t0 + .seconds(5)), .probe)
        XCTAssertEqual(breaker.describe(now: t0 + .seconds(5)), "half_open (probe in flight)")
        breaker.record(success: true, now: t0 + .seconds(6))
        XCTAssertEqual(log.withLock { $0 }, ["closed->open", "open->half_open", "half_open->closed"])
        XCTAssertEqual(breaker.stateName, "closed")
    }
}
