// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import XCTest

@testable import BrokerBackendPostgres

/// `PGConnection.pipeline` against the real warehouse as wh_acme: errors stop their own segment only, the session
/// is back in a known state afterwards, and the caps, timeout and cancellation still hold.
final class PGPipelineTests: XCTestCase {
    /// BEGIN READ ONLY, SET LOCAL statement_timeout, `sql`, sync, ROLLBACK, sync: the shape a warehouse call sends.
    private static func transaction(_ sql: String, timeoutMs: Int = 5000, rowLimit: Int = 10, byteLimit: Int = 4096, closing: PGPipeline.Step = .command("ROLLBACK"))
        -> PGPipeline
    {
        PGPipeline(
            steps: [.command("BEGIN READ ONLY"), .command("SET LOCAL statement_timeout = \(timeoutMs)"), .query(sql, parameters: []), .sync, closing, .sync],
            rowLimit: rowLimit, byteLimit: byteLimit)
    }

    private func pid(_ connection: PGConnection) async throws -> String? {
        try await connection.pipeline(PGPipeline(steps: [.query("SELECT pg_backend_pid()", parameters: []), .sync], rowLimit: 1, byteLimit: 64))
            .rows.rows.first?.first ?? nil
    }

    func testOneTransactionReadsRowsAndLeavesTheSessionIdle() async throws {
        let connection = try await PGTestSupport.connectAcme()
        defer { connection.close() }
        let roleDefault = try await connection.query("SELECT current_setting('statement_timeout')", parameters: [], rowLimit: 1, byteLimit: 64)
        let pipeline = PGPipeline(
            steps: [
                .command("BEGIN READ ONLY"), .command("SET LOCAL statement_timeout = 1234"),
                .query("SELECT current_setting('statement_timeout'), current_setting('transaction_read_only'), $1::int + 1", parameters: ["41"]),
                .sync, .command("ROLLBACK"), .sync,
            ],
            rowLimit: 10, byteLimit: 4096)
        let outcome = try await connection.pipeline(pipeline)
        XCTAssertEqual(outcome.rows.rows, [["1234ms", "on", "42"]])
        XCTAssertEqual(outcome.rows.columns.count, 3)
        XCTAssertTrue(connection.isIdleAndHealthy, "ROLLBACK ran and the session left pipeline mode")
        let after = try await connection.query("SELECT current_setting('statement_timeout')", parameters: [], rowLimit: 1, byteLimit: 64)
        XCTAssertEqual(after.rows, roleDefault.rows, "SET LOCAL ended with the transaction")
        XCTAssertNotEqual(after.rows, [["1234ms"]])
    }

    func testAFailingStatementSkipsTheRestOfItsSegmentButNotTheClosingRollback() async throws {
        let connection = try await PGTestSupport.connectAcme()
        defer { connection.close() }
        let before = try await pid(connection)
        let error = await PGTestSupport.errorKind { try await connection.pipeline(Self.transaction("SELECT 1 / 0")) }
        XCTAssertEqual(error?.kind, .queryFailed)
        XCTAssertEqual(error?.sqlState, "22012")
        XCTAssertTrue(connection.isIdleAndHealthy, "the ROLLBACK after the sync point ran: no transaction is left open")

        // An early failure (the SET) stops the statements after it: the session-level set_config never ran.
        let early = PGPipeline(
            steps: [.command("SET LOCAL statement_timeout = 'soon'"), .query("SELECT set_config('application_name', 'ran', false)", parameters: []), .sync],
            rowLimit: 1, byteLimit: 64)
        let earlyError = await PGTestSupport.errorKind { try await connection.pipeline(early) }
        XCTAssertEqual(earlyError?.sqlState, "22023")
        let name = try await connection.query("SELECT current_setting('application_name')", parameters: [], rowLimit: 1, byteLimit: 64)
        XCTAssertNotEqual(name.rows, [["ran"]])
        XCTAssertTrue(connection.isIdleAndHealthy)

        let next = try await connection.pipeline(Self.transaction("SELECT 'next'"))
        XCTAssertEqual(next.rows.rows, [["next"]])
        let after = try await pid(connection)
        XCTAssertEqual(before, after, "the same session served every call")
    }

    func testTheStatementTimeoutStillFiresAndTheSessionRecovers() async throws {
        let connection = try await PGTestSupport.connectAcme()
        defer { connection.close() }
        let error = await PGTestSupport.errorKind {
            try await PGTestSupport.bounded(5) { try await connection.pipeline(Self.transaction("SELECT * FROM analytics.slow_report", timeoutMs: 300)) }
        }
        XCTAssertEqual(error?.kind, .timeout)
        XCTAssertEqual(error?.sqlState, "57014")
        XCTAssertTrue(connection.isIdleAndHealthy)
        let next = try await connection.pipeline(Self.transaction("SELECT 2"))
        XCTAssertEqual(next.rows.rows, [["2"]])
    }

