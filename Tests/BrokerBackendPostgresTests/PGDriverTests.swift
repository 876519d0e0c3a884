// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import XCTest

@testable import BrokerBackendPostgres

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// PGConnection against the real warehouse as wh_acme.
final class PGDriverTests: XCTestCase {
    func testParametersOfSeveralTypesRoundTripInTextFormat() async throws {
        let connection = try await PGTestSupport.connectAcme()
        defer { connection.close() }
        let result = try await connection.query(
            "SELECT $1::int + 1 AS i, $2::text || 'x' AS t, $3::numeric * 2 AS n, $4::date + 1 AS d, $5::boolean AS b, $6::int IS NULL AS z, $7::text AS nul",
            parameters: ["41", "a'b; DROP TABLE x", "12345678901234567890.25", "2024-02-28", "true", nil, nil],
            rowLimit: 10, byteLimit: 10_000)
        XCTAssertEqual(result.columns.map(\.name), ["i", "t", "n", "d", "b", "z", "nul"])
        XCTAssertEqual(result.columns.map(\.typeOID), [23, 25, 1700, 1082, 16, 16, 25])
        XCTAssertEqual(result.rows.count, 1)
        XCTAssertEqual(result.rows.first, ["42", "a'b; DROP TABLE xx", "24691357802469135780.50", "2024-02-29", "t", "t", nil])
        XCTAssertFalse(result.truncated)
        XCTAssertTrue(connection.isIdleAndHealthy)
    }

    func testZeroRowResultStillReportsColumns() async throws {
        let connection = try await PGTestSupport.connectAcme()
        defer { connection.close() }
        let result = try await connection.query(
            "SELECT region, name FROM analytics.regions WHERE region = $1", parameters: ["NOWHERE"], rowLimit: 10, byteLimit: 1000)
        XCTAssertEqual(result.columns.map(\.name), ["region", "name"])
        XCTAssertTrue(result.rows.isEmpty)
        XCTAssertFalse(result.truncated)
    }

    func testRowLevelSecurityShowsOnlyTheTenantsRows() async throws {
        let connection = try await PGTestSupport.connectAcme()
        defer { connection.close() }
        let tenants = try await connection.query(
            "SELECT DISTINCT tenant FROM analytics.customers", parameters: [], rowLimit: 10, byteLimit: 1000)
        XCTAssertEqual(tenants.rows, [["acme"]])
        let other = try await connection.query(
            "SELECT count(*) FROM analytics.orders WHERE tenant = $1", parameters: ["globex"], rowLimit: 1, byteLimit: 100)
        XCTAssertEqual(other.rows, [["0"]])
        let own = try await connection.query(
            "SELECT count(*) > 0 FROM analytics.orders WHERE tenant = $1", parameters: ["acme"], rowLimit: 1, byteLimit: 100)
        XCTAssertEqual(own.rows, [["t"]])
    }

    func testMultiStatementStringsAreRefusedWithoutSideEffects() async throws {
        let connection = try await PGTestSupport.connectAcme()
        defer { connection.close() }
        let setError = await PGTestSupport.errorKind {
            try await connection.query("SET application_name = 'pwned'; SELECT 1", parameters: [], rowLimit: 10, byteLimit: 100)
        }
        XCTAssertEqual(setError?.kind, .queryFailed)
        XCTAssertEqual(setError?.sqlState, "42601")
        let dropError = await PGTestSupport.errorKind { try await connection.execute("COMMIT; DROP TABLE analytics.write_canary") }
        XCTAssertEqual(dropError?.sqlState, "42601")
        let state = try await connection.query(
            "SELECT current_setting('application_name'), (SELECT count(*) FROM analytics.write_canary)",
            parameters: [], rowLimit: 1, byteLimit: 1000)
        XCTAssertEqual(state.rows, [["mcp-broker-test", "0"]])
        XCTAssertTrue(connection.isIdleAndHealthy)
    }

