// SPDX-License-Identifier: Apache-2.0

import XCTest

@testable import BrokerBackendPostgres

/// The hostile corpus: every entry must be refused with exactly its code; the legitimate queries must pass.
final class SQLGateCorpusTests: XCTestCase {
    let gate = SQLGate()

    /// (SQL, expected rejection code). Each line is one attack or mistake.
    static let hostile: [(String, String)] = [
        // More than one statement, however it is disguised.
        ("SELECT 1; SELECT 2", "multiple_statements"),
        ("COMMIT; DROP TABLE x", "multiple_statements"),
        ("select 1 -- comment\n; delete from t", "multiple_statements"),
        ("SELECT 1 /* ; */; DELETE FROM analytics.orders", "multiple_statements"),
        ("SELECT $$;$$; UPDATE analytics.orders SET total = 0", "multiple_statements"),
        ("SELECT 'it''s'; DROP TABLE analytics.orders", "multiple_statements"),
        ("SELECT 1;\nCOMMIT;\nSELECT pg_sleep(10)", "multiple_statements"),
        ("SELECT 1; ROLLBACK; SET ROLE postgres", "multiple_statements"),
        // Not a SELECT.
        ("DELETE FROM analytics.orders", "not_select"),
        ("INSERT INTO analytics.write_canary(note) VALUES ('x')", "not_select"),
        ("UPDATE analytics.orders SET total = 0", "not_select"),
        ("EXPLAIN ANALYZE DELETE FROM analytics.orders", "not_select"),
        ("EXPLAIN SELECT 1", "not_select"),
        ("COPY analytics.orders TO '/tmp/x'", "not_select"),
        ("COPY (SELECT 1) TO PROGRAM 'id'", "not_select"),
        ("SET search_path = public", "not_select"),
        ("SET LOCAL statement_timeout = 0", "not_select"),
        ("RESET ALL", "not_select"),
        ("DO $$ BEGIN PERFORM pg_sleep(1); END $$", "not_select"),
        ("CALL p()", "not_select"),
        ("LISTEN x", "not_select"),
        ("NOTIFY x, 'y'", "not_select"),
        ("PREPARE q AS SELECT 1", "not_select"),
        ("EXECUTE q", "not_select"),
        ("BEGIN", "not_select"),
        ("COMMIT", "not_select"),
        ("VACUUM analytics.orders", "not_select"),
        ("LOCK TABLE analytics.orders IN ACCESS EXCLUSIVE MODE", "not_select"),
        ("CREATE TABLE t AS SELECT 1", "not_select"),
        ("DECLARE c CURSOR WITH HOLD FOR SELECT 1", "not_select"),
        ("TRUNCATE analytics.orders", "not_select"),
        ("DROP TABLE analytics.orders", "not_select"),
        ("GRANT SELECT ON analytics.orders TO PUBLIC", "not_select"),
        ("MERGE INTO analytics.orders o USING analytics.orders s ON false WHEN NOT MATCHED THEN DO NOTHING", "not_select"),
        // SELECT INTO and row locks, at any depth.
        ("SELECT * INTO newt FROM analytics.orders", "select_into"),
        ("SELECT 1 INTO TEMP t2", "select_into"),
        ("SELECT * FROM analytics.orders FOR UPDATE", "locking"),
        ("SELECT * FROM analytics.orders FOR NO KEY UPDATE SKIP LOCKED", "locking"),
        ("SELECT * FROM analytics.orders FOR KEY SHARE NOWAIT", "locking"),
        ("SELECT * FROM (SELECT * FROM analytics.orders FOR SHARE) s", "locking"),
        ("WITH x AS (SELECT * FROM analytics.orders FOR UPDATE) SELECT * FROM x", "locking"),
        ("SELECT 1 WHERE EXISTS (SELECT 1 FROM analytics.orders FOR UPDATE)", "locking"),
        ("SELECT 1 UNION ALL (SELECT 2 FROM analytics.orders FOR UPDATE)", "locking"),
        // Data-modifying CTEs, top level and nested.
        ("WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", "data_modifying_cte"),
        ("WITH u AS (UPDATE analytics.orders SET total = 0 RETURNING 1) SELECT count(*) FROM u", "data_modifying_cte"),
        ("WITH i AS (INSERT INTO analytics.write_canary(note) VALUES ('x') RETURNING id) SELECT 1", "data_modifying_cte"),
        ("SELECT * FROM (WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d) s", "data_modifying_cte"),
        ("SELECT (WITH d AS (DELETE FROM t RETURNING 1) SELECT 1 FROM d)", "data_modifying_cte"),
        ("WITH a AS (SELECT 1), b AS (WITH c AS (DELETE FROM t RETURNING 1) SELECT * FROM c) SELECT * FROM b", "data_modifying_cte"),
        // Denied functions, in every spelling and position.
        ("SELECT set_config('a','b',false)", "function_not_allowed"),
        ("SELECT pg_catalog.set_config('role','postgres',false)", "function_not_allowed"),
        ("SELECT current_setting('search_path')", "function_not_allowed"),
        ("SELECT \"pg_sleep\"(1)", "function_not_allowed"),
        ("SELECT PG_SLEEP(1)", "function_not_allowed"),
        ("SELECT pg_sleep_for('1 s')", "function_not_allowed"),
        ("SELECT pg_sleep_until(now() + interval '1 s')", "function_not_allowed"),
        ("SELECT U&\"pg\\0073leep\"(1)", "function_not_allowed"),
        ("SELECT U&\"pg\\005fsleep\"(1)", "function_not_allowed"),
        ("SELECT U&\"pg!005fsleep\" UESCAPE '!' (1)", "function_not_allowed"),
        ("SELECT pg_advisory_lock(1)", "function_not_allowed"),
        ("SELECT pg_try_advisory_xact_lock(1)", "function_not_allowed"),
        ("SELECT pg_advisory_unlock_all()", "function_not_allowed"),
        ("SELECT pg_terminate_backend(1)", "function_not_allowed"),
        ("SELECT pg_cancel_backend(1)", "function_not_allowed"),
        ("SELECT pg_reload_conf()", "function_not_allowed"),
        ("SELECT pg_read_file('/etc/passwd')", "function_not_allowed"),
        ("SELECT pg_ls_dir('.')", "function_not_allowed"),
        ("SELECT lo_import('/etc/passwd')", "function_not_allowed"),
        ("SELECT lo_export(1, '/tmp/x')", "function_not_allowed"),
        ("SELECT lo_from_bytea(0, 'x')", "function_not_allowed"),
        ("SELECT * FROM dblink('host=evil', 'select 1') AS t(a int)", "function_not_allowed"),
        ("SELECT dblink_exec('host=evil', 'drop table x')", "function_not_allowed"),
        ("SELECT txid_current()", "function_not_allowed"),
        ("SELECT pg_notify('c', 'x')", "function_not_allowed"),
        ("SELECT query_to_xml('delete from t', true, true, '')", "function_not_allowed"),
        ("SELECT nextval('s')", "function_not_allowed"),
        ("SELECT version()", "function_not_allowed"),
        ("SELECT inet_server_addr()", "function_not_allowed"),
        ("SELECT pg_backend_pid()", "function_not_allowed"),
        ("SELECT public.evil()", "function_not_allowed"),
        ("SELECT analytics.current_tenant()", "function_not_allowed"),
        ("SELECT pg_temp.count(1)", "function_not_allowed"),
        ("SELECT \"COUNT\"(*) FROM analytics.orders", "function_not_allowed"),
        ("SELECT * FROM pg_sleep(5)", "function_not_allowed"),
        ("SELECT * FROM ROWS FROM (generate_series(1,2), pg_sleep(1)) x", "function_not_allowed"),
        ("SELECT * FROM analytics.orders o, LATERAL (SELECT pg_sleep(1)) s", "function_not_allowed"),
        ("SELECT * FROM analytics.orders ORDER BY pg_sleep(1)", "function_not_allowed"),
        ("SELECT sum(total) OVER (PARTITION BY pg_backend_pid()) FROM analytics.orders", "function_not_allowed"),
        ("SELECT sum(total) OVER w FROM analytics.orders WINDOW w AS (ORDER BY pg_sleep(0))", "function_not_allowed"),
        ("SELECT CASE WHEN total > 0 THEN pg_sleep(1) END FROM analytics.orders", "function_not_allowed"),
        ("SELECT count(*) FILTER (WHERE pg_sleep(1) IS NULL) FROM analytics.orders", "function_not_allowed"),
        ("SELECT 1 WHERE 1 = ANY (SELECT pg_advisory_lock(1))", "function_not_allowed"),
        ("SELECT coalesce(NULL, lower(pg_read_file('x')))", "function_not_allowed"),
        ("SELECT 1 GROUP BY ROLLUP (set_config('a','b',true))", "function_not_allowed"),
        ("SELECT 1 LIMIT (SELECT length(current_setting('is_superuser')))", "function_not_allowed"),
        ("VALUES (pg_sleep(1))", "function_not_allowed"),
        ("SELECT xmlparse(document '<a/>')", "function_not_allowed"),
        ("SELECT * FROM XMLTABLE('/a' PASSING '<a/>' COLUMNS x int)", "function_not_allowed"),
        // Other refused constructs.
        ("SELECT * FROM pg_temp.t", "not_allowed"),
        ("SELECT * FROM analytics.orders TABLESAMPLE evil_method(10)", "not_allowed"),
        ("SELECT * FROM analytics.orders TABLESAMPLE public.system(10)", "not_allowed"),
        ("SELECT 1 OPERATOR(public.+) 2", "not_allowed"),
        // Catalogue lookups by name, in every cast spelling.
        ("SELECT 'analytics.orders'::regclass::oid", "not_allowed"),
        ("SELECT CAST('pg_class' AS pg_catalog.regclass)", "not_allowed"),
        ("SELECT regclass 'pg_class'", "not_allowed"),
        ("SELECT '{pg_class}'::regclass[]", "not_allowed"),
        ("SELECT 'wh_acme'::REGROLE", "not_allowed"),
        ("SELECT 'lower'::regproc", "not_allowed"),
        // Malformed, empty, oversized.
        ("SELEC 1", "syntax"),
        ("SELECT 'unterminated", "syntax"),
        ("SELECT 1 /* never closed", "syntax"),
        ("SELECT E'\\000'", "syntax"),
        ("", "empty"),
        ("   \n\t ", "empty"),
        ("-- just a comment", "empty"),
        ("/* block */ ;", "empty"),
        (";;", "empty"),
        ("SELECT 1\u{0}; DROP TABLE x", "invalid"),
        ("SELECT '" + String(repeating: "x", count: 9000) + "'", "too_long"),
        ("SELECT " + String(repeating: "- ", count: 4000) + "x", "too_complex"),
        ("SELECT " + String(repeating: "(SELECT ", count: 900) + "1" + String(repeating: ")", count: 900), "too_complex"),
    ]

