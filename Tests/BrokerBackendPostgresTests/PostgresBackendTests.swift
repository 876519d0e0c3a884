// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import Logging
import MCPCore
import XCTest

@testable import BrokerBackendPostgres

/// The Postgres backend against the real demo warehouse (started by scripts/pg.sh; credentials in the environment).
final class PostgresBackendTests: XCTestCase {
    static let port = ProcessInfo.processInfo.environment["WH_PORT"] ?? "55432"

    static func yaml(analystTimeoutMs: Int = 5000, maxRows: Int = 50, acmePassword: String = "env:WH_ACME_PASSWORD") -> String {
        """
        connection: { host: 127.0.0.1, port: \(port), database: warehouse, sslmode: disable, connect_timeout_ms: 2000 }
        tenants:
          acme: { user: wh_acme, password: \(acmePassword) }
          globex: { user: wh_globex, password: env:WH_GLOBEX_PASSWORD }
        pool: { max: 3, acquire_timeout_ms: 2000 }
        schema: analytics
        analyst_sql: { enabled: true, max_rows: \(maxRows), timeout_ms: \(analystTimeoutMs) }
        queries:
          typed:
            description: Echo every parameter type.
            sql: SELECT $1::text AS s, $2::int AS i, $3::numeric AS n, $4::boolean AS b, $5::date AS d, $6::timestamptz AS t, $7 AS tenant, $8 AS who
            parameters:
              s: { type: string, required: true, max_length: 20 }
              i: { type: integer, required: true, minimum: 1 }
              n: { type: number }
              b: { type: boolean, required: true }
              d: { type: date, required: true }
              t: { type: timestamp, required: true }
              tenant: { bind: tenant }
              who: { bind: principal }
          session_state:
            description: Report session settings (to prove pooled calls leak no state).
            sql: SELECT current_setting('statement_timeout') AS st, current_setting('search_path') AS sp, current_setting('transaction_read_only') AS ro, $1 AS t
            parameters: { t: { bind: tenant } }
          slow:
            description: A view that sleeps.
            sql: SELECT done, $1 AS t FROM analytics.slow_report
            parameters: { t: { bind: tenant } }
            timeout_ms: 300
          padded:
            description: A padded string of the requested length.
            sql: SELECT repeat('x', $1) AS pad, $2 AS t
            parameters:
              n: { type: integer, required: true, minimum: 0 }
              t: { bind: tenant }
          broken:
            description: A query whose SQL names a column that does not exist.
            sql: SELECT nosuch FROM analytics.orders WHERE tenant = $1
            parameters: { t: { bind: tenant } }
        """
    }

    // The harness's helpers, under the names these tests have always used.
    let harness = PGBackendHarness()
    func backend(_ yaml: String = PostgresBackendTests.yaml()) throws -> any Backend { try harness.backend(yaml) }
    func context(_ tenant: String = "acme", id: String = "ana") -> CallContext { harness.context(tenant, id: id) }
    func call(_ b: any Backend, _ tool: String, _ args: [String: JSONValue], _ ctx: CallContext? = nil) async throws -> JSONValue {
        try await harness.call(b, tool, args, ctx)
    }
    func brokerError(_ b: any Backend, _ tool: String, _ args: [String: JSONValue], _ ctx: CallContext? = nil) async -> BrokerError? {
        await harness.brokerError(b, tool, args, ctx)
    }

    func testEveryParameterTypeAndIdentityBinding() async throws {
        let b = try backend()
        let r = try await call(b, "typed", ["s": "O'Brien; DROP", "i": 42, "n": 1234.5678, "b": true, "d": "2024-02-29", "t": "2024-03-01T10:00:00Z"])
        let row = r["rows"]?.arrayValue?.first?.arrayValue ?? []
        XCTAssertEqual(row.first, "O'Brien; DROP")
        XCTAssertEqual(row[1], .int(42))
        XCTAssertEqual(row[3], .bool(true))
        XCTAssertEqual(row[4], "2024-02-29")
        XCTAssertEqual(row[5].stringValue?.hasPrefix("2024-03-01T10:00:00"), true)
        XCTAssertEqual(row[6], "acme", "tenant bound from identity")
        XCTAssertEqual(row[7], "ana", "principal bound from identity")
        XCTAssertEqual(r["columns"]?.arrayValue?[2]["type"], "numeric")
        XCTAssertEqual(row[2], "1234.5678", "numeric kept as exact text, never a lossy double")
        let nullable = try await call(b, "typed", ["s": "x", "i": 1, "b": false, "d": "2024-01-01", "t": "2024-01-01T00:00:00Z"])
        XCTAssertEqual(nullable["rows"]?.arrayValue?.first?.arrayValue?[2], .null)
    }