    func testRowLimitTruncatesCancelsAndKeepsTheConnectionUsable() async throws {
        let connection = try await PGTestSupport.connectAcme()
        defer { connection.close() }
        let started = ContinuousClock.now
        let result = try await connection.query(
            "SELECT g FROM generate_series(1,100000) g", parameters: [], rowLimit: 25, byteLimit: 1_000_000)
        XCTAssertEqual(result.rows.count, 25)
        XCTAssertEqual(result.rows.last, ["25"])
        XCTAssertTrue(result.truncated)
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(2))
        XCTAssertTrue(connection.isIdleAndHealthy)
        let next = try await connection.query("SELECT 'still fine'", parameters: [], rowLimit: 1, byteLimit: 100)
        XCTAssertEqual(next.rows, [["still fine"]])
        // Exactly rowLimit rows available is not a truncation.
        let exact = try await connection.query("SELECT g FROM generate_series(1,5) g", parameters: [], rowLimit: 5, byteLimit: 1000)
        XCTAssertEqual(exact.rows.count, 5)
        XCTAssertFalse(exact.truncated)
    }

    func testByteLimitTruncates() async throws {
        let connection = try await PGTestSupport.connectAcme()
        defer { connection.close() }
        let result = try await connection.query(
            "SELECT repeat('x', 100) FROM generate_series(1, 1000)", parameters: [], rowLimit: 10_000, byteLimit: 1_050)
        XCTAssertEqual(result.rows.count, 10)
        XCTAssertEqual(result.byteCount, 1_000)
        XCTAssertTrue(result.truncated)
        let next = try await connection.query("SELECT 1", parameters: [], rowLimit: 1, byteLimit: 10)
        XCTAssertEqual(next.rows, [["1"]])
    }

    func testStatementTimeoutInsideReadOnlyTransactionMapsToTimeout() async throws {
        let connection = try await PGTestSupport.connectAcme()
        defer { connection.close() }
        try await connection.execute("BEGIN READ ONLY")
        try await connection.execute("SET LOCAL statement_timeout = 300")
        let started = ContinuousClock.now
        let error = await PGTestSupport.errorKind {
            try await PGTestSupport.bounded(5) {
                try await connection.query("SELECT * FROM analytics.slow_report", parameters: [], rowLimit: 10, byteLimit: 1000)
            }
        }
        XCTAssertEqual(error?.kind, .timeout)
        XCTAssertEqual(error?.sqlState, "57014")
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(2))
        XCTAssertFalse(connection.isIdleAndHealthy, "the failed statement leaves the transaction aborted")
        try await connection.execute("ROLLBACK")
        XCTAssertTrue(connection.isIdleAndHealthy)
    }

    func testTaskCancellationCancelsTheServerStatementQuickly() async throws {
        let connection = try await PGTestSupport.connectAcme()
        defer { connection.close() }
        let task = Task {
            try await connection.query("SELECT * FROM analytics.slow_report", parameters: [], rowLimit: 10, byteLimit: 1000)
        }
        try await PGTestSupport.assertCancelledPromptly(task)
        XCTAssertTrue(connection.isIdleAndHealthy)
        let next = try await connection.query("SELECT 2", parameters: [], rowLimit: 1, byteLimit: 10)
        XCTAssertEqual(next.rows, [["2"]])
    }

    func testAlreadyCancelledTaskDoesNotSendTheStatement() async throws {
        let connection = try await PGTestSupport.connectAcme()
        defer { connection.close() }
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await connection.query("SELECT 1", parameters: [], rowLimit: 1, byteLimit: 10)
        }
        let error = await PGTestSupport.errorKind { try await task.value }
        XCTAssertEqual(error?.kind, .cancelled)
        let next = try await connection.query("SELECT 3", parameters: [], rowLimit: 1, byteLimit: 10)
        XCTAssertEqual(next.rows, [["3"]])
    }

    func testWrongPasswordIsAuthenticationFailedWithoutServerTextInDescription() async throws {
        setenv("PGDRIVER_TEST_WRONG_PASSWORD", "definitely-not-the-password", 1)
        var settings = PGTestSupport.acme()
        settings.password = SecretReference(source: .environment("PGDRIVER_TEST_WRONG_PASSWORD"))
        let error = await PGTestSupport.errorKind { try await PGConnection.connect(settings, deadline: PGTestSupport.deadline()) }
        XCTAssertEqual(error?.kind, .authenticationFailed)
        XCTAssertEqual(error?.sqlState, "28P01")
        XCTAssertEqual(error?.description, "PGError(authenticationFailed, SQLSTATE 28P01)")
        XCTAssertTrue(error?.serverMessage?.contains("password authentication failed") ?? false)
    }

    func testUnresolvablePasswordIsCredentialUnavailable() async throws {
        var settings = PGTestSupport.acme()
        settings.password = SecretReference(source: .environment("PGDRIVER_TEST_UNSET_VARIABLE"))
        let error = await PGTestSupport.errorKind { try await PGConnection.connect(settings, deadline: PGTestSupport.deadline()) }
        XCTAssertEqual(error?.kind, .credentialUnavailable)
    }

    func testSilentServerTimesOutWithinConnectTimeout() async throws {
        let listener = try XCTUnwrap(SilentListener())
        defer { listener.stop() }
        let settings = PGTestSupport.acme(port: listener.port, connectTimeout: .seconds(1))
        let started = ContinuousClock.now
        let error = await PGTestSupport.errorKind {
            try await PGTestSupport.bounded(5) { try await PGConnection.connect(settings, deadline: PGTestSupport.deadline(30)) }
        }
        let elapsed = ContinuousClock.now - started
        XCTAssertEqual(error?.kind, .timeout)
        XCTAssertGreaterThanOrEqual(elapsed, .milliseconds(900))
        XCTAssertLessThan(elapsed, .seconds(2))
    }

    func testCallerDeadlineShorterThanConnectTimeoutWins() async throws {
        let listener = try XCTUnwrap(SilentListener())
        defer { listener.stop() }
        let settings = PGTestSupport.acme(port: listener.port, connectTimeout: .seconds(10))
        let started = ContinuousClock.now
        let error = await PGTestSupport.errorKind { try await PGConnection.connect(settings, deadline: PGTestSupport.deadline(0.3)) }
        XCTAssertEqual(error?.kind, .timeout)
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(1))
    }

    func testRefusedPortIsConnectFailed() async throws {
        let port = try XCTUnwrap(SilentListener.closedPort())
        let error = await PGTestSupport.errorKind {
            try await PGConnection.connect(PGTestSupport.acme(port: port), deadline: PGTestSupport.deadline())
        }
        XCTAssertEqual(error?.kind, .connectFailed)
    }

    func testNulBytesInParametersAreRefused() async throws {
        let connection = try await PGTestSupport.connectAcme()
        defer { connection.close() }
        let error = await PGTestSupport.errorKind {
            try await connection.query("SELECT $1::text", parameters: ["a\u{0}b"], rowLimit: 1, byteLimit: 100)
        }
        XCTAssertEqual(error?.kind, .queryFailed)
        XCTAssertEqual(error?.sqlState, "22021")
    }

    func testClosedConnectionReportsConnectionLost() async throws {
        let connection = try await PGTestSupport.connectAcme()
        connection.close()
        connection.close()
        let error = await PGTestSupport.errorKind { try await connection.query("SELECT 1", parameters: [], rowLimit: 1, byteLimit: 10) }
        XCTAssertEqual(error?.kind, .connectionLost)
        XCTAssertFalse(connection.isIdleAndHealthy)
    }

    func testSessionEndedByTheServerIsConnectionLost() async throws {
        let connection = try await PGTestSupport.connectAcme()
        defer { connection.close() }
        try await connection.execute("SET idle_session_timeout = 100")
        try await Task.sleep(for: .milliseconds(400))
        let error = await PGTestSupport.errorKind { try await connection.query("SELECT 1", parameters: [], rowLimit: 1, byteLimit: 10) }
        XCTAssertEqual(error?.kind, .connectionLost)
        XCTAssertFalse(connection.isIdleAndHealthy)
        XCTAssertFalse(connection.isConnectionOK)
    }

    func testVerboseMessageSQLStateParsing() {
        XCTAssertEqual(PGError.sqlState(inVerboseMessage: "failed: FATAL:  3D000: database \"x\" does not exist"), "3D000")
        XCTAssertNil(PGError.sqlState(inVerboseMessage: "could not connect to server: Connection refused"))
        XCTAssertEqual(PGError.classifyStatementFailure(sqlState: "57P01", connectionBad: false, cancelledByUs: false), .connectionLost)
        XCTAssertEqual(PGError.classifyStatementFailure(sqlState: "57014", connectionBad: false, cancelledByUs: true), .cancelled)
        XCTAssertEqual(PGError.classifyStatementFailure(sqlState: "42P01", connectionBad: true, cancelledByUs: false), .connectionLost)
    }

    /// Not a timed test: measures 1000 sequential `SELECT 1` round trips and prints µs/query for the report.
    func testThousandSequentialSelectOnes() async throws {
        let connection = try await PGTestSupport.connectAcme()
        defer { connection.close() }
        let started = ContinuousClock.now
        for _ in 0..<1000 {
            let result = try await connection.query("SELECT 1", parameters: [], rowLimit: 1, byteLimit: 16)
            XCTAssertEqual(result.rows.count, 1)
        }
        let elapsed = ContinuousClock.now - started
        let micros = Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12
        print("PGDriverTests: 1000 x SELECT 1 through PGConnection: \(Int(micros / 1000)) µs/query")
        XCTAssertLessThan(elapsed, .seconds(10))
    }
}
