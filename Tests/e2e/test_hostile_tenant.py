"""One caller cannot hurt the daemon or another tenant: each known attack replayed against the real binary and the
demo stack (config/broker.yaml: ERP, HR, PostgreSQL warehouse, demo CRM).

Every scenario gets a fresh broker, so one that kills or bloats the daemon cannot spoil the next, and runs inside
`attack_window`: while it runs, the OTHER tenant calls steadily from a child process, and afterwards the
broker must be the same process, under its memory bound, and that tenant's calls must all have succeeded with
their usual data and a p99 of at most 2 x its baseline + 100 ms. Then the attacker's answers are checked: a clear,
actionable message, no raw backend text, no other tenant's data.
"""

from __future__ import annotations

import json
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from mcp.shared.exceptions import MCPError

from e2e_helpers import http_request, post_rpc, rpc
from hostile_support import (
    Bystander, DemoBroker, RawSession, assert_clean_text, attack_window, decline, prepare_demo_root, result_text,
)

pytestmark = pytest.mark.anyio

# The bystander's steady calls: read-only, deterministic, cheap.
WAREHOUSE_CALL = ("warehouse__orders_by_status", {"from_date": "2025-01-01", "to_date": "2025-03-31"})
HR_CALL = ("hr__list_departments", {})
ERP_CALL = ("erp__list_cost_centers", {})

ADVICE = re.compile(r"left\(|octet_length|substr", re.IGNORECASE)


@pytest.fixture(scope="module")
def hostile_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return prepare_demo_root(tmp_path_factory.mktemp("hostile"))


@pytest.fixture
def demo(hostile_root: Path, request: pytest.FixtureRequest) -> Iterator[DemoBroker]:
    broker = DemoBroker(hostile_root, name=request.node.name[:40]).start()
    try:
        yield broker
    finally:
        broker.stop()


def bystander(demo: DemoBroker, key: str, call: tuple[str, dict[str, Any]]) -> Bystander:
    tool, arguments = call
    return Bystander(demo.session(demo.keys[key]), tool, arguments, demo.pid).baseline()


def attempt(fn: Callable[[], dict[str, Any]]) -> dict[str, Any] | Exception:
    """The answer, or the exception instead of it: attacks must not stop the window before its checks run."""
    try:
        return fn()
    except Exception as e:  # noqa: BLE001 - recorded and asserted on after the window
        return e


def in_parallel(n: int, fn: Callable[[], Any]) -> list[Any]:
    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(lambda _: attempt(fn), range(n)))


def flatten(batches: list[Any]) -> list[Any]:
    """The replies of parallel batches (a failed batch is one exception)."""
    return [r for batch in batches for r in (batch if isinstance(batch, list) else [batch])]


def tool_error(answer: dict[str, Any] | Exception) -> str:
    """The text of an isError result or a JSON-RPC error; fails on a success or no answer."""
    assert isinstance(answer, dict), f"no answer: {answer!r}"
    if "error" in answer:
        return answer["error"]["message"]
    assert answer["result"].get("isError"), f"expected an error, got {json.dumps(answer)[:300]}"
    return result_text(answer)


def error_code(answer: dict[str, Any]) -> str | None:
    return ((answer.get("result") or {}).get("_meta") or {}).get("mcp-broker/error", {}).get("code")


# --- 1. Numbers beyond Int64 ------------------------------------------------------------------------------------