    /// Realistic analytics queries over the demo warehouse: all must pass unchanged.
    static let legitimate: [String] = [
        "SELECT ';' AS x",
        "SELECT $q$ ; DELETE FROM t; $q$ AS dollar, $$--$$ AS dashes /* ; */",
        "SELECT 'COMMIT; DROP TABLE x' AS text_only -- ; DELETE",
        """
        SELECT c.region, date_trunc('quarter', o.order_date) AS quarter, sum(o.total) AS revenue
        FROM analytics.orders o JOIN analytics.customers c ON c.customer_id = o.customer_id
        WHERE o.status <> 'cancelled' GROUP BY 1, 2 ORDER BY 2, 1
        """,
        """
        SELECT customer_id, total, rank() OVER (PARTITION BY customer_id ORDER BY total DESC) AS r,
               lag(total) OVER w AS previous, sum(total) OVER w AS running
        FROM analytics.orders WINDOW w AS (PARTITION BY customer_id ORDER BY order_date) LIMIT 50
        """,
        """
        WITH monthly AS (SELECT date_trunc('month', order_date)::date AS m, sum(total) AS rev
                         FROM analytics.orders GROUP BY 1)
        SELECT m, rev, round(100.0 * (rev - lag(rev) OVER (ORDER BY m)) / nullif(lag(rev) OVER (ORDER BY m), 0), 1)
        FROM monthly ORDER BY m
        """,
        """
        SELECT count(*) AS orders, count(*) FILTER (WHERE status = 'open') AS open_orders,
               avg(total)::numeric(12,2) AS avg_total, percentile_cont(0.5) WITHIN GROUP (ORDER BY total) AS median
        FROM analytics.orders
        """,
        """
        SELECT c.region, c.segment, sum(o.total) FROM analytics.orders o
        JOIN analytics.customers c USING (customer_id) GROUP BY ROLLUP (c.region, c.segment)
        """,
        """
        SELECT 'acme' AS src, count(*) FROM analytics.orders UNION ALL
        SELECT 'regions', count(*) FROM analytics.regions ORDER BY 1
        """,
        """
        SELECT p.category, p.name FROM analytics.products p
        WHERE p.product_id IN (SELECT product_id FROM analytics.order_lines GROUP BY 1 HAVING sum(quantity) > 10)
          AND EXISTS (SELECT 1 FROM analytics.order_lines l WHERE l.product_id = p.product_id)
        """,
        """
        SELECT order_id, CASE WHEN total >= 1000 THEN 'large' WHEN total >= 100 THEN 'medium' ELSE 'small' END,
               total::text, CAST(order_date AS timestamp), extract(year FROM order_date)
        FROM analytics.orders LIMIT 10
        """,
        """
        SELECT meta ->> 'channel' AS channel, meta -> 'channel', count(*) FROM analytics.orders
        WHERE meta ? 'channel' AND meta @> '{"channel":"web"}' GROUP BY 1, 2
        """,
        """
        SELECT order_id, tags, cardinality(tags) FROM analytics.orders
        WHERE tags && ARRAY['priority'] AND 'priority' = ANY (tags) AND tags @> ARRAY['priority']::text[] LIMIT 5
        """,
        """
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5)
        SELECT i, g FROM n CROSS JOIN LATERAL generate_series(1, i) g
        """,
        """
        SELECT to_char(order_date, 'YYYY-MM') AS month, string_agg(DISTINCT status, ', ' ORDER BY status),
               coalesce(max(total), 0), greatest(1, 2), min(substring(currency FROM 1 FOR 2)), trim(both ' ' FROM ' x ')
        FROM analytics.orders GROUP BY 1 ORDER BY 1 DESC LIMIT 3
        """,
        "SELECT * FROM analytics.monthly_revenue ORDER BY month DESC, region LIMIT 12",
        "SELECT * FROM analytics.orders TABLESAMPLE SYSTEM (1) REPEATABLE (42) LIMIT 5",
        "VALUES (1, 'a'), (2, 'b')",
        "TABLE analytics.regions",
        "SELECT current_date, now() AT TIME ZONE 'UTC', (DATE '2024-01-01', DATE '2024-02-01') OVERLAPS (DATE '2024-01-15', DATE '2024-03-01');",
    ]