    func testTenantIsolationByLoginRole() async throws {
        let b = try backend()
        let acme = try await call(b, "run_sql", ["sql": "SELECT count(*) AS n, min(tenant) AS lo, max(tenant) AS hi FROM analytics.orders"])
        let globex = try await call(b, "run_sql", ["sql": "SELECT count(*) AS n, min(tenant) AS lo, max(tenant) AS hi FROM analytics.orders"], context("globex"))
        XCTAssertEqual(acme["rows"]?.arrayValue?.first?.arrayValue?[1], "acme")
        XCTAssertEqual(acme["rows"]?.arrayValue?.first?.arrayValue?[2], "acme")
        XCTAssertEqual(globex["rows"]?.arrayValue?.first?.arrayValue?[1], "globex")
        let other = await brokerError(b, "run_sql", ["sql": "SELECT 1"], context("initech"))
        XCTAssertEqual(other?.code, .forbidden)
    }

    func testRowCapTruncationAndTenantBoundCursor() async throws {
        let b = try backend()
        let first = try await call(b, "run_sql", ["sql": "SELECT order_id FROM analytics.orders ORDER BY order_id"])
        XCTAssertEqual(first["row_count"], 50)
        XCTAssertEqual(first["truncated"], true)
        XCTAssertTrue(first["notice"]?.stringValue?.contains("50-row cap") ?? false)
        guard let cursor = first["next_cursor"]?.stringValue else { return XCTFail("no cursor") }
        let second = try await call(b, "run_sql", ["cursor": .string(cursor)])
        let a = first["rows"]?.arrayValue?.compactMap { $0.arrayValue?.first?.intValue } ?? []
        let c = second["rows"]?.arrayValue?.compactMap { $0.arrayValue?.first?.intValue } ?? []
        XCTAssertEqual(c.count, 50)
        XCTAssertTrue(Set(a).isDisjoint(with: c))
        XCTAssertGreaterThan(c.first ?? 0, a.last ?? 0)
        let stolen = await brokerError(b, "run_sql", ["cursor": .string(cursor)], context("globex"))
        XCTAssertEqual(stolen?.code, .invalidArguments, "a cursor is bound to the tenant that created it")
    }