@pytest.mark.time_limit(60)
def test_huge_numbers_are_answered_not_fatal(demo: DemoBroker) -> None:
    """A Double beyond Int64 in an argument (1e17 dollars of minimum total, a page size of 1e308) once aborted the
    whole daemon. Each must get a normal result or an error naming the argument that is out of range. (HR takes no
    money arguments; its numeric ones get the same treatment.)"""
    acme = demo.session(demo.keys["DEMO_ADMIN_KEY"])
    supplier = acme.call_tool("erp__search_suppliers", {"status": "active", "page_size": 1})["result"]["structuredContent"]["items"][0]["supplier_id"]
    cost_center = acme.call_tool("erp__list_cost_centers", {})["result"]["structuredContent"]["items"][0]["cost_center"]
    material = acme.call_tool("erp__check_inventory", {"page_size": 1})["result"]["structuredContent"]["items"][0]["material_id"]
    employee = acme.call_tool("hr__search_employees", {"page_size": 1})["result"]["structuredContent"]["items"][0]["employee_id"]

    def order(**line: Any) -> dict[str, Any]:
        return {"supplier_id": supplier, "cost_center": cost_center, "idempotency_key": f"huge-{uuid.uuid4().hex[:12]}",
                "lines": [{"material_id": material, **line}]}

    # (tool, arguments, the argument a refusal must name; None: a valid call whose sums are huge)
    calls: list[tuple[str, dict[str, Any], str | None]] = [
        ("erp__search_purchase_orders", {"min_total": 1e17}, "min_total"),
        ("erp__search_purchase_orders", {"min_total": 1.7976931348623157e308}, "min_total"),
        ("erp__search_purchase_orders", {"min_total": 9223372036854775807}, "min_total"),
        ("erp__spend_report", {"from_date": "2024-01-01", "to_date": "2025-12-31", "top": 1e17}, "top"),
        ("erp__spend_report", {"from_date": "0001-01-01", "to_date": "9999-12-31", "top": 9223372036854775807}, "top"),
        ("erp__check_inventory", {"below_quantity": 1e17}, "below_quantity"),
        ("hr__search_employees", {"page_size": 1e17}, "page_size"),
        ("hr__get_org_chart", {"employee_id": employee, "depth": 1.7976931348623157e308}, "depth"),
        ("erp__create_purchase_order", order(quantity=1e17), "quantity"),
        ("erp__create_purchase_order", order(quantity=10, unit_price=1.7976931348623157e308), "unit_price"),
        ("erp__create_purchase_order", order(quantity=18446744073709551616, unit_price=1e17), "quantity"),
        ("erp__create_purchase_order", {**order(), "lines": [{"material_id": material, "quantity": 1_000_000, "unit_price": 10_000_000}] * 20}, None),
    ]
    with attack_window(demo, bystander(demo, "DEMO_GLOBEX_KEY", ERP_CALL)):
        answers = [attempt(lambda t=tool, a=args: acme.call_tool(t, a)) for tool, args, _ in calls]

    for (tool, args, argument), answer in zip(calls, answers):
        assert isinstance(answer, dict), f"{tool}: no answer: {answer!r}"
        if "error" in answer:
            assert answer["error"]["code"] == -32602, (tool, answer)
        if argument is not None and ("error" in answer or answer["result"].get("isError")):
            text = tool_error(answer)
            assert argument in text, f"{tool}: the refusal must name {argument!r}: {text}"
        assert_clean_text(json.dumps(answer))


# --- 2. A single huge column -------------------------------------------------------------------------------------

@pytest.mark.time_limit(90)
def test_oversized_column_is_refused_with_advice_and_bounded_memory(demo: DemoBroker) -> None:
    """`SELECT repeat('x', 100000000)` once grew the broker from 64 to 848 MB and answered "0 rows (truncated)" with
    a cursor that could never make progress. Target: refused, naming the column and how to shrink it."""
    acme = demo.session(demo.keys["DEMO_ADMIN_KEY"])
    sql = {"sql": "SELECT repeat('x', 100000000) AS big"}
    before_mb = demo.rss_mb()
    with attack_window(demo, bystander(demo, "DEMO_GLOBEX_KEY", WAREHOUSE_CALL)) as watch:
        answers = [attempt(lambda: acme.call_tool("warehouse__run_sql", sql, timeout=60))]
        answers += in_parallel(4, lambda: acme.call_tool("warehouse__run_sql", sql, timeout=60))
    growth = watch.peak_rss_mb - before_mb
    print(f"broker RSS {before_mb:.0f} MB before, peak {watch.peak_rss_mb:.0f} MB during (+{growth:.0f} MB)")
    assert growth < 100, f"the broker grew by {growth:.0f} MB holding a column it cannot return"
    for answer in answers:
        text = tool_error(answer)
        assert "big" in text and ADVICE.search(text), f"the message must name the column and say how to shrink it: {text}"
        assert not (answer.get("result", {}).get("structuredContent") or {}).get("next_cursor"), "a cursor that cannot make progress"
        assert_clean_text(text, allow_sqlstate=True)


# --- 3. The caller's own SQL failures ---------------------------------------------------------------------------

@pytest.mark.time_limit(60)
def test_caller_sql_errors_neither_pause_another_tenant_nor_hide_postgres_message(demo: DemoBroker) -> None:
    """Ten invalid queries from acme once opened the warehouse breaker, and globex's named query was "paused"."""
    acme = demo.session(demo.keys["DEMO_ADMIN_KEY"])
    watch = bystander(demo, "DEMO_GLOBEX_KEY", WAREHOUSE_CALL)
    with attack_window(demo, watch):
        answers = [attempt(lambda: acme.call_tool("warehouse__run_sql", {"sql": "SELECT 1 WHERE 1"})) for _ in range(10)]
    after = watch.session.call_tool(*WAREHOUSE_CALL)
    assert not after["result"].get("isError"), f"globex after the attack: {result_text(after)}"
    for answer in answers:
        text = tool_error(answer)
        assert "argument of WHERE must be type boolean" in text, f"PostgreSQL's primary message is the caller's fix: {text}"
        assert_clean_text(text, allow_sqlstate=True)


