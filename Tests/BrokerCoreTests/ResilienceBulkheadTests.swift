// SPDX-License-Identifier: Apache-2.0

import Synchronization
import XCTest

@testable import BrokerCore

/// The bulkhead: the concurrency cap holds, overflow is refused at once, the queue is FIFO, and a waiter that
/// times out or is cancelled leaves the queue without taking a permit.
final class ResilienceBulkheadTests: XCTestCase {
    func testPureStateHandsPermitsToTheQueueInOrder() {
        var s = BulkheadState<String>(maxConcurrent: 2, maxQueue: 2)
        XCTAssertEqual(s.acquire(id: 1, waiter: "a"), .granted)
        XCTAssertEqual(s.acquire(id: 2, waiter: "b"), .granted)
        XCTAssertEqual(s.acquire(id: 3, waiter: "c"), .queued)
        XCTAssertEqual(s.acquire(id: 4, waiter: "d"), .queued)
        XCTAssertEqual(s.acquire(id: 5, waiter: "e"), .full(running: 2, waiting: 2))
        XCTAssertEqual(s.remove(id: 3), "c")
        XCTAssertNil(s.remove(id: 3))
        XCTAssertEqual(s.release(), "d")  // handed over: still two running
        XCTAssertEqual(s.running, 2)
        XCTAssertNil(s.release())
        XCTAssertNil(s.release())
        XCTAssertNil(s.release())  // unmatched: clamped, not negative
        XCTAssertEqual(s.running, 0)
        XCTAssertTrue(s.tryAcquire())
    }

