// SPDX-License-Identifier: Apache-2.0

import Synchronization
import XCTest

@testable import BrokerCore

/// The shared deadline watchdog: work past its deadline is cancelled and reported as a timeout, an earlier
/// deadline arriving while the watchdog sleeps for a later one is not missed, and finished work is untouched.
final class DeadlineTests: XCTestCase {
    func testWorkPastItsDeadlineIsCancelledAsATimeout() async {
        let started = ContinuousClock.now
        do {
            _ = try await Deadline.run(until: .now + .milliseconds(100)) { try await Task.sleep(for: .seconds(10)) }
            XCTFail("expected a timeout")
        } catch let e as BrokerError {
            XCTAssertEqual(e.code, .timeout)
        } catch {
            XCTFail("unexpected \(error)")
        }
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(2), "the work was cancelled, not waited for")
    }

    func testAnEarlierDeadlineWakesTheWatchdog() async throws {
        // A long deadline first, so the watchdog sleeps towards it; then a short one must still fire on time.
        let long = Task { try await Deadline.run(until: .now + .seconds(20)) { try await Task.sleep(for: .seconds(30)) } }
        try await Task.sleep(for: .milliseconds(50))
        let started = ContinuousClock.now
        let short = await Result(catching: { try await Deadline.run(until: .now + .milliseconds(100)) { try await Task.sleep(for: .seconds(10)) } })
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(2))
        guard case .failure(let e as BrokerError) = short else { return XCTFail("expected a timeout") }
        XCTAssertEqual(e.code, .timeout)
        long.cancel()
        _ = await long.result
    }

    func testWorkThatFinishesInTimeKeepsItsValueAndErrors() async throws {
        let v = try await Deadline.run(until: .now + .seconds(5)) { 42 }
        XCTAssertEqual(v, 42)
        do {
            _ = try await Deadline.run(until: .now + .seconds(5)) { () async throws -> Int in throw BrokerError.notFound("gone") }
            XCTFail("expected the work's own error")
        } catch let e as BrokerError {
            XCTAssertEqual(e.code, .notFound)
        }
    }

    /// Finished work must not leave its deadline behind for the full timeout: dead entries are compacted away,
    /// and the live ones still fire in order afterwards.
    func testFinishedDeadlinesDoNotAccumulate() async throws {
        let watch = DeadlineWatch.shared
        let fired = Mutex<[Int]>([])
        let far = ContinuousClock.now + .seconds(600)
        let tokens = (0..<20_000).map { _ in watch.register(far) {} }
        let live = [(1, 150), (2, 80)].map { label, ms in watch.register(.now + .milliseconds(ms)) { fired.withLock { $0.append(label) } } }
        for token in tokens { watch.unregister(token) }
        XCTAssertLessThan(watch.heapCount, 4_000, "dead entries were compacted, not kept until their deadline")
        try await Task.sleep(for: .milliseconds(600))
        XCTAssertEqual(fired.withLock { $0 }, [2, 1], "live deadlines survive compaction and fire in deadline order")
        for token in live { watch.unregister(token) }
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
