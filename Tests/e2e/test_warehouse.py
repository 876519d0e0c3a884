"""The PostgreSQL warehouse backend end to end: the official MCP client over HTTP and stdio, the real binary,
the real database (started by scripts/pg.sh; credentials come from the environment)."""

from __future__ import annotations

from contextlib import AsyncExitStack

import pytest
from mcp.shared.exceptions import MCPError

from sdk_support import open_client

pytestmark = pytest.mark.anyio


async def test_named_query_with_identity_binding_over_http(http_broker) -> None:
    async with AsyncExitStack() as stack:
        c = await open_client(stack, http_broker.url, "http", "legacy")
        names = {t.name for t in c.all_tools}
        assert {"warehouse__revenue_by_month", "warehouse__top_customers", "warehouse__describe", "warehouse__run_sql"} <= names
        schema = c.tool("warehouse__revenue_by_month").input_schema
        assert "tenant" not in schema["properties"], "identity-bound parameters are not model arguments"
        r = await c.client.call_tool("warehouse__revenue_by_month", {"region": "EMEA", "from_date": "2024-01-01", "to_date": "2025-01-01"})
        assert not r.is_error, r.content[0].text
        rows = r.structured_content["rows"]
        assert len(rows) == 12 and all(row[1] == "EMEA" for row in rows)
        assert [col["name"] for col in r.structured_content["columns"]] == ["month", "region", "revenue", "orders"]
        bad = await c.client.call_tool("warehouse__revenue_by_month", {"region": "MARS", "from_date": "2024-01-01", "to_date": "2025-01-01"})
        assert bad.is_error and "region" in bad.content[0].text


async def test_analyst_sql_gate_truncation_and_cursor_over_stdio(connect_stdio) -> None:
    async with connect_stdio("legacy") as c:
        r = await c.client.call_tool("warehouse__run_sql", {"sql": "SELECT order_id, total FROM analytics.orders ORDER BY order_id"})
        assert not r.is_error, r.content[0].text
        sc = r.structured_content
        assert sc["truncated"] is True and sc["row_count"] == 200 and sc["next_cursor"]
        assert "Truncated" in r.content[0].text
        page2 = await c.client.call_tool("warehouse__run_sql", {"cursor": sc["next_cursor"]})
        assert page2.structured_content["rows"][0][0] > sc["rows"][-1][0]
        refused = await c.client.call_tool("warehouse__run_sql", {"sql": "COMMIT; DELETE FROM analytics.orders"})
        assert refused.is_error and refused.content[0].text.startswith("Query refused:")
        assert "correlation id" in refused.content[0].text
        locked = await c.client.call_tool("warehouse__run_sql", {"sql": "SELECT pg_advisory_lock(1)"})
        assert locked.is_error and "pg_advisory_lock" in locked.content[0].text


async def test_hostile_tenant_sql_is_bounded_explained_and_scoped_over_stdio(connect_stdio) -> None:
    """A 100 MB value is refused by name without being buffered, a type error says what PostgreSQL said (and
    repeating it does not pause the warehouse), and catalogue relations are refused."""
    async with connect_stdio("legacy") as c:
        big = await c.client.call_tool("warehouse__run_sql", {"sql": "SELECT repeat('x', 100000000) AS big"})
        assert big.is_error
        assert big.content[0].text.startswith(
            "Column big of row 1 is 100,000,000 bytes, over the 1,048,576-byte answer limit; select left(big, 1000) or octet_length(big) instead."
        ), big.content[0].text
        for _ in range(6):
            bad = await c.client.call_tool("warehouse__run_sql", {"sql": "SELECT 1 WHERE 1"})
            assert bad.is_error and bad.content[0].text.startswith(
                "The query failed: argument of WHERE must be type boolean, not type integer (SQLSTATE 42804). Fix the SQL and call again."
            ), bad.content[0].text
        ok = await c.client.call_tool("warehouse__run_sql", {"sql": "SELECT count(*) AS n FROM orders"})
        assert not ok.is_error, ok.content[0].text
        assert ok.structured_content["rows"][0][0] > 0
        stats = await c.client.call_tool("warehouse__run_sql", {"sql": "SELECT relname, n_live_tup FROM pg_stat_user_tables"})
        assert stats.is_error and stats.content[0].text.startswith(
            "Query refused: pg_stat_user_tables is not a table or view of the analytics schema; call warehouse__describe to see what you can query."
        ), stats.content[0].text
        paged = await c.client.call_tool(
            "warehouse__run_sql", {"sql": "SELECT g, repeat('x', 400000) AS s FROM generate_series(1, 4) g ORDER BY g"})
        assert not paged.is_error and [r[0] for r in paged.structured_content["rows"]] == [1, 2]
        rest = await c.client.call_tool("warehouse__run_sql", {"cursor": paged.structured_content["next_cursor"]})
        assert [r[0] for r in rest.structured_content["rows"]] == [3, 4]


async def test_schema_discovery_resources_and_prompt(http_broker) -> None:
    async with AsyncExitStack() as stack:
        c = await open_client(stack, http_broker.url, "http", "legacy")
        uris, cursor = [], None
        while True:  # the test config pages every 5 items
            page = await c.client.list_resources(cursor=cursor, cache_mode="refresh")
            uris += [str(r.uri) for r in page.resources]
            cursor = page.next_cursor
            if cursor is None:
                break
        assert "broker://warehouse/schema" in uris
        schema = await c.client.read_resource("broker://warehouse/schema")
        assert '"orders"' in schema.contents[0].text
        table = await c.client.read_resource("broker://warehouse/tables/orders")
        assert '"total"' in table.contents[0].text
        with pytest.raises(MCPError) as e:
            await c.client.read_resource("broker://warehouse/tables/no_such_table")
        assert e.value.code == -32002
        d = await c.client.call_tool("warehouse__describe", {"table": "customers"})
        assert not d.is_error and any(col["name"] == "segment" for col in d.structured_content["table"]["columns"])
        p = await c.client.get_prompt("warehouse__analyze_question", {"question": "Which region grew fastest?"})
        assert "warehouse__run_sql" in p.messages[0].content.text


@pytest.mark.time_limit(90)
async def test_recovers_from_a_database_restart_without_restarting_the_broker(connect_stdio) -> None:
    """PostgreSQL restarts under steady calls: failures only while it is down, all retriable; then calls succeed."""
    import subprocess
    import threading
    import time
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    async with connect_stdio("legacy") as c:
        sql = {"sql": "SELECT count(*) AS n FROM analytics.regions"}
        ok = await c.client.call_tool("warehouse__run_sql", sql)
        assert not ok.is_error, ok.content[0].text
        done = threading.Event()
        result: dict[str, int] = {}

        def restart() -> None:
            result["rc"] = subprocess.run([str(root / "scripts" / "pg.sh"), "restart"], capture_output=True, timeout=60).returncode
            done.set()

        threading.Thread(target=restart, daemon=True).start()
        failures, after, calls = [], 0, 0
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline and after < 5:
            r = await c.client.call_tool("warehouse__run_sql", sql)
            calls += 1
            if r.is_error:
                failures.append(r.content[0].text)
            elif done.is_set():
                after += 1
            await __import__("anyio").sleep(0.05)
        assert result.get("rc") == 0, "scripts/pg.sh restart failed"
        assert after >= 5, f"calls did not recover after the restart ({calls} calls, failures: {failures[:3]})"
        assert all("retriable" in f and "warehouse" in f for f in failures), failures[:3]
