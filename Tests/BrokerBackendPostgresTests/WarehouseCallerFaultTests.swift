// SPDX-License-Identifier: Apache-2.0

import Foundation
import Logging
import MCPCore
import XCTest

@testable import BrokerBackendPostgres
@testable import BrokerCore

/// A tenant's own mistakes say what to fix and never count against the warehouse's health. Real warehouse.
final class WarehouseCallerFaultTests: XCTestCase {
    let support = PGBackendHarness()

    func testAnalystSQLErrorsCarryThePrimaryMessageAndAreCallerFaults() async throws {
        let b = try support.backend()
        let cases: [(String, String)] = [
            ("SELECT 1 WHERE 1", "The query failed: argument of WHERE must be type boolean, not type integer (SQLSTATE 42804). Fix the SQL and call again."),
            ("SELECT 1 / 0", "The query failed: division by zero (SQLSTATE 22012). Guard the divisor with NULLIF(x, 0) and call again."),
            // A newline in the caller's own value is flattened: a message cannot start new lines on the client's screen.
            ("SELECT E'4\\n2'::int", "The query failed: invalid input syntax for type integer: \"4 2\" (SQLSTATE 22P02). Fix the SQL and call again."),
            ("SELECT * FROM analytics.tenant_roles", "The query failed: relation \"analytics.tenant_roles\" does not exist (SQLSTATE 42P01). Fix the SQL and call again; wh__describe lists the tables and columns you can query."),
        ]
        for (sql, message) in cases {
            let e = await support.brokerError(b, "run_sql", ["sql": .string(sql)])
            XCTAssertEqual(e?.message, message, sql)
            XCTAssertEqual(e?.isCallerFault, true, sql)
            XCTAssertFalse(BackendGuard.countsAgainstBackend(e ?? BrokerError(.internal, "none")), sql)
        }
        // Only the primary message: PostgreSQL's detail and hint never reach the caller.
        let hinted = await support.brokerError(b, "run_sql", ["sql": "SELECT lower(1, 2)"])
        XCTAssertEqual(hinted?.message, "The query failed: function lower(integer, integer) does not exist (SQLSTATE 42883). Fix the SQL and call again.")
        // A long message is cut.
        let long = await support.brokerError(b, "run_sql", ["sql": .string("SELECT '\(String(repeating: "y", count: 2000))'::int")])
        XCTAssertEqual(long?.message.count, "The query failed: ".count + 300 + " (SQLSTATE 22P02). Fix the SQL and call again.".count)
        XCTAssertEqual(long?.message.contains("…"), true)
    }

    func testMisconfiguredNamedQueryBlamesTheConfigurationNotTheBackend() async throws {
        let b = try support.backend()
        let e = await support.brokerError(b, "broken", [:])
        XCTAssertEqual(e?.message, "The named query broken is misconfigured (SQLSTATE 42703); an administrator must fix backends.wh.queries.broken.")
        XCTAssertEqual(e?.isCallerFault, true)
        XCTAssertFalse(e?.message.contains("nosuch") ?? true, "ops SQL is not echoed to the caller")
    }

    func testTheCallersOwnStatementTimeoutIsACallerFault() async throws {
        let b = try support.backend(PostgresBackendTests.yaml(analystTimeoutMs: 400))
        let e = await support.brokerError(b, "run_sql", ["sql": "SELECT * FROM analytics.slow_report"])
        XCTAssertEqual(e?.code, .timeout)
        XCTAssertEqual(e?.isCallerFault, true)
        let named = await support.brokerError(b, "slow", [:])
        XCTAssertEqual(named?.code, .timeout)
        XCTAssertEqual(named?.isCallerFault, true)
        // The broker's own probes still report a failing backend as one.
        let pg = PGError(.timeout, serverMessage: "connection handshake did not finish")
        XCTAssertFalse(PostgresErrors.map(pg, backend: "wh", timeout: .seconds(1), origin: .analyst).isCallerFault)
        let gone = PGError(.queryFailed, sqlState: "57P01", primaryMessage: "terminating connection due to administrator command")
        XCTAssertFalse(PostgresErrors.map(gone, backend: "wh", timeout: .seconds(1), origin: .analyst).isCallerFault)
        let internalError = PGError(.queryFailed, sqlState: "XX000", primaryMessage: "secret internal state")
        let mapped = PostgresErrors.map(internalError, backend: "wh", timeout: .seconds(1), origin: .analyst)
        XCTAssertFalse(mapped.isCallerFault)
        XCTAssertFalse(mapped.message.contains("secret"), "only caller-fault classes show the server's text")
    }

    /// The breaker in front of the real plugin: tenant acme's repeated type errors must not pause globex's calls.
    func testRepeatedCallerErrorsDoNotOpenTheBreaker() async throws {
        let b = try support.backend()
        var settings = BackendResilience()
        settings.breaker.consecutiveFailures = 2
        settings.breaker.minimumCalls = 2
        let guardRail = BackendGuard(name: "wh", settings: settings, logger: Logger(label: "breaker-test"))
        let acme = support.context("acme")
        for _ in 0..<4 {
            do {
                _ = try await guardRail.run("wh__run_sql", context: acme) {
                    try await b.callTool("run_sql", arguments: ["sql": "SELECT 1 WHERE 1"], context: acme)
                }
                XCTFail("the bad SQL succeeded")
            } catch let e as BrokerError {
                XCTAssertTrue(e.message.hasPrefix("The query failed:"), e.message)
            }
        }
        let globex = support.context("globex", id: "gina")
        let ok = try await guardRail.run("wh__session_state", context: globex) {
            try await b.callTool("session_state", arguments: [:], context: globex)
        }
        XCTAssertEqual(ok.structured?["rows"]?.arrayValue?.first?.arrayValue?[3], "globex")

        // The same failures without the caller-fault mark do open it: the assertion above can fail.
        let strict = BackendGuard(name: "wh", settings: settings, logger: Logger(label: "breaker-test"))
        for _ in 0..<2 {
            _ = try? await strict.run("wh__run_sql", context: acme) {
                do {
                    return try await b.callTool("run_sql", arguments: ["sql": "SELECT 1 WHERE 1"], context: acme)
                } catch let e as BrokerError {
                    // What the plugin used to throw for a 42804: a backend error, unmarked.
                    throw BrokerError(.backendError, e.message, backend: "wh")
                }
            }
        }
        do {
            _ = try await strict.run("wh__session_state", context: globex) { try await b.callTool("session_state", arguments: [:], context: globex) }
            XCTFail("the breaker stayed closed")
        } catch let e as BrokerError {
            XCTAssertTrue(e.message.contains("paused"), e.message)
        }
    }

    func testSanitizeRemovesControlAndBidiCharactersAndCaps() {
        XCTAssertEqual(PostgresErrors.sanitize("a\u{1B}[31mb\r\nc\u{202E}d\u{0}"), "a [31mb c d")
        XCTAssertEqual(PostgresErrors.sanitize(String(repeating: "é", count: 400)).count, 300)
    }
}
