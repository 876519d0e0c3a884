// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import MCPCore
import XCTest

@testable import BrokerBackendPostgres

/// Warehouse calls sent in pipeline mode, through the plugin, on a pool of one connection (so "the next call"
/// is provably on the same session). Real warehouse.
final class WarehousePipelineTests: XCTestCase {
    let support = PGBackendHarness()

    static let yaml = """
        connection: { host: 127.0.0.1, port: \(PostgresBackendTests.port), database: warehouse, sslmode: disable, connect_timeout_ms: 2000 }
        tenants:
          acme: { user: wh_acme, password: env:WH_ACME_PASSWORD }
        pool: { max: 1, acquire_timeout_ms: 3000 }
        schema: analytics
        analyst_sql: { enabled: true, max_rows: 5, timeout_ms: 5000 }
        queries:
          session:
            description: The serving session and its transaction settings.
            sql: SELECT pg_backend_pid() AS pid, current_setting('transaction_read_only') AS ro, current_setting('statement_timeout') AS st, $1 AS t
            parameters: { t: { bind: tenant } }
          ratio:
            description: Fails at run time (not at Describe) when divisor is 0.
            sql: SELECT 100 / $1::int AS r, $2 AS t
            parameters:
              divisor: { type: integer, required: true }
              t: { bind: tenant }
          sneaky_write:
            description: A write not declared as one.
            sql: INSERT INTO analytics.write_canary(note) SELECT $1
            parameters: { t: { bind: tenant } }
          slow:
            description: A view that sleeps.
            sql: SELECT done, $1 AS t FROM analytics.slow_report
            parameters: { t: { bind: tenant } }
            timeout_ms: 20000
          slow_short:
            description: A view that sleeps, with a short timeout.
            sql: SELECT done, $1 AS t FROM analytics.slow_report
            parameters: { t: { bind: tenant } }
            timeout_ms: 300
        """

    private func session(_ b: any Backend) async throws -> [JSONValue] {
        try await support.call(b, "session", [:])["rows"]?.arrayValue?.first?.arrayValue ?? []
    }

    func testAFailingStatementGivesTheBusinessErrorAndTheSameSessionServesTheNextCall() async throws {
        let b = try support.backend(Self.yaml)
        let first = try await session(b)
        XCTAssertEqual(first[1], "on", "read-only transaction")
        XCTAssertEqual(first[2], "10s", "the query's own statement_timeout")
        let ok = try await support.call(b, "ratio", ["divisor": 4])
        XCTAssertEqual(ok["rows"]?.arrayValue?.first?.arrayValue?.first, 25)
        let e = await support.brokerError(b, "ratio", ["divisor": 0])
        XCTAssertEqual(e?.code, .invalidArguments)
        XCTAssertEqual(e?.message, "A value is malformed or out of range: division by zero (SQLSTATE 22012). Check the arguments and call again.")
        let again = try await session(b)
        XCTAssertEqual(again.first, first.first, "the failed call's session was reused, not replaced")
        XCTAssertEqual(again[1], "on")
        // Unqualified: resolves only through the curated search_path the analyst pipeline sets.
        let analyst = try await support.call(b, "run_sql", ["sql": "SELECT count(*) AS n FROM orders"])
        XCTAssertGreaterThan(analyst["rows"]?.arrayValue?.first?.arrayValue?.first?.intValue ?? 0, 0)
        let afterAnalyst = try await session(b)
        XCTAssertEqual(afterAnalyst.first, first.first)
    }

    func testAWriteInANamedQueryIsRefusedByTheServer() async throws {
        let b = try support.backend(Self.yaml)
        let e = await support.brokerError(b, "sneaky_write", [:])
        XCTAssertEqual(e?.code, .forbidden)
        XCTAssertEqual(e?.message, "The warehouse is read-only for analysts.")
        let canary = try await support.call(b, "run_sql", ["sql": "SELECT count(*) FROM analytics.write_canary"])
        XCTAssertEqual(canary["rows"]?.arrayValue?.first?.arrayValue?.first, 0)
    }

    func testTheTimeoutFiresAndTheSessionIsReused() async throws {
        let b = try support.backend(Self.yaml)
        let before = try await session(b)
        let e = await support.brokerError(b, "slow_short", [:])
        XCTAssertEqual(e?.code, .timeout)
        let after = try await session(b)
        XCTAssertEqual(after.first, before.first)
    }

    func testCancellationMidQueryReturnsPromptlyAndTheSessionIsReused() async throws {
        let b = try support.backend(Self.yaml)
        let before = try await session(b)
        let harness = support
        let task = Task { try await harness.call(b, "slow", [:]) }
        try await Task.sleep(for: .milliseconds(400))
        let started = ContinuousClock.now
        task.cancel()
        do {
            _ = try await PGTestSupport.bounded(5) { try await task.value }
            XCTFail("the cancelled call returned rows")
        } catch let error as BrokerError {
            XCTAssertEqual(error.code, .cancelled)
        }
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(2))
        let after = try await session(b)
        XCTAssertEqual(after.first, before.first, "the cancelled call's session was reused")
    }
}