    func testOverflowFailsFastAndTheCapHolds() async {
        let bulkhead = Bulkhead(maxConcurrent: 4, maxQueue: 8, name: "Backend erp")
        let gate = ResilienceGate()
        let stats = ResilienceLocked((running: 0, maxRunning: 0, completed: 0, refusals: [BrokerError]()))
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<50 {
                group.addTask {
                    do throws(BrokerError) {
                        try await bulkhead.acquire(until: .now + .seconds(60))
                    } catch {
                        stats.withLock { $0.refusals.append(error) }
                        return
                    }
                    stats.withLock { s in
                        s.running += 1
                        s.maxRunning = max(s.maxRunning, s.running)
                    }
                    await gate.wait()
                    stats.withLock { s in
                        s.running -= 1
                        s.completed += 1
                    }
                    bulkhead.release()
                }
            }
            // Nothing is released before the gate opens, so exactly 4 run, 8 wait and the other 38 are refused.
            let settled = await resilienceEventually {
                stats.withLock { $0.refusals.count } == 38 && bulkhead.inFlight == 4 && bulkhead.waiting == 8
            }
            XCTAssertTrue(settled, "in flight \(bulkhead.inFlight), waiting \(bulkhead.waiting)")
            gate.open()
        }
        let s = stats.withLock { $0 }
        XCTAssertEqual(s.maxRunning, 4)
        XCTAssertEqual(s.completed, 12)
        XCTAssertEqual(s.refusals.count, 38)
        for e in s.refusals {
            XCTAssertEqual(e.code, .rateLimited)
            XCTAssertTrue(e.isRetriable)
            XCTAssertEqual(e.message, "Backend erp is at its concurrency limit (4 running, 8 waiting); try again shortly.")
        }
        XCTAssertEqual(bulkhead.inFlight, 0)
        XCTAssertEqual(bulkhead.waiting, 0)
    }

    func testCancelledWaiterFreesItsQueueSlot() async throws {
        let bulkhead = Bulkhead(maxConcurrent: 1, maxQueue: 1)
        try await bulkhead.acquire(until: .now + .seconds(60))
        let waiter = Task { () async -> BrokerError? in
            do throws(BrokerError) { try await bulkhead.acquire(until: .now + .seconds(60)) } catch { return error }
            return nil
        }
        let queued = await resilienceEventually { bulkhead.waiting == 1 }
        XCTAssertTrue(queued)
        do throws(BrokerError) {
            try await bulkhead.acquire(until: .now + .seconds(60))
            XCTFail("joined a full queue")
        } catch {
            XCTAssertEqual(error.code, .rateLimited)
        }
        waiter.cancel()
        let cancelled = await waiter.value
        XCTAssertEqual(cancelled?.code, .cancelled)
        XCTAssertEqual(bulkhead.waiting, 0)
        XCTAssertEqual(bulkhead.inFlight, 1)

        // The freed slot is usable, and the permit goes to the new waiter.
        let next = Task { () async -> BrokerError? in
            do throws(BrokerError) { try await bulkhead.acquire(until: .now + .seconds(60)) } catch { return error }
            return nil
        }
        let requeued = await resilienceEventually { bulkhead.waiting == 1 }
        XCTAssertTrue(requeued)
        bulkhead.release()
        let granted = await next.value
        XCTAssertNil(granted)
        XCTAssertEqual(bulkhead.inFlight, 1)
        bulkhead.release()
        XCTAssertEqual(bulkhead.inFlight, 0)
    }

    func testDeadlineInTheQueueTimesOutWithoutTakingAPermit() async throws {
        let bulkhead = Bulkhead(maxConcurrent: 1, maxQueue: 2)
        try await bulkhead.acquire(until: .now + .seconds(60))
        do throws(BrokerError) {
            try await bulkhead.acquire(until: .now + .milliseconds(50))
            XCTFail("got a permit that was never released")
        } catch {
            XCTAssertEqual(error.code, .timeout)
            XCTAssertTrue(error.isRetriable)
        }
        XCTAssertEqual(bulkhead.waiting, 0)
        bulkhead.release()
        XCTAssertEqual(bulkhead.inFlight, 0)
    }

    /// A waiter served before its deadline leaves nothing behind: its timer used to live until the deadline.
    func testServedWaitersLeaveNoTimerBehind() async throws {
        let bulkhead = Bulkhead(maxConcurrent: 1, maxQueue: 64)
        try await bulkhead.acquire(until: .now + .seconds(60))
        let before = DeadlineWatch.shared.liveCount
        // Each waiter passes its permit on, so one release serves the whole queue whatever its order.
        let waiters = (0..<32).map { _ in
            Task {
                try await bulkhead.acquire(until: .now + .seconds(600))
                bulkhead.release()
            }
        }
        let queued = await resilienceEventually { bulkhead.waiting == 32 }
        XCTAssertTrue(queued)
        XCTAssertEqual(DeadlineWatch.shared.liveCount, before + 32, "each waiter's deadline is watched")
        bulkhead.release()
        for waiter in waiters { try await waiter.value }
        XCTAssertEqual(bulkhead.inFlight, 0)
        XCTAssertEqual(DeadlineWatch.shared.liveCount, before, "served waiters unregistered their deadlines")
    }

    func testWaitersAreServedFirstInFirstOut() async throws {
        let bulkhead = Bulkhead(maxConcurrent: 1, maxQueue: 3)
        let order = ResilienceLocked<[String]>([])
        try await bulkhead.acquire(until: .now + .seconds(60))
        var tasks: [Task<Void, Never>] = []
        for (i, name) in ["A", "B", "C"].enumerated() {
            tasks.append(Task {
                guard (try? await bulkhead.acquire(until: .now + .seconds(60))) != nil else { return }
                order.withLock { $0.append(name) }
                bulkhead.release()
            })
            let queued = await resilienceEventually { bulkhead.waiting == i + 1 }
            XCTAssertTrue(queued)
        }
        bulkhead.release()
        for t in tasks { await t.value }
        XCTAssertEqual(order.withLock { $0 }, ["A", "B", "C"])
        XCTAssertEqual(bulkhead.inFlight, 0)
    }
}

/// Polls `condition` until it holds or `timeout` passes: for states reached by other tasks, where only the
/// scheduling (never the asserted outcome) depends on wall time.
func resilienceEventually(timeout: Duration = .seconds(10), _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        if ContinuousClock.now >= deadline { return false }
        try? await Task.sleep(for: .milliseconds(2))
    }
    return true
}

/// A one-shot latch: `wait()` suspends until `open()`.
final class ResilienceGate: Sendable {
    private let state = Mutex<(isOpen: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let openAlready = state.withLock { s in
                if s.isOpen { return true }
                s.waiters.append(c)
                return false
            }
            if openAlready { c.resume() }
        }
    }

    func open() {
        let waiters = state.withLock { s in
            s.isOpen = true
            defer { s.waiters = [] }
            return s.waiters
        }
        for w in waiters { w.resume() }
    }
}

/// A value behind a lock, in a class so escaping closures can share it (a `Mutex` cannot be captured).
final class ResilienceLocked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) { mutex = Mutex(value) }

    func withLock<R: Sendable>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }
}