@pytest.mark.time_limit(60)
def test_own_statement_timeouts_do_not_pause_another_tenant(demo: DemoBroker) -> None:
    """acme's slow queries hit its own 5 s analyst timeout, 4 at once: that is acme's fault, not the warehouse's.
    One is CPU-heavy (a 30,000 x 30,000 cross join); three wait in analytics.slow_report (pg_sleep), so the check
    is about the broker's breaker, not about four CPU-bound PostgreSQL backends on a 2-core machine."""
    acme = demo.session(demo.keys["DEMO_ADMIN_KEY"])
    heavy = ["SELECT count(*) FROM analytics.orders a CROSS JOIN analytics.orders b"] + ["SELECT * FROM analytics.slow_report"] * 3
    watch = bystander(demo, "DEMO_GLOBEX_KEY", WAREHOUSE_CALL)
    with attack_window(demo, watch):
        with ThreadPoolExecutor(len(heavy)) as pool:
            answers = list(pool.map(lambda sql: attempt(lambda: acme.call_tool("warehouse__run_sql", {"sql": sql}, timeout=40)), heavy))
    after = watch.session.call_tool(*WAREHOUSE_CALL)
    assert not after["result"].get("isError"), f"globex after the attack: {result_text(after)}"
    status, _, body = http_request(demo.port, "GET", "/readyz", timeout=10)
    assert json.loads(body)["backends"]["warehouse"]["breaker"] == "closed", body[:300]
    for answer in answers:
        text = tool_error(answer)
        assert error_code(answer) == "timeout" and "paused" not in text, text
        assert_clean_text(text, allow_sqlstate=True)


# --- 4. A tenant nobody declared ---------------------------------------------------------------------------------

@pytest.mark.time_limit(60)
async def test_token_for_an_undeclared_tenant_is_refused_at_authentication(demo: DemoBroker) -> None:
    """A validly signed JWT for tenant `initech` (configured nowhere) once got acme's CRM data (acme's backend
    credentials are the default). Target: 401/403 with a reason, before any session exists."""
    token = demo.token(sub="intruder", tenant="initech", roles=["sales"])
    with attack_window(demo, bystander(demo, "DEMO_ADMIN_KEY", HR_CALL)):
        raw = attempt(lambda: RawSession(demo.port, token).call_tool("crm__search_accounts", {}))
        leaked: Any = None
        try:
            async with demo.client(token) as c:
                leaked = await c.call_tool("crm__search_accounts", {})
        except (Exception, BaseExceptionGroup):  # noqa: BLE001 - refused at connect: what the target requires
            pass
    assert leaked is None, f"the SDK client of an undeclared tenant got an answer: {str(leaked)[:300]}"
    assert not isinstance(raw, dict), f"an undeclared tenant got a session and an answer: {json.dumps(raw)[:300]}"
    r = _initialize(demo.port, token)
    assert r[0] in (401, 403), r
    challenge = r[1].get("www-authenticate", "")
    described = re.search(r'error_description="([^"]*)"', challenge)
    assert described and "tenant" in described.group(1).lower(), f"the challenge must say the tenant is unknown: {challenge!r}"
    assert "mcp-session-id" not in r[1]


def _initialize(port: int, bearer: str) -> tuple[int, dict[str, str], bytes]:
    r = post_rpc(port, rpc("initialize", {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "x", "version": "1"}}),
                 protocol_version=None, headers={"Authorization": f"Bearer {bearer}"})
    return r.status, r.headers, r.body


# --- 5. Statistics and mappings beyond the curated schema ------------------------------------------------------

CATALOG_PROBES = [
    "SELECT reltuples FROM pg_class WHERE relname = 'orders'",
    "SELECT n_live_tup FROM pg_stat_user_tables",
    "SELECT query FROM pg_stat_activity",
    "SELECT * FROM analytics.tenant_roles",
    "SELECT * FROM information_schema.tables",
    "SELECT 'analytics.orders'::regclass::oid",
]