    /// The demo's curated schema, as the plugin builds it for a tenant.
    static let scope = SQLRelationScope(
        schemas: ["analytics"],
        relations: ["customers", "ingest_events", "monthly_revenue", "order_lines", "orders", "products", "regions", "slow_report", "write_canary"],
        describeTool: "warehouse__describe")

    /// Relations outside the curated schema; the refusal names the relation as written.
    static let outOfScope: [(String, String)] = [
        ("SELECT reltuples FROM pg_class WHERE relname = 'orders'", "pg_class"),
        ("SELECT relname FROM pg_catalog.pg_class WHERE relname = 'orders'", "pg_catalog.pg_class"),
        ("SELECT n_live_tup FROM pg_stat_user_tables", "pg_stat_user_tables"),
        ("SELECT query FROM pg_stat_activity", "pg_stat_activity"),
        ("SELECT * FROM pg_catalog.pg_stat_activity", "pg_catalog.pg_stat_activity"),
        ("SELECT * FROM pg_stats WHERE tablename = 'orders'", "pg_stats"),
        ("SELECT table_name FROM information_schema.tables", "information_schema.tables"),
        ("SELECT * FROM broker_private.tenant_roles", "broker_private.tenant_roles"),
        ("SELECT * FROM tenant_roles", "tenant_roles"),
        ("SELECT * FROM public.orders", "public.orders"),
        ("SELECT * FROM \"Analytics\".orders", "Analytics.orders"),
        ("SELECT * FROM warehouse.analytics.nope, pg_roles", "pg_roles"),
        ("SELECT * FROM orders o JOIN pg_namespace n ON true", "pg_namespace"),
        ("SELECT (SELECT count(*) FROM pg_locks)", "pg_locks"),
        ("SELECT 1 WHERE EXISTS (SELECT 1 FROM pg_settings)", "pg_settings"),
        ("SELECT * FROM orders UNION ALL SELECT * FROM pg_user", "pg_user"),
        ("SELECT * FROM LATERAL (SELECT * FROM pg_database) d", "pg_database"),
        // A plain WITH does not see its own name: the body reads the catalogue.
        ("WITH pg_class AS (SELECT * FROM pg_class) SELECT * FROM pg_class", "pg_class"),
        // An earlier CTE cannot see a later one.
        ("WITH a AS (SELECT * FROM b), b AS (SELECT 1) SELECT * FROM a", "b"),
        // A CTE name is not in scope outside its statement.
        ("SELECT * FROM (WITH x AS (SELECT 1) SELECT * FROM x) s, x", "x"),
    ]

