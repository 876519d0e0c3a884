// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import XCTest

/// The retry budget: retries stop at max(minRetries, ratio × calls in flight), and come back as retries end.
final class ResilienceRetryBudgetTests: XCTestCase {
    func testALoneCallMayRetryOnceAtATime() {
        var b = RetryBudgetState()
        b.callStarted()
        XCTAssertTrue(b.tryAcquireRetry())
        XCTAssertFalse(b.tryAcquireRetry())
        b.retryEnded()
        XCTAssertTrue(b.tryAcquireRetry())
    }

    func testRetriesStopAtTheBudgetWithManyCallsInFlight() {
        var b = RetryBudgetState(ratio: 0.2, minRetries: 1)
        for _ in 0..<100 { b.callStarted() }
        let granted = (0..<100).filter { _ in b.tryAcquireRetry() }.count
        XCTAssertEqual(granted, 20)
        XCTAssertEqual(b.retriesInFlight, 20)

        // Load falls to 50 calls: budget 10, so no new retry until fewer than 10 are running.
        for _ in 0..<50 { b.callEnded() }
        for _ in 0..<10 { b.retryEnded() }
        XCTAssertFalse(b.tryAcquireRetry())
        b.retryEnded()
        XCTAssertTrue(b.tryAcquireRetry())
    }

    func testZeroBudgetNeverRetriesAndUnmatchedEndsClamp() {
        var none = RetryBudgetState(ratio: 0, minRetries: 0)
        for _ in 0..<10 { none.callStarted() }
        XCTAssertFalse(none.tryAcquireRetry())

        var b = RetryBudgetState()
        b.callEnded()
        b.retryEnded()
        XCTAssertEqual(b.callsInFlight, 0)
        XCTAssertEqual(b.retriesInFlight, 0)
        for _ in 0..<10 { b.callStarted() }
        // Had the counts gone negative, the budget would be off by one: 0.2 × 10 = 2 retries.
        XCTAssertTrue(b.tryAcquireRetry())
        XCTAssertTrue(b.tryAcquireRetry())
        XCTAssertFalse(b.tryAcquireRetry())
    }

    func testSharedBudgetIsExactUnderConcurrency() async {
        let budget = RetryBudget()
        for _ in 0..<100 { budget.callStarted() }
        let granted = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<8 {
                group.addTask { (0..<100).filter { _ in budget.tryAcquireRetry() }.count }
            }
            return await group.reduce(0, +)
        }
        XCTAssertEqual(granted, 20)
        XCTAssertEqual(budget.retriesInFlight, 20)
        XCTAssertEqual(budget.callsInFlight, 100)
    }
}