@pytest.mark.time_limit(60)
def test_catalog_probes_are_refused_and_row_counts_are_the_tenants_own(demo: DemoBroker) -> None:
    """Catalog statistics reveal another tenant's volume (pg_class.reltuples counts every tenant's rows), activity
    views their queries, tenant_roles the mapping. Each is refused with a pointer to warehouse__describe."""
    globex = demo.session(demo.keys["DEMO_GLOBEX_KEY"])
    with attack_window(demo, bystander(demo, "DEMO_ADMIN_KEY", WAREHOUSE_CALL)):
        answers = [attempt(lambda q=q: globex.call_tool("warehouse__run_sql", {"sql": q})) for q in CATALOG_PROBES]
        own = globex.call_tool("warehouse__run_sql", {"sql": "SELECT count(*) AS n FROM analytics.orders"})
    assert not own["result"].get("isError"), result_text(own)
    assert own["result"]["structuredContent"]["rows"] == [[30000]], "globex has 30,000 of the 60,000 orders"
    refused = {}
    for sql, answer in zip(CATALOG_PROBES, answers):
        assert isinstance(answer, dict), f"{sql}: no answer: {answer!r}"
        refused[sql] = bool(answer.get("result", {}).get("isError")) and "warehouse__describe" in result_text(answer)
        assert_clean_text(result_text(answer), allow_sqlstate=True)
    assert all(refused.values()), "not refused with a pointer to warehouse__describe: " + \
        "; ".join(f"{q} -> {result_text(a)[:120]!r}" for (q, ok), a in zip(refused.items(), answers) if not ok)


# --- 6. Front-door and session-level abuse ---------------------------------------------------------------------

SECRET_REFERENCES = ("env:", "file:", "WH_ACME_PASSWORD", "WH_GLOBEX_PASSWORD", "CRM_CLIENT_SECRET", "CRM_API_KEY", "ERP_PASSWORD", "HR_API_KEY")


@pytest.mark.time_limit(60)
def test_readyz_flood_neither_drains_a_tenant_pool_nor_shows_secret_names(demo: DemoBroker) -> None:
    """/readyz needs no credentials and checks every backend as the stdio principal (acme): a flood of it must not
    take acme's warehouse connections, and its body must not name where secrets live."""
    with attack_window(demo, bystander(demo, "DEMO_ADMIN_KEY", WAREHOUSE_CALL)):
        replies = in_parallel(8, lambda: [_get_readyz(demo.port) for _ in range(40)])  # 320 GETs
    flat = flatten(replies)
    assert all(not isinstance(r, Exception) for r in flat), [r for r in flat if isinstance(r, Exception)][:3]
    assert {status for status, _ in flat} <= {200, 429, 503}, {status for status, _ in flat}
    for _, body in flat:
        assert not any(ref in body for ref in SECRET_REFERENCES), f"/readyz names a secret reference: {body[:400]}"


def _get_readyz(port: int) -> tuple[int, str]:
    status, _, body = http_request(port, "GET", "/readyz", timeout=15)
    return status, body.decode(errors="replace")


@pytest.mark.time_limit(60)
def test_session_flood_by_one_principal_keeps_other_principals_sessions(hostile_root: Path) -> None:
    """With the session table bounded (max_sessions: 100 here), one API key opening 300 sessions must only ever
    end its own. globex's idle session, opened first and so the least recently used, must keep working."""
    config = hostile_root / "config" / "broker-sessions.yaml"
    text = (hostile_root / "config" / "broker.yaml").read_text()
    bounded = text.replace("    max_body_bytes: 262144\n", "    max_body_bytes: 262144\n    max_sessions: 100\n")
    assert bounded != text, "the demo configuration's http section changed; place max_sessions anew"
    config.write_text(bounded)
    demo = DemoBroker(hostile_root, name="sessions", config=config).start()
    try:
        idle = demo.session(demo.keys["DEMO_GLOBEX_KEY"])
        assert not idle.call_tool(*HR_CALL)["result"].get("isError")
        flooder = demo.keys["DEMO_ANALYST_KEY"]
        with attack_window(demo, bystander(demo, "DEMO_GLOBEX_KEY", HR_CALL)):
            replies = in_parallel(8, lambda: [_initialize(demo.port, flooder) for _ in range(38)])  # 304 sessions
        flat = flatten(replies)
        assert all(not isinstance(r, Exception) for r in flat), [r for r in flat if isinstance(r, Exception)][:3]
        for status, _, body in flat:
            assert status == 200 or (status in (429, 503) and body), (status, body[:200])
        after = idle.post(rpc("tools/call", {"name": HR_CALL[0], "arguments": HR_CALL[1]}))
        assert after.status == 200, f"globex's idle session was ended by bi-dashboard's flood: HTTP {after.status} {after.body[:200]!r}"
    finally:
        demo.stop()