    func testTheTransactionIsReadOnly() async throws {
        let connection = try await PGTestSupport.connectAcme()
        defer { connection.close() }
        let error = await PGTestSupport.errorKind {
            try await connection.pipeline(Self.transaction("INSERT INTO analytics.write_canary(note) VALUES ('pipelined')"))
        }
        XCTAssertEqual(error?.sqlState, "25006", "the server refuses the write in a READ ONLY transaction")
        XCTAssertTrue(connection.isIdleAndHealthy)
    }

    func testCancellationMidQueryReturnsPromptlyAndTheSessionIsReusable() async throws {
        let connection = try await PGTestSupport.connectAcme()
        defer { connection.close() }
        let slow = Self.transaction("SELECT * FROM analytics.slow_report", timeoutMs: 30000)
        let task = Task { try await connection.pipeline(slow) }
        try await PGTestSupport.assertCancelledPromptly(task)
        XCTAssertTrue(connection.isIdleAndHealthy, "the closing ROLLBACK ran after the cancelled statement")
        let next = try await connection.pipeline(Self.transaction("SELECT 3"))
        XCTAssertEqual(next.rows.rows, [["3"]])
    }

    func testCapsTruncateAndACommitThatRolledBackIsAFailure() async throws {
        let connection = try await PGTestSupport.connectAcme()
        defer { connection.close() }
        let many = "SELECT g FROM generate_series(1, 5000000) g"
        let read = try await connection.pipeline(Self.transaction(many, rowLimit: 3))
        XCTAssertEqual(read.rows.rows, [["1"], ["2"], ["3"]])
        XCTAssertTrue(read.rows.truncated)
        XCTAssertTrue(connection.isConnectionOK)
        // Our truncation cancel aborted the transaction: its COMMIT is answered with ROLLBACK and must not pass.
        let write = PGPipeline(
            steps: [.command("BEGIN READ WRITE"), .query(many, parameters: []), .sync, .commit("COMMIT"), .sync], rowLimit: 3, byteLimit: 4096)
        let error = await PGTestSupport.errorKind { try await connection.pipeline(write) }
        XCTAssertEqual(error?.sqlState, "40000")
        XCTAssertTrue(connection.isIdleAndHealthy)
    }

    func testDescribeInAPipelineKeepsTheTransactionOpenForTheStatement() async throws {
        let connection = try await PGTestSupport.connectAcme()
        defer { connection.close() }
        let described = try await connection.pipeline(
            PGPipeline(steps: [.command("BEGIN READ ONLY"), .describe("SELECT order_id, total FROM analytics.orders"), .sync]))
        XCTAssertEqual(described.columns?.map(\.name), ["order_id", "total"])
        XCTAssertFalse(connection.isIdleAndHealthy, "still inside the transaction")
        let rest = try await connection.pipeline(
            PGPipeline(steps: [.query("SELECT current_setting('transaction_read_only')", parameters: []), .sync, .command("ROLLBACK"), .sync], rowLimit: 1, byteLimit: 64))
        XCTAssertEqual(rest.rows.rows, [["on"]])
        XCTAssertTrue(connection.isIdleAndHealthy)
    }

    func testCopyCannotRunInAPipelineAndRetiresTheSession() async throws {
        XCTAssertFalse(SQLGate.isPipelinable("COPY (SELECT 1) TO STDOUT"))
        XCTAssertFalse(SQLGate.isPipelinable("SELEC nonsense"))
        XCTAssertTrue(SQLGate.isPipelinable("INSERT INTO t VALUES ($1) ON CONFLICT DO NOTHING"))
        XCTAssertTrue(SQLGate.isPipelinable("SELECT 1"))
        let connection = try await PGTestSupport.connectAcme()
        defer { connection.close() }
        let error = await PGTestSupport.errorKind {
            try await PGTestSupport.bounded(5) { try await connection.pipeline(Self.transaction("COPY (SELECT 1) TO STDOUT")) }
        }
        XCTAssertEqual(error?.kind, .queryFailed)
        XCTAssertFalse(connection.isConnectionOK, "a session whose results could not be read back is never reused")
    }

    func testNulBytesAreRefusedBeforeAnythingIsSent() async throws {
        let connection = try await PGTestSupport.connectAcme()
        defer { connection.close() }
        let error = await PGTestSupport.errorKind {
            try await connection.pipeline(PGPipeline(steps: [.command("BEGIN"), .query("SELECT $1", parameters: ["a\u{0}b"]), .sync]))
        }
        XCTAssertEqual(error?.sqlState, "22021")
        XCTAssertTrue(connection.isIdleAndHealthy, "BEGIN was not sent either")
    }
}
