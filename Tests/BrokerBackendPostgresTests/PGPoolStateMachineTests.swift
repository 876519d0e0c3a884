// SPDX-License-Identifier: Apache-2.0

import XCTest

@testable import BrokerBackendPostgres

/// The pool's decisions, driven without I/O or a real clock.
final class PGPoolStateMachineTests: XCTestCase {
    private let t0 = ContinuousClock.now

    private func machine(
        max: Int = 2, lifetime: Duration = .seconds(1800), idleCheck: Duration = .seconds(30),
        base: Duration = .milliseconds(100), cap: Duration = .seconds(1)
    ) -> PGPoolStateMachine {
        PGPoolStateMachine(configuration: PGPoolConfiguration(
            maxConnections: max, acquireTimeout: .seconds(2), maxLifetime: lifetime, idleCheckAfter: idleCheck,
            backoffBase: base, backoffMax: cap))
    }

    private func at(_ seconds: Double) -> ContinuousClock.Instant { t0 + .milliseconds(Int(seconds * 1000)) }

    func testNeverExceedsMaxConnections() {
        var m = machine(max: 2)
        XCTAssertEqual(m.acquire(waiter: 1, now: at(0)).action, .createConnection)
        XCTAssertEqual(m.acquire(waiter: 2, now: at(0)).action, .createConnection)
        XCTAssertEqual(m.acquire(waiter: 3, now: at(0)).action, .wait)
        XCTAssertEqual(m.totalConnections, 2)
        _ = m.connectSucceeded(createdAt: at(0), now: at(0))
        _ = m.connectSucceeded(createdAt: at(0), now: at(0))
        XCTAssertEqual(m.acquire(waiter: 4, now: at(0)).action, .wait)
        XCTAssertEqual(m.totalConnections, 2)
        let stats = m.statistics(now: at(0))
        XCTAssertEqual(stats.leased, 2)
        XCTAssertEqual(stats.waiting, 2)
        XCTAssertEqual(stats.idle, 0)
    }

    func testWaitersAreServedFirstInFirstOut() {
        var m = machine(max: 1)
        XCTAssertEqual(m.acquire(waiter: 1, now: at(0)).action, .createConnection)
        let id = m.connectSucceeded(createdAt: at(0), now: at(0))
        XCTAssertEqual(m.acquire(waiter: 2, now: at(0)).action, .wait)
        XCTAssertEqual(m.acquire(waiter: 3, now: at(0)).action, .wait)
        XCTAssertEqual(m.acquire(waiter: 4, now: at(0)).action, .wait)
        XCTAssertTrue(m.cancelWait(3))
        XCTAssertFalse(m.cancelWait(3))
        XCTAssertEqual(m.release(id, reusable: true, now: at(1)).handoffs, [.init(waiter: 2, outcome: .use(id))])
        XCTAssertEqual(m.release(id, reusable: true, now: at(2)).handoffs, [.init(waiter: 4, outcome: .use(id))])
        XCTAssertEqual(m.release(id, reusable: true, now: at(3)), PGPoolStateMachine.Effects())
        XCTAssertEqual(m.statistics(now: at(3)).idle, 1)
    }

    func testBrokenReleaseClosesAndPassesTheSlotToTheFirstWaiter() {
        var m = machine(max: 1)
        _ = m.acquire(waiter: 1, now: at(0))
        let id = m.connectSucceeded(createdAt: at(0), now: at(0))
        XCTAssertEqual(m.acquire(waiter: 2, now: at(0)).action, .wait)
        let effects = m.release(id, reusable: false, now: at(1))
        XCTAssertEqual(effects.close, [id])
        XCTAssertEqual(effects.handoffs, [.init(waiter: 2, outcome: .create)])
        XCTAssertEqual(m.totalConnections, 1, "the handed slot counts as connecting")
    }

    func testBackoffGrowsIsCappedAndResetsOnSuccess() {
        var m = machine(max: 4, base: .milliseconds(100), cap: .seconds(1))
        XCTAssertEqual(m.backoffCeiling(afterFailures: 1), .milliseconds(100))
        XCTAssertEqual(m.backoffCeiling(afterFailures: 2), .milliseconds(200))
        XCTAssertEqual(m.backoffCeiling(afterFailures: 4), .milliseconds(800))
        XCTAssertEqual(m.backoffCeiling(afterFailures: 5), .seconds(1))
        XCTAssertEqual(m.backoffCeiling(afterFailures: 500), .seconds(1))

        var now = at(0)
        var windows: [Duration] = []
        for _ in 0..<6 {
            XCTAssertEqual(m.acquire(waiter: 1, now: now).action, .createConnection)
            _ = m.connectFailed(now: now, jitter: 1)
            let ends = try? XCTUnwrap(m.backoffEnds)
            windows.append(now.duration(to: ends ?? now))
            // Inside the window: fail fast.
            XCTAssertEqual(m.acquire(waiter: 2, now: now + .milliseconds(50)).action, .fail(.poolUnavailable))
            XCTAssertTrue(m.isDown(now: now + .milliseconds(50)))
            now = ends ?? now
        }
        XCTAssertEqual(windows, [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1), .seconds(1)])