    func testTimeoutsDoNotHangTheCall() async throws {
        let b = try backend(Self.yaml(analystTimeoutMs: 400))
        let start = ContinuousClock.now
        let e = await brokerError(b, "run_sql", ["sql": "SELECT * FROM analytics.slow_report"])
        XCTAssertEqual(e?.code, .timeout)
        XCTAssertTrue(e?.message.contains("longer than") ?? false, e?.message ?? "")
        let named = await brokerError(b, "slow", [:])
        XCTAssertEqual(named?.code, .timeout)
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(5))
        let ok = try await call(b, "run_sql", ["sql": "SELECT 1 AS one"])
        XCTAssertEqual(ok["rows"]?.arrayValue?.first?.arrayValue?.first, 1, "the pool recovered after the cancelled queries")
    }

    func testHostileSQLIsRefusedWithZeroWritesAndNoSessionLeaks() async throws {
        let b = try backend()
        let hostile = [
            "COMMIT; INSERT INTO analytics.write_canary(note) VALUES ('x')",
            "SELECT 1; INSERT INTO analytics.write_canary(note) VALUES ('x')",
            "WITH d AS (INSERT INTO analytics.write_canary(note) VALUES ('x') RETURNING *) SELECT * FROM d",
            "SELECT set_config('statement_timeout', '0', false)",
            "SELECT pg_advisory_lock(42)",
            "SELECT * FROM analytics.orders FOR UPDATE",
            "SELECT * INTO analytics.stolen FROM analytics.orders",
            "SET search_path = pg_temp",
            "SELECT 1 /* ; */ ; DELETE FROM analytics.write_canary",
            "select pg_sleep(5)",
            "SELECT \"pg_sleep\"(5)",
            "INSERT INTO analytics.write_canary(note) VALUES ('x')",
        ]
        for sql in hostile {
            let e = await brokerError(b, "run_sql", ["sql": .string(sql)])
            XCTAssertEqual(e?.code, .invalidArguments, sql)
            XCTAssertTrue(e?.message.hasPrefix("Query refused:") ?? false, sql)
        }
        let canary = try await call(b, "run_sql", ["sql": "SELECT count(*) FROM analytics.write_canary"])
        XCTAssertEqual(canary["rows"]?.arrayValue?.first?.arrayValue?.first, 0)
        for _ in 0..<6 {
            let s = try await call(b, "session_state", [:])
            let row = s["rows"]?.arrayValue?.first?.arrayValue ?? []
            // Named queries run in their own transaction with SET LOCAL statement_timeout (the query's 10 s budget):
            // never a value a hostile statement tried to leave behind, and read-only unless declared a write.
            XCTAssertEqual(row.first, "10s", "statement_timeout is the call's own on every pooled connection")
            XCTAssertEqual(row[1], "\"$user\", public")
            XCTAssertEqual(row[2], "on", "a named query that is not declared a write runs read-only")
        }
    }

    func testLegitimateAnalyticsQueriesRun() async throws {
        let b = try backend()
        let queries = [
            "SELECT c.region, count(*) AS orders, sum(o.total) AS revenue FROM analytics.orders o JOIN analytics.customers c USING (customer_id) GROUP BY c.region ORDER BY 1",
            "WITH m AS (SELECT date_trunc('month', order_date) AS month, sum(total) AS t FROM analytics.orders GROUP BY 1) SELECT month, t, lag(t) OVER (ORDER BY month) AS prev FROM m ORDER BY month LIMIT 12",
            "SELECT status, count(*) FILTER (WHERE 'priority' = ANY(tags)) AS priority, round(avg(total), 2) FROM analytics.orders GROUP BY ROLLUP (status)",
            "SELECT meta->>'channel' AS channel, count(*) FROM analytics.orders GROUP BY 1 ORDER BY 2 DESC",
            "SELECT customer_id, rank() OVER (PARTITION BY region ORDER BY created_at) FROM analytics.customers ORDER BY 1 LIMIT 5",
        ]
        for sql in queries {
            let r = try await call(b, "run_sql", ["sql": .string(sql)])
            XCTAssertGreaterThan(r["row_count"]?.intValue ?? 0, 0, sql)
        }
        let typed = try await call(b, "run_sql", ["sql": "SELECT tags, meta, created_at, total FROM analytics.orders WHERE 'priority' = ANY(tags) ORDER BY order_id LIMIT 1"])
        let row = typed["rows"]?.arrayValue?.first?.arrayValue ?? []
        XCTAssertEqual(row.first, ["priority"], "text[] becomes a JSON array")
        XCTAssertNotNil(row[1]["channel"], "jsonb becomes JSON")
        XCTAssertEqual(row[2].stringValue?.contains("T"), true, "timestamptz in ISO 8601")
    }

    func testDescribeSchemaAndErrors() async throws {
        let b = try backend()
        let list = try await call(b, "describe", [:])
        let names = list["tables"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        XCTAssertTrue(names.contains("orders") && names.contains("monthly_revenue"), "\(names)")
        let orders = try await call(b, "describe", ["table": "orders"])
        XCTAssertTrue(orders["table"]?["columns"]?.arrayValue?.contains { $0["name"] == "total" } ?? false)
        let missing = await brokerError(b, "describe", ["table": "nope"])
        XCTAssertEqual(missing?.code, .notFound)
        let schema = try await b.readResource(uri: "broker://wh/schema", context: context())
        XCTAssertTrue(schema.first?.text.contains("\"orders\"") ?? false)
        let unknownColumn = await brokerError(b, "run_sql", ["sql": "SELECT nosuchcolumn FROM analytics.orders"])
        XCTAssertEqual(unknownColumn?.code, .invalidArguments)
        XCTAssertEqual(
            unknownColumn?.message,
            "The query failed: column \"nosuchcolumn\" does not exist (SQLSTATE 42703). Fix the SQL and call again; wh__describe lists the tables and columns you can query.")
    }

    func testPlaceholdersAreCheckedAtLoad() {
        let yaml = Self.yaml().replacingOccurrences(of: "$7 AS tenant, $8 AS who", with: "$9 AS tenant")
        XCTAssertThrowsError(try backend(yaml)) { e in
            XCTAssertTrue(String(describing: e).contains("queries.typed.sql: placeholders do not match"), "\(e)")
        }
        XCTAssertThrowsError(try backend(Self.yaml().replacingOccurrences(of: "env:WH_GLOBEX_PASSWORD", with: "hunter2"))) { e in
            XCTAssertTrue(String(describing: e).contains("tenants.globex.password: inline secrets are refused"), "\(e)")
        }
    }

    func testWrongCredentialsAreReportedNotLeaked() async throws {
        setenv("WH_TEST_WRONG", "definitely-wrong", 1)
        let b = try backend(Self.yaml(acmePassword: "env:WH_TEST_WRONG"))
        let e = await brokerError(b, "run_sql", ["sql": "SELECT 1"])
        XCTAssertEqual(e?.code, .backendCredentialsRejected)
        XCTAssertFalse(e?.message.contains("definitely-wrong") ?? true)
        let health = await b.checkHealth(context: context())
        XCTAssertFalse(health.healthy)
    }
}