    /// Queries the curated scope admits: curated names qualified or not, and CTE names wherever they are visible.
    static let inScope: [String] = [
        "SELECT count(*) FROM orders",
        "SELECT o.order_id, c.name FROM orders o JOIN analytics.customers c USING (customer_id) LIMIT 3",
        "WITH pg_class AS (SELECT 1 AS x) SELECT * FROM pg_class",
        "WITH a AS (SELECT 1 AS x), b AS (SELECT * FROM a) SELECT * FROM b",
        "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 3) SELECT * FROM r",
        "WITH t AS (SELECT * FROM regions) SELECT * FROM t UNION ALL SELECT * FROM t",
        "SELECT * FROM orders WHERE customer_id IN (WITH c AS (SELECT customer_id FROM customers) SELECT * FROM c)",
    ]

    func testCuratedScopeRefusesEverythingElseByName() {
        for (sql, name) in Self.outOfScope {
            switch gate.check(sql, scope: Self.scope) {
            case .success:
                XCTFail("admitted \(sql)")
            case .failure(let rejection):
                XCTAssertEqual(rejection.code, "relation_not_allowed", sql)
                XCTAssertEqual(
                    rejection.message, "\(name) is not a table or view of the analytics schema; call warehouse__describe to see what you can query.", sql)
            }
            // Without a scope (the gate alone, as the corpus above) these are plain SELECTs.
            if case .failure(let rejection) = gate.check(sql), rejection.code == "relation_not_allowed" { XCTFail("unscoped check refused \(sql)") }
        }
    }

