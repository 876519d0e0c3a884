// SPDX-License-Identifier: Apache-2.0

import Foundation
import XCTest

@testable import BrokerBackendPostgres

/// The gate's API contract: returned text, limits, messages, custom allowlists, deep trees and concurrency.
final class SQLGateTests: XCTestCase {
    let gate = SQLGate()

    private func rejection(_ sql: String, _ gate: SQLGate? = nil, file: StaticString = #filePath, line: UInt = #line)
        -> SQLGateRejection?
    {
        switch (gate ?? self.gate).check(sql) {
        case .success(let text):
            XCTFail("admitted \(sql.prefix(120).debugDescription) as \(text.prefix(120))", file: file, line: line)
            return nil
        case .failure(let rejection):
            return rejection
        }
    }

    func testReturnsTheStatementTrimmedWithoutTrailingSemicolon() {
        XCTAssertEqual(try gate.check("  SELECT 1 ;  \n").get(), "SELECT 1")
        XCTAssertEqual(try gate.check("SELECT 1;;").get(), "SELECT 1")
        XCTAssertEqual(try gate.check("SELECT 'é' AS \"ü\";").get(), "SELECT 'é' AS \"ü\"")
        XCTAssertEqual(try gate.check("-- why\nSELECT 1;").get(), "-- why\nSELECT 1")
        XCTAssertEqual(try gate.check("SELECT 1; -- trailing").get(), "SELECT 1")
        XCTAssertEqual(try gate.check("SELECT ';' AS x; ").get(), "SELECT ';' AS x")
        // A no-break space is not whitespace to PostgreSQL (it would be an alias): it must stay.
        XCTAssertEqual(try gate.check("SELECT 1 AS a\u{A0}\n").get(), "SELECT 1 AS a\u{A0}")
    }

    func testSizeLimitCountsUTF8BytesAndIsInclusive() {
        let small = SQLGate(maxBytes: 12)
        XCTAssertEqual(try small.check("SELECT 12345").get(), "SELECT 12345")  // exactly 12 bytes
        XCTAssertEqual(rejection("SELECT 123456", small)?.code, "too_long")
        XCTAssertEqual(rejection("SELECT 'éé'", small)?.code, "too_long")  // 11 characters, 13 bytes
        XCTAssertEqual(rejection("SELECT 123456", small)?.message.contains("13 bytes; the limit is 12"), true)
        XCTAssertEqual(SQLGate(maxBytes: 10_000_000).maxBytes, SQLGate.maxBytesCeiling)
    }

    func testSyntaxErrorsCarryTheParserMessageAndPosition() {
        let r = rejection("SELECT 1 FROM WHERE x")
        XCTAssertEqual(r?.code, "syntax")
        XCTAssertEqual(r?.message.contains("at character 15"), true, r?.message ?? "")
        XCTAssertEqual(r?.message.contains("syntax error at or near \"WHERE\""), true, r?.message ?? "")
    }

    func testNotSelectNamesTheStatementKind() {
        let cases = [
            "DELETE FROM t": "DELETE", "INSERT INTO t VALUES (1)": "INSERT", "UPDATE t SET a = 1": "UPDATE",
            "EXPLAIN ANALYZE DELETE FROM t": "EXPLAIN", "COPY t TO STDOUT": "COPY", "SET search_path = x": "SET",
            "RESET ALL": "RESET", "CALL p()": "CALL", "DO $$ BEGIN END $$": "DO", "COMMIT": "COMMIT",
            "START TRANSACTION": "START TRANSACTION", "LOCK t": "LOCK", "VACUUM t": "VACUUM", "ANALYZE t": "ANALYZE",
            "LISTEN x": "LISTEN", "PREPARE q AS SELECT 1": "PREPARE", "ALTER TABLE t ADD c int": "ALTER TABLE",
            "SHOW ALL": "SHOW", "CREATE TABLE t (a int)": "CREATE TABLE", "REVOKE ALL ON t FROM u": "REVOKE",
        ]
        for (sql, kind) in cases {
            let r = rejection(sql)
            XCTAssertEqual(r?.code, "not_select", sql)
            XCTAssertEqual(r?.message.contains("this is a \(kind) statement"), true, "\(sql): \(r?.message ?? "")")
        }
    }

    func testMessagesNameWhatToChange() {
        XCTAssertEqual(
            rejection("SELECT pg_sleep(1)")?.message,
            "pg_sleep is not allowed in analyst queries; allowed functions include aggregates (count, sum, avg…), "
                + "window functions, date/time, string and math functions.")
        XCTAssertEqual(rejection("SELECT pg_catalog.set_config('a','b',false)")?.message.hasPrefix("pg_catalog.set_config "), true)
        XCTAssertEqual(rejection("SELECT public.evil()")?.message.hasPrefix("public.evil "), true)
        XCTAssertEqual(
            rejection("SELECT 1; SELECT 2")?.message, "Send one SELECT statement; remove everything after the first ';'.")
        let cte = rejection("WITH gone AS (DELETE FROM t RETURNING *) SELECT * FROM gone")
        XCTAssertEqual(cte?.message.contains("\"gone\" is a DELETE"), true, cte?.message ?? "")
        XCTAssertEqual(rejection("SELECT * FROM t FOR UPDATE")?.message.contains("Remove the FOR … clause"), true)
        XCTAssertEqual(rejection("SELECT * INTO x FROM t")?.message.contains("Remove the INTO clause"), true)
        XCTAssertEqual(rejection("SELECT * FROM t TABLESAMPLE foo(1)")?.message.contains("SYSTEM or BERNOULLI"), true)
    }

    func testCustomAllowlistIsExactAndCaseFolded() {
        let narrow = SQLGate(allowedFunctions: ["COUNT"])
        XCTAssertNoThrow(try narrow.check("SELECT count(*) FROM t").get())
        XCTAssertNoThrow(try narrow.check("SELECT pg_catalog.count(*) FROM t").get())
        XCTAssertEqual(rejection("SELECT lower('A')", narrow)?.code, "function_not_allowed")
        XCTAssertEqual(rejection("SELECT trim(' a ')", narrow)?.message.hasPrefix("pg_catalog.btrim "), true)
        XCTAssertEqual(rejection("SELECT other.count(*) FROM t", narrow)?.code, "function_not_allowed")
        XCTAssertEqual(rejection("SELECT a.b.count(*) FROM t", narrow)?.code, "function_not_allowed")
        // The default list admits the analyst staples and refuses the dangerous ones.
        for name in ["count", "date_trunc", "jsonb_array_elements", "percentile_cont", "row_number", "unnest"] {
            XCTAssertTrue(SQLGate.defaultFunctions.contains(name), name)
        }
        for name in ["pg_sleep", "set_config", "current_setting", "pg_advisory_lock", "dblink", "lo_import", "version"] {
            XCTAssertFalse(SQLGate.defaultFunctions.contains(name), name)
        }
    }

    func testDeepTreesAreRefusedOrAdmittedWithoutExhaustingASmallCallerStack() {
        // 4,000 nested operators need more stack than 512 KiB inside libpg_query; the gate must not crash even
        // when its caller runs on a thread with a small stack.
        let deepest = "SELECT " + String(repeating: "- ", count: 4000) + "x"
        let nested = "SELECT " + String(repeating: "(SELECT ", count: 900) + "1" + String(repeating: ")", count: 900)
        let shallow = "SELECT " + String(repeating: "-(", count: 400) + "x" + String(repeating: ")", count: 400)
        let results = ResultsBox()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread { [gate] in
            results.codes = [deepest, nested, shallow].map { sql in
                switch gate.check(sql) {
                case .success: return "ok"
                case .failure(let r): return r.code
                }
            }
            done.signal()
        }
        thread.stackSize = 256 << 10
        thread.start()
        XCTAssertEqual(done.wait(timeout: .now() + 15), .success)
        XCTAssertEqual(results.codes, ["too_complex", "too_complex", "ok"])
    }

    func testConcurrentChecksAgree() async {
        let gate = self.gate
        let outcomes = await withTaskGroup(of: (Int, String).self) { group in
            for i in 0..<64 {
                group.addTask {
                    let sql = i.isMultiple(of: 2) ? "SELECT sum(total) FROM analytics.orders" : "SELECT pg_sleep(\(i))"
                    switch gate.check(sql) {
                    case .success: return (i, "ok")
                    case .failure(let r): return (i, r.code)
                    }
                }
            }
            var all: [Int: String] = [:]
            for await (i, code) in group { all[i] = code }
            return all
        }
        XCTAssertEqual(outcomes.count, 64)
        for (i, code) in outcomes {
            XCTAssertEqual(code, i.isMultiple(of: 2) ? "ok" : "function_not_allowed")
        }
    }
}

// Written by the worker thread before it signals, read after the wait.
private final class ResultsBox: @unchecked Sendable {
    var codes: [String] = []
}
