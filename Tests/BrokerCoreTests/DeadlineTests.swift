// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import XCTest

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
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