    func testCuratedScopeAdmitsCuratedNamesAndCTEs() {
        for sql in Self.inScope + Self.legitimate {
            if case .failure(let rejection) = gate.check(sql, scope: Self.scope) {
                XCTFail("refused \(sql.prefix(120).debugDescription): \(rejection)")
            }
        }
        // A curated name that starts with pg_ must be qualified: pg_catalog comes first on the search path.
        let shadowed = SQLRelationScope(schemas: ["analytics"], relations: ["pg_stats"], describeTool: "d")
        XCTAssertEqual(try? gate.check("SELECT * FROM pg_stats", scope: shadowed).get(), nil)
        XCTAssertNotNil(try? gate.check("SELECT * FROM analytics.pg_stats", scope: shadowed).get())
    }

    func testDefaultFunctionsReadNoCatalogueOrSessionState() {
        let readers: Set<String> = [
            "pg_relation_size", "pg_total_relation_size", "pg_table_size", "pg_indexes_size", "pg_database_size",
            "pg_stat_get_live_tuples", "pg_stat_get_numscans", "has_table_privilege", "has_schema_privilege",
            "has_database_privilege", "current_setting", "pg_backend_pid", "version", "inet_server_addr",
            "inet_client_addr", "txid_current", "txid_current_snapshot", "pg_current_xact_id", "obj_description",
            "col_description", "pg_get_viewdef", "pg_get_functiondef", "pg_get_indexdef", "to_regclass",
            "to_regrole", "pg_get_userbyid", "pg_postmaster_start_time", "pg_conf_load_time", "current_database",
            "pg_my_temp_schema", "pg_stat_get_activity", "pg_blocking_pids", "pg_ls_waldir", "pg_size_pretty",
        ]
        XCTAssertEqual(SQLGate.defaultFunctions.intersection(readers), [])
        let prefixes = ["pg_", "has_", "txid", "to_reg", "current_setting", "obj_", "col_", "inet_"]
        XCTAssertEqual(SQLGate.defaultFunctions.filter { f in prefixes.contains { f.hasPrefix($0) } }, [])
        for f in readers.sorted() {
            guard case .failure(let rejection) = gate.check("SELECT \(f)('x')") else { return XCTFail("admitted \(f)") }
            XCTAssertEqual(rejection.code, "function_not_allowed", f)
        }
    }

