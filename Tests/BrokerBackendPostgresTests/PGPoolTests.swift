// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import Logging
import XCTest

@testable import BrokerBackendPostgres

/// PGPool against the real warehouse as wh_acme.
final class PGPoolTests: XCTestCase {
    private func makePool(
        _ configuration: PGPoolConfiguration, settings: PGConnectionSettings = PGTestSupport.acme()
    ) -> PGPool {
        PGPool(name: "test", settings: settings, configuration: configuration, logger: Logger(label: "pg-pool-tests"))
    }

    private func backendPID(_ connection: PGConnection) async throws -> String {
        let result = try await connection.query("SELECT pg_backend_pid()", parameters: [], rowLimit: 1, byteLimit: 64)
        return try XCTUnwrap(result.rows.first?.first ?? nil)
    }

    /// Polls `condition` every 10 ms for at most `seconds`.
    private func eventually(_ seconds: Double, _ condition: () -> Bool) async throws -> Bool {
        let end = PGTestSupport.deadline(seconds)
        while ContinuousClock.now < end {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }

    func testTwentyConcurrentLeasesNeverUseMoreThanMaxConnections() async throws {
        let pool = makePool(PGPoolConfiguration(maxConnections: 3, acquireTimeout: .seconds(10)))
        defer { pool.shutdown() }
        let observations = try await withThrowingTaskGroup(of: (pid: String, leased: Int).self) { group in
            for _ in 0..<20 {
                group.addTask {
                    try await pool.withConnection(deadline: PGTestSupport.deadline(10)) { connection in
                        let leased = pool.statistics().leased
                        let result = try await connection.query(
                            "SELECT pg_backend_pid(), pg_sleep(0.02)", parameters: [], rowLimit: 1, byteLimit: 64)
                        return (result.rows.first?.first.flatMap { $0 } ?? "", leased)
                    }
                }
            }
            var all: [(pid: String, leased: Int)] = []
            for try await observation in group { all.append(observation) }
            return all
        }
        XCTAssertEqual(observations.count, 20)
        let distinct = Set(observations.map { $0.pid })
        XCTAssertFalse(distinct.contains(""))
        XCTAssertLessThanOrEqual(distinct.count, 3)
        XCTAssertGreaterThanOrEqual(distinct.count, 2, "concurrent leases should have opened more than one connection")
        XCTAssertLessThanOrEqual(observations.map { $0.leased }.max() ?? 99, 3)
        let stats = pool.statistics()
        XCTAssertEqual(stats.leased, 0)
        XCTAssertEqual(stats.waiting, 0)
        XCTAssertLessThanOrEqual(stats.idle, 3)
    }

    func testAcquireTimesOutWithPoolExhausted() async throws {
        let pool = makePool(PGPoolConfiguration(maxConnections: 1, acquireTimeout: .milliseconds(300)))
        defer { pool.shutdown() }
        let holder = Task {
            try await pool.withConnection(deadline: PGTestSupport.deadline(10)) { _ in
                try await Task.sleep(for: .seconds(3))
            }
        }
        defer { holder.cancel() }
        let holding = try await eventually(3) { pool.statistics().leased == 1 }
        XCTAssertTrue(holding)

        var started = ContinuousClock.now
        let error = await PGTestSupport.errorKind {
            try await pool.withConnection(deadline: PGTestSupport.deadline(10)) { _ in 0 }
        }
        var elapsed = ContinuousClock.now - started
        XCTAssertEqual(error?.kind, .poolExhausted)
        XCTAssertGreaterThanOrEqual(elapsed, .milliseconds(250))
        XCTAssertLessThan(elapsed, .milliseconds(1500))

        // The call's own deadline wins when it is shorter than acquireTimeout.
        started = ContinuousClock.now
        let early = await PGTestSupport.errorKind {
            try await pool.withConnection(deadline: PGTestSupport.deadline(0.05)) { _ in 0 }
        }
        elapsed = ContinuousClock.now - started
        XCTAssertEqual(early?.kind, .poolExhausted)
        XCTAssertLessThan(elapsed, .milliseconds(250))
        XCTAssertEqual(pool.statistics().waiting, 0)
    }

    func testFailsFastWhileTheDatabaseIsUnreachable() async throws {
        let port = try XCTUnwrap(SilentListener.closedPort())
        let pool = makePool(
            PGPoolConfiguration(backoffBase: .seconds(2), backoffMax: .seconds(5)), settings: PGTestSupport.acme(port: port))
        defer { pool.shutdown() }
        let first = await PGTestSupport.errorKind { try await pool.withConnection(deadline: PGTestSupport.deadline()) { _ in 0 } }
        XCTAssertEqual(first?.kind, .connectFailed)
        XCTAssertTrue(pool.statistics().down)
        let started = ContinuousClock.now
        let second = await PGTestSupport.errorKind { try await pool.withConnection(deadline: PGTestSupport.deadline()) { _ in 0 } }
        XCTAssertEqual(second?.kind, .poolUnavailable)
        XCTAssertLessThan(ContinuousClock.now - started, .milliseconds(50))
    }

    func testRecoversOnceTheCredentialAppearsWithoutRestart() async throws {
        let variable = "PGPOOL_TEST_PASSWORD_\(UInt32.random(in: 0...UInt32.max))"
        unsetenv(variable)
        var settings = PGTestSupport.acme()
        settings.password = SecretReference(source: .environment(variable))
        let pool = makePool(PGPoolConfiguration(backoffBase: .milliseconds(200), backoffMax: .milliseconds(400)), settings: settings)
        defer { pool.shutdown() }
        let first = await PGTestSupport.errorKind { try await pool.withConnection(deadline: PGTestSupport.deadline()) { _ in 0 } }
        XCTAssertEqual(first?.kind, .credentialUnavailable)
        let second = await PGTestSupport.errorKind { try await pool.withConnection(deadline: PGTestSupport.deadline()) { _ in 0 } }
        XCTAssertEqual(second?.kind, .poolUnavailable)

        setenv(variable, try XCTUnwrap(ProcessInfo.processInfo.environment["WH_ACME_PASSWORD"]), 1)
        defer { unsetenv(variable) }
        try await Task.sleep(for: .milliseconds(300))
        let value = try await pool.withConnection(deadline: PGTestSupport.deadline()) { connection in
            try await connection.query("SELECT 'back'", parameters: [], rowLimit: 1, byteLimit: 16).rows
        }
        XCTAssertEqual(value, [["back"]])
        XCTAssertFalse(pool.statistics().down)
    }

    func testConnectionLeftInTransactionIsRolledBackAndReused() async throws {
        let pool = makePool(PGPoolConfiguration(maxConnections: 2))
        defer { pool.shutdown() }
        let firstPID = try await pool.withConnection(deadline: PGTestSupport.deadline()) { connection in
            try await connection.execute("BEGIN")
            return try await self.backendPID(connection)
        }
        XCTAssertEqual(pool.statistics().idle, 1)
        // An aborted transaction (failed statement inside BEGIN) is also rolled back.
        _ = try? await pool.withConnection(deadline: PGTestSupport.deadline()) { connection in
            XCTAssertTrue(connection.isIdleAndHealthy)
            try await connection.execute("BEGIN READ ONLY")
            return try await connection.query("SELECT 1/0", parameters: [], rowLimit: 1, byteLimit: 16)
        }
        let (secondPID, idleAtStart) = try await pool.withConnection(deadline: PGTestSupport.deadline()) { connection in
            (try await self.backendPID(connection), connection.isIdleAndHealthy)
        }
        XCTAssertTrue(idleAtStart)
        XCTAssertEqual(firstPID, secondPID)
        XCTAssertEqual(pool.statistics().idle, 1)
    }

    func testCancelledLeaseReturnsQuicklyAndFreesTheSlot() async throws {
        let pool = makePool(PGPoolConfiguration(maxConnections: 1, acquireTimeout: .seconds(3)))
        defer { pool.shutdown() }
        let task = Task {
            try await pool.withConnection(deadline: PGTestSupport.deadline(30)) { connection in
                try await connection.query("SELECT * FROM analytics.slow_report", parameters: [], rowLimit: 1, byteLimit: 64)
            }
        }
        try await PGTestSupport.assertCancelledPromptly(task)
        XCTAssertEqual(pool.statistics().leased, 0)
        let next = try await pool.withConnection(deadline: PGTestSupport.deadline()) { connection in
            try await connection.query("SELECT 1", parameters: [], rowLimit: 1, byteLimit: 16).rows
        }
        XCTAssertEqual(next, [["1"]])
    }

    func testServerClosedSessionIsCaughtByIdleCheckOrClosedAfterConnectionLost() async throws {
        let checking = makePool(PGPoolConfiguration(idleCheckAfter: .zero))
        let trusting = makePool(PGPoolConfiguration(idleCheckAfter: .seconds(600)))
        defer {
            checking.shutdown()
            trusting.shutdown()
        }
        for pool in [checking, trusting] {
            // wh_acme may not call pg_terminate_backend; an idle_session_timeout makes the server end the session itself.
            let victim = try await pool.withConnection(deadline: PGTestSupport.deadline()) { connection in
                try await connection.execute("SET idle_session_timeout = 100")
                return try await self.backendPID(connection)
            }
            XCTAssertEqual(pool.statistics().idle, 1)
            try await Task.sleep(for: .milliseconds(400))
            if pool === trusting {
                let error = await PGTestSupport.errorKind {
                    try await pool.withConnection(deadline: PGTestSupport.deadline()) { try await self.backendPID($0) }
                }
                XCTAssertEqual(error?.kind, .connectionLost)
                XCTAssertEqual(pool.statistics().idle, 0, "a lost connection is closed, not pooled")
            }
            let replacement = try await pool.withConnection(deadline: PGTestSupport.deadline()) { try await self.backendPID($0) }
            XCTAssertNotEqual(replacement, victim)
            XCTAssertEqual(pool.statistics().idle, 1)
        }
    }

    func testConnectionsPastMaxLifetimeAreReplaced() async throws {
        let pool = makePool(PGPoolConfiguration(maxLifetime: .milliseconds(300)))
        defer { pool.shutdown() }
        let first = try await pool.withConnection(deadline: PGTestSupport.deadline()) { try await self.backendPID($0) }
        let again = try await pool.withConnection(deadline: PGTestSupport.deadline()) { try await self.backendPID($0) }
        XCTAssertEqual(first, again)
        try await Task.sleep(for: .milliseconds(400))
        let later = try await pool.withConnection(deadline: PGTestSupport.deadline()) { try await self.backendPID($0) }
        XCTAssertNotEqual(first, later)
    }

    func testShutdownRefusesNewAcquires() async throws {
        let pool = makePool(PGPoolConfiguration(minConnections: 2))
        await pool.warmUp(deadline: PGTestSupport.deadline())
        XCTAssertEqual(pool.statistics().idle, 2)
        pool.shutdown()
        XCTAssertEqual(pool.statistics().idle, 0)
        let error = await PGTestSupport.errorKind { try await pool.withConnection(deadline: PGTestSupport.deadline()) { _ in 0 } }
        XCTAssertEqual(error?.kind, .poolUnavailable)
    }
}
