// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import MCPCore
import XCTest

@testable import BrokerBackendPostgres

/// Analyst SQL sees only the curated schema: no catalogue, no statistics, no tenant mapping. Real warehouse.
final class WarehouseScopeTests: XCTestCase {
    let support = PGBackendHarness()

    func testCatalogueAndStatisticsAreRefusedByName() async throws {
        let b = try support.backend()
        let refused = [
            ("SELECT reltuples FROM pg_class WHERE relname = 'orders'", "pg_class"),
            ("SELECT n_live_tup FROM pg_stat_user_tables WHERE relname = 'orders'", "pg_stat_user_tables"),
            ("SELECT query FROM pg_stat_activity", "pg_stat_activity"),
            ("SELECT * FROM broker_private.tenant_roles", "broker_private.tenant_roles"),
            ("SELECT table_name FROM information_schema.tables", "information_schema.tables"),
        ]
        for (sql, relation) in refused {
            let e = await support.brokerError(b, "run_sql", ["sql": .string(sql)], support.context("globex"))
            XCTAssertEqual(
                e?.message, "Query refused: \(relation) is not a table or view of the analytics schema; call wh__describe to see what you can query.", sql)
            XCTAssertEqual(e?.isCallerFault, true, sql)
        }
        let cast = await support.brokerError(b, "run_sql", ["sql": "SELECT 'analytics.orders'::regclass::oid"])
        XCTAssertEqual(cast?.message.hasPrefix("Query refused: A cast to regclass is not allowed"), true, cast?.message ?? "")
    }

    func testUnqualifiedCuratedNamesResolveToTheCuratedSchema() async throws {
        let b = try support.backend()
        let own = try await support.call(b, "run_sql", ["sql": "SELECT count(*) AS n FROM orders"], support.context("globex"))
        let qualified = try await support.call(b, "run_sql", ["sql": "SELECT count(*) AS n FROM analytics.orders"], support.context("globex"))
        XCTAssertEqual(own["rows"], qualified["rows"])
        XCTAssertGreaterThan(own["rows"]?.arrayValue?.first?.arrayValue?.first?.intValue ?? 0, 0)
        let cte = try await support.call(b, "run_sql", ["sql": "WITH pg_class AS (SELECT 7 AS x) SELECT x FROM pg_class"])
        XCTAssertEqual(cte["rows"]?.arrayValue?.first?.arrayValue?.first, 7, "a CTE named like a catalogue table is the caller's own")
    }

    func testTheTenantMappingIsNeitherListedNorReadable() async throws {
        let b = try support.backend()
        let list = try await support.call(b, "describe", [:])
        let names = list["tables"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        XCTAssertTrue(names.contains("orders"), "\(names)")
        XCTAssertFalse(names.contains("tenant_roles"), "\(names)")
        let schema = try await b.readResource(uri: "broker://wh/schema", context: support.context())
        XCTAssertFalse(schema.first?.text.contains("tenant_roles") ?? true)
        // Row-level security still works through the private mapping.
        let acme = try await support.call(b, "run_sql", ["sql": "SELECT DISTINCT tenant FROM orders"])
        XCTAssertEqual(acme["rows"], [["acme"]])
        // Even bypassing the gate, the tenant role cannot look into the private schema.
        let conn = try await PGTestSupport.connectAcme()
        let direct = await PGTestSupport.errorKind { try await conn.query("SELECT * FROM broker_private.tenant_roles", parameters: [], rowLimit: 10, byteLimit: 1 << 16) }
        XCTAssertEqual(direct?.sqlState, "42501")
        conn.close()
    }
}