    func testHostileCorpusIsRefusedWithExactCodes() {
        XCTAssertGreaterThanOrEqual(Self.hostile.count, 40)
        for (sql, expected) in Self.hostile {
            switch gate.check(sql) {
            case .success(let text):
                XCTFail("admitted \(sql.prefix(120).debugDescription) as \(text.prefix(120)); expected \(expected)")
            case .failure(let rejection):
                XCTAssertEqual(rejection.code, expected, "\(sql.prefix(120).debugDescription): \(rejection.message)")
                XCTAssertFalse(rejection.message.isEmpty)
            }
        }
    }

    func testLegitimateAnalyticsQueriesPass() {
        XCTAssertGreaterThanOrEqual(Self.legitimate.count, 10)
        for sql in Self.legitimate {
            if case .failure(let rejection) = gate.check(sql) {
                XCTFail("refused \(sql.prefix(120).debugDescription): \(rejection)")
            }
        }
    }

    func testCodesAreStableAcrossRepeatedChecks() {
        // Dictionary order is randomised per process; the reported reason must not depend on it.
        let sql = "WITH d AS (DELETE FROM t RETURNING pg_sleep(1)) SELECT * INTO x FROM d FOR UPDATE"
        for _ in 0..<20 {
            guard case .failure(let rejection) = gate.check(sql) else { return XCTFail("admitted") }
            XCTAssertEqual(rejection.code, "data_modifying_cte")
        }
    }
}