        // Full jitter above the floor: jitter 0 gives the base, 0.5 the midpoint.
        XCTAssertEqual(m.acquire(waiter: 3, now: now).action, .createConnection)
        _ = m.connectFailed(now: now, jitter: 0)
        XCTAssertEqual(now.duration(to: m.backoffEnds ?? now), .milliseconds(100))
        now = m.backoffEnds ?? now
        XCTAssertEqual(m.acquire(waiter: 4, now: now).action, .createConnection)
        _ = m.connectFailed(now: now, jitter: 0.5)
        XCTAssertEqual(now.duration(to: m.backoffEnds ?? now), .milliseconds(550))
        now = m.backoffEnds ?? now

        // First success resets: the next failure starts again at the base.
        XCTAssertEqual(m.acquire(waiter: 5, now: now).action, .createConnection)
        let id = m.connectSucceeded(createdAt: now, now: now)
        XCTAssertFalse(m.isDown(now: now))
        _ = m.release(id, reusable: false, now: now)
        XCTAssertEqual(m.acquire(waiter: 6, now: now).action, .createConnection)
        _ = m.connectFailed(now: now, jitter: 1)
        XCTAssertEqual(now.duration(to: m.backoffEnds ?? now), .milliseconds(100))
    }

    func testFailedConnectFailsWaitersAndIdleConnectionsStillServeWhileDown() {
        var m = machine(max: 2)
        _ = m.acquire(waiter: 1, now: at(0))
        let id = m.connectSucceeded(createdAt: at(0), now: at(0))
        _ = m.acquire(waiter: 2, now: at(0))
        XCTAssertEqual(m.acquire(waiter: 3, now: at(0)).action, .wait)
        let effects = m.connectFailed(now: at(0), jitter: 1)
        XCTAssertEqual(effects.handoffs, [.init(waiter: 3, outcome: .fail(.poolUnavailable))])
        _ = m.release(id, reusable: true, now: at(0.01))
        XCTAssertEqual(m.acquire(waiter: 4, now: at(0.02)).action, .useIdle(id, needsCheck: false))
        XCTAssertEqual(m.acquire(waiter: 5, now: at(0.02)).action, .fail(.poolUnavailable))
        XCTAssertTrue(m.statistics(now: at(0.02)).down)
        XCTAssertEqual(m.acquire(waiter: 6, now: at(0.2)).action, .createConnection, "window over: try again")
    }

    func testExpiredConnectionsAreReplacedOnAcquireAndClosedOnRelease() {
        var m = machine(max: 2, lifetime: .seconds(10))
        _ = m.acquire(waiter: 1, now: at(0))
        let first = m.connectSucceeded(createdAt: at(0), now: at(0))
        _ = m.release(first, reusable: true, now: at(1))
        let decision = m.acquire(waiter: 2, now: at(11))
        XCTAssertEqual(decision.close, [first])
        XCTAssertEqual(decision.action, .createConnection)
        let second = m.connectSucceeded(createdAt: at(11), now: at(11))
        let released = m.release(second, reusable: true, now: at(21.5))
        XCTAssertEqual(released.close, [second], "past max lifetime: closed instead of pooled")
        XCTAssertEqual(m.totalConnections, 0)
    }

    func testIdleCheckIsRequestedOnlyAfterIdleCheckAfter() {
        var m = machine(max: 1, idleCheck: .seconds(30))
        _ = m.acquire(waiter: 1, now: at(0))
        let id = m.connectSucceeded(createdAt: at(0), now: at(0))
        _ = m.release(id, reusable: true, now: at(1))
        XCTAssertEqual(m.acquire(waiter: 2, now: at(20)).action, .useIdle(id, needsCheck: false))
        _ = m.release(id, reusable: true, now: at(20))
        XCTAssertEqual(m.acquire(waiter: 3, now: at(50.5)).action, .useIdle(id, needsCheck: true))
    }

    func testShutdownClosesIdleFailsWaitersAndRefusesAcquires() {
        var m = machine(max: 2)
        _ = m.acquire(waiter: 1, now: at(0))
        _ = m.acquire(waiter: 2, now: at(0))
        let a = m.connectSucceeded(createdAt: at(0), now: at(0))
        let b = m.connectSucceeded(createdAt: at(0), now: at(0))
        _ = m.release(a, reusable: true, now: at(0))
        XCTAssertEqual(m.shutdown(), PGPoolStateMachine.Effects(close: [a], handoffs: []))
        XCTAssertEqual(m.acquire(waiter: 3, now: at(0)).action, .fail(.poolUnavailable))
        XCTAssertEqual(m.release(b, reusable: true, now: at(1)).close, [b], "leased connections close on release")
        XCTAssertEqual(m.totalConnections, 0)

        var full = machine(max: 1)
        _ = full.acquire(waiter: 1, now: at(0))
        _ = full.connectSucceeded(createdAt: at(0), now: at(0))
        XCTAssertEqual(full.acquire(waiter: 2, now: at(0)).action, .wait)
        XCTAssertEqual(full.shutdown().handoffs, [.init(waiter: 2, outcome: .fail(.poolUnavailable))])
    }

    func testAbandonedConnectFreesTheSlotWithoutBackoff() {
        var m = machine(max: 1)
        XCTAssertEqual(m.acquire(waiter: 1, now: at(0)).action, .createConnection)
        XCTAssertEqual(m.acquire(waiter: 2, now: at(0)).action, .wait)
        let effects = m.connectAbandoned(now: at(0))
        XCTAssertEqual(effects.handoffs, [.init(waiter: 2, outcome: .create)])
        XCTAssertFalse(m.isDown(now: at(0)))
    }
}