@pytest.mark.time_limit(60)
async def test_resource_reads_stay_tenant_bound(demo: DemoBroker) -> None:
    """resources/read runs through the same tenant binding as tools/call: acme's purchase order through its
    template URI, and globex reading the same URI never sees acme's document."""
    acme_key, globex_key = demo.keys["DEMO_ADMIN_KEY"], demo.keys["DEMO_GLOBEX_KEY"]
    with attack_window(demo, bystander(demo, "DEMO_GLOBEX_KEY", HR_CALL)):
        async with demo.client(acme_key) as acme, demo.client(globex_key) as globex:
            po = (await acme.call_tool("erp__search_purchase_orders", {"page_size": 1})).structured_content["items"][0]
            uri = f"broker://erp/purchase-orders/{po['po_number']}"
            mine = [await acme.read_resource(uri) for _ in range(20)]
            try:
                theirs = (await globex.read_resource(uri)).contents[0].text
            except MCPError as e:
                theirs = None
                # 2026-07-28 retired -32002: a missing resource is -32602 there, naming the URI in both eras.
                assert e.code == (-32602 if globex.protocol_version == "2026-07-28" else -32002), e
                assert isinstance(e.data, dict) and e.data.get("uri") == uri, e
    assert all(po["po_number"] in r.contents[0].text for r in mine)
    assert theirs != mine[0].contents[0].text, "globex read acme's purchase order"


@pytest.mark.time_limit(60)
async def test_hidden_confirm_tool_answers_exactly_like_an_unknown_tool(demo: DemoBroker) -> None:
    """bi-dashboard (analyst only) may not see erp__approve_invoice, a confirm tool. Answering it differently from
    an unknown tool (another error, or an SSE stream opened for the confirmation) would reveal that it exists."""
    analyst = demo.keys["DEMO_ANALYST_KEY"]
    args = {"invoice_id": "5100000001", "idempotency_key": "probe-" + uuid.uuid4().hex[:10]}
    with attack_window(demo, bystander(demo, "DEMO_GLOBEX_KEY", HR_CALL)):
        async with demo.client(analyst, elicitation_callback=decline) as c:
            with pytest.raises(MCPError) as hidden:
                await c.call_tool("erp__approve_invoice", args)
            with pytest.raises(MCPError) as unknown:
                await c.call_tool("erp__no_such_tool", args)
        raw = demo.session(analyst, capabilities={"elicitation": {}})
        raw_hidden = raw.post({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "erp__approve_invoice", "arguments": args}})
        raw_unknown = raw.post({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "erp__no_such_tool", "arguments": args}})
    assert hidden.value.code == unknown.value.code
    assert str(hidden.value).replace("erp__approve_invoice", "X") == str(unknown.value).replace("erp__no_such_tool", "X")
    assert (raw_hidden.status, raw_hidden.content_type) == (raw_unknown.status, raw_unknown.content_type), \
        (raw_hidden.status, raw_hidden.content_type, raw_unknown.status, raw_unknown.content_type)
    assert raw_hidden.content_type.startswith("application/json"), raw_hidden.content_type
    assert raw_hidden.body.decode().replace("erp__approve_invoice", "X") == raw_unknown.body.decode().replace("erp__no_such_tool", "X")


TRAVERSALS = [
    ("crm__get_account", {"id": "../admin"}),
    ("crm__get_account", {"id": "..%2Fadmin"}),
    ("crm__get_account", {"id": "acc-0001/../../admin"}),
    ("crm__account_contacts", {"id": "../accounts"}),
    ("crm__update_opportunity", {"id": "../../accounts/acc-0001"}),
]


@pytest.mark.time_limit(60)
def test_rest_path_traversal_is_refused_as_invalid_arguments(demo: DemoBroker) -> None:
    """A path parameter that climbs out of its route (`../admin`, encoded or not) is refused before the CRM is
    asked, as invalid arguments naming `id` — never another route's data."""
    acme = demo.session(demo.keys["DEMO_ADMIN_KEY"], capabilities={})
    with attack_window(demo, bystander(demo, "DEMO_GLOBEX_KEY", HR_CALL)):
        answers = [attempt(lambda t=t, a=a: acme.call_tool(t, a)) for t, a in TRAVERSALS]
    for (tool, args), answer in zip(TRAVERSALS, answers):
        text = tool_error(answer)
        assert error_code(answer) == "invalid_arguments" and "'id'" in text, (tool, args, text)
        assert_clean_text(text)
