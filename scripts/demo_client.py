#!/usr/bin/env python3
"""Demo client: connects to mcp-broker with the official MCP Python SDK and calls every tool.

Usage: demo_client.py URL        (Streamable HTTP, e.g. http://127.0.0.1:8080/mcp)
Authenticates with the API key in DEMO_ADMIN_KEY (scripts/demo.sh generates it), approves confirmations through
MCP elicitation, then shows identity at work: a JWT user limited to her region, another tenant, no credentials.
Prints one line per call; exits 1 if any tool that should work did not.
"""
import asyncio
import json
import os
import sys
import urllib.error
import urllib.request
import uuid

import mcp_types as types
from mcp import Client
from mcp.client.streamable_http import create_mcp_http_client, streamable_http_client
from mcp.shared.exceptions import MCPError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import identities  # noqa: E402


def connect(url: str, token: str, **kw) -> Client:
    """An SDK client that sends `Authorization: Bearer <token>` on every request."""
    transport = streamable_http_client(url, http_client=create_mcp_http_client(headers={"Authorization": f"Bearer {token}"}))
    return Client(transport, read_timeout_seconds=60, **kw)


async def approve(context, params: types.ElicitRequestParams) -> types.ElicitResult:
    """The user's side of a confirmation: the demo approves, and shows what it was asked."""
    print(f"        confirmation asked: {params.message[:110]}\n        -> the user approves")
    return types.ElicitResult(action="accept", content={"approve": True})


def first(items, key):
    for item in items or []:
        if item.get(key):
            return item[key]
    return None


async def main(url: str) -> int:
    failures = 0
    async with connect(url, os.environ["DEMO_ADMIN_KEY"], elicitation_callback=approve) as c:
        print(f"connected: {c.server_info.name} {c.server_info.version}, protocol {c.protocol_version}")
        tools, cursor = [], None
        while True:
            page = await c.list_tools(cursor=cursor, cache_mode="refresh")
            tools += page.tools
            cursor = page.next_cursor
            if cursor is None:
                break
        print(f"{len(tools)} tools: {', '.join(t.name for t in tools)}")

        ctx = {}

        async def call(name, args, progress=False):
            nonlocal failures
            seen = []

            async def on_progress(done, total, message):
                seen.append(done)
                bar = int(20 * done / total) if total else 0
                print(f"      progress {done:>7.0f}/{total or 0:<7.0f} [{'#' * bar}{'.' * (20 - bar)}] {message or ''}", flush=True)

            r = await c.call_tool(name, args, progress_callback=on_progress if progress else None)
            text = r.content[0].text if r.content else ""
            status = "ERROR" if r.is_error else "ok"
            print(f"  {status:5} {name} {json.dumps(args)[:70]}\n        -> {text[:150].replace(chr(10), ' | ')}")
            if r.is_error:
                failures += 1
            return r.structured_content or {}

        print("\nERP (simulated SAP-like system):")
        s = await call("erp__search_suppliers", {"status": "active", "page_size": 3})
        ctx["supplier"] = first(s.get("items"), "supplier_id")
        await call("erp__get_supplier", {"supplier_id": ctx["supplier"]})
        s = await call("erp__search_purchase_orders", {"status": "released", "page_size": 3})
        ctx["po"] = first(s.get("items"), "po_number")
        po = await call("erp__get_purchase_order", {"po_number": ctx["po"]})
        s = await call("erp__search_invoices", {"status": "blocked", "page_size": 3})
        ctx["invoice"] = first(s.get("items"), "invoice_id")
        await call("erp__get_invoice", {"invoice_id": ctx["invoice"]})
        inv = await call("erp__check_inventory", {"page_size": 3})
        ctx["material"] = first(inv.get("items"), "material_id")
        cc = await call("erp__list_cost_centers", {})
        ctx["cost_center"] = first(cc.get("items") or cc.get("cost_centers"), "cost_center")
        key = "demo-" + uuid.uuid4().hex[:12]
        order = {"supplier_id": ctx["supplier"], "cost_center": ctx["cost_center"],
                 "lines": [{"material_id": ctx["material"], "quantity": 5}], "idempotency_key": key}
        a = await call("erp__create_purchase_order", order)
        b = await call("erp__create_purchase_order", order)
        print(f"        idempotency: same key twice -> {a.get('po_number')} and {b.get('po_number')}"
              f" ({'one order' if a.get('po_number') == b.get('po_number') else 'TWO ORDERS: BUG'})")
        await call("erp__approve_invoice", {"invoice_id": ctx["invoice"], "idempotency_key": "demo-" + uuid.uuid4().hex[:12]})
        await call("erp__spend_report", {"from_date": "2025-07-01", "to_date": "2026-06-30", "group_by": "supplier", "top": 5}, progress=True)

        print("\nHR (simulated Workday-like system):")
        s = await call("hr__search_employees", {"department": "Engineering", "page_size": 3})
        ctx["employee"] = first(s.get("items"), "employee_id")
        e = await call("hr__get_employee", {"employee_id": ctx["employee"]})
        await call("hr__get_org_chart", {"employee_id": (e.get("manager") or {}).get("employee_id") or ctx["employee"], "depth": 1})
        await call("hr__list_departments", {})
        await call("hr__get_leave_balance", {"employee_id": ctx["employee"]})
        await call("hr__get_compensation", {"employee_id": ctx["employee"]})
        await call("hr__request_leave", {"employee_id": ctx["employee"], "leave_type": "annual", "start_date": "2026-12-21",
                                         "end_date": "2026-12-22", "idempotency_key": "demo-" + uuid.uuid4().hex[:12]})
        await call("hr__headcount_report", {"group_by": "department"}, progress=True)

        print("\nWarehouse (PostgreSQL through libpq; row-level security per tenant):")
        await call("warehouse__describe", {})
        await call("warehouse__describe", {"table": "orders"})
        await call("warehouse__revenue_by_month", {"region": "EMEA", "from_date": "2025-01-01", "to_date": "2025-07-01"})
        top = await call("warehouse__top_customers", {"from_date": "2025-01-01", "to_date": "2026-01-01", "limit": 5})
        customer = (top.get("rows") or [[1]])[0][0]
        await call("warehouse__orders_by_status", {"from_date": "2025-01-01", "to_date": "2025-12-31"})
        await call("warehouse__customer_orders", {"customer_id": customer})
        big = await call("warehouse__run_sql", {"sql": "SELECT order_id, order_date, total FROM analytics.orders ORDER BY order_id"})
        if big.get("next_cursor"):
            await call("warehouse__run_sql", {"cursor": big["next_cursor"]})
        await call("warehouse__run_sql", {"sql": "WITH q AS (SELECT c.region, date_trunc('quarter', o.order_date)::date AS quarter, "
                                                 "sum(o.total) AS revenue FROM analytics.orders o JOIN analytics.customers c USING (customer_id) "
                                                 "WHERE o.order_date >= '2025-01-01' GROUP BY 1, 2) SELECT region, quarter, revenue, "
                                                 "rank() OVER (PARTITION BY quarter ORDER BY revenue DESC) AS rank FROM q ORDER BY quarter, rank"})
        r = await c.call_tool("warehouse__run_sql", {"sql": "COMMIT; DELETE FROM analytics.orders"})
        print(f"  refused (as it must be): {r.content[0].text}")

        print("\nCRM (REST through libcurl; OAuth2 client credentials; OpenAPI-imported and declared tools):")
        acc = await call("crm__search_accounts", {"country": "DE", "limit": 5})
        account = first(acc.get("items"), "id") or "acc-0001"
        await call("crm__get_account", {"id": account})
        await call("crm__account_contacts", {"id": account, "per_page": 5})
        made = await call("crm__create_account", {"Idempotency-Key": "demo-" + uuid.uuid4().hex[:12], "body": {"name": "Demo Widgets GmbH", "country": "DE", "industry": "manufacturing"}})
        opps = await call("crm__list_opportunities", {"limit": 3})
        opp = first(opps.get("data"), "id")
        if opp:
            await call("crm__update_opportunity", {"id": opp, "body": {"stage": "negotiation"}})
        r = await c.call_tool("crm__get_account", {"id": "acc-9999"})
        print(f"  isError={r.is_error}: {r.content[0].text}")

        print("\nErrors the model can act on:")
        r = await c.call_tool("erp__get_purchase_order", {"po_number": "4599999999"})
        print(f"  isError={r.is_error}: {r.content[0].text}")
        r = await c.call_tool("erp__get_purchase_order", {"po_number": "12"})
        print(f"  isError={r.is_error}: {r.content[0].text}")
        try:
            await c.call_tool("crm__nothing", {})
        except MCPError as err:
            print(f"  protocol error {err.code}: {err}")

        print("\nResources and prompts:")
        res = await c.list_resources(cache_mode="refresh")
        print(f"  {len(res.resources)} resources, e.g. {res.resources[0].uri}")
        rr = await c.read_resource(res.resources[0].uri)
        print(f"  read {res.resources[0].uri}: {rr.contents[0].text[:100]}...")
        prompts = await c.list_prompts(cache_mode="refresh")
        print(f"  {len(prompts.prompts)} prompts: {', '.join(p.name for p in prompts.prompts)}")
        gp = await c.get_prompt("erp__summarize_open_purchase_orders", {"supplier_id": ctx["supplier"]})
        print(f"  prompt text: {gp.messages[0].content.text[:160]}...")

        called = {"erp__search_suppliers", "erp__get_supplier", "erp__search_purchase_orders", "erp__get_purchase_order",
                  "erp__search_invoices", "erp__get_invoice", "erp__check_inventory", "erp__list_cost_centers",
                  "erp__create_purchase_order", "erp__approve_invoice", "erp__spend_report", "hr__search_employees",
                  "hr__get_employee", "hr__get_org_chart", "hr__list_departments", "hr__get_leave_balance",
                  "hr__get_compensation", "hr__request_leave", "hr__headcount_report", "warehouse__describe",
                  "warehouse__revenue_by_month", "warehouse__top_customers", "warehouse__orders_by_status",
                  "warehouse__customer_orders", "warehouse__run_sql", "crm__search_accounts", "crm__get_account",
                  "crm__account_contacts", "crm__create_account", "crm__list_opportunities", "crm__update_opportunity"}
        missing = sorted({t.name for t in tools} - called)
        if missing:
            print(f"\ntools not exercised by this demo: {missing}")
    failures += await identity_tour(url)
    failures += await era_tour(url, len(tools))
    print(f"\ndemo finished: {failures} unexpected tool errors")
    return 1 if failures else 0


async def era_tour(url: str, tool_count: int) -> int:
    """Both MCP revisions on the same endpoint: a 2025-11-25 client (initialize + session) and a 2026-07-28 one
    (no session, the envelope in every request) see the same tools. Returns the number of surprises."""
    print("\nBoth MCP revisions on one endpoint:")
    surprises = 0
    for mode in ("legacy", "2026-07-28"):
        transport = streamable_http_client(url, http_client=create_mcp_http_client(headers={"Authorization": f"Bearer {os.environ['DEMO_ADMIN_KEY']}"}))
        async with Client(transport, mode=mode, read_timeout_seconds=60) as c:
            count, cursor = 0, None
            while True:
                page = await c.list_tools(cursor=cursor, cache_mode="refresh")
                count, cursor = count + len(page.tools), page.next_cursor
                if cursor is None:
                    break
            print(f"  mode {mode:<10}: protocol {c.protocol_version}, {count} tools")
            surprises += int(count != tool_count or c.protocol_version != ("2025-11-25" if mode == "legacy" else "2026-07-28"))
    return surprises


async def identity_tour(url: str) -> int:
    """Who may call what: the same endpoint, different principals. Returns the number of surprises."""
    surprises = 0
    auth_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".run", "auth")
    print("\nIdentity and policy (tenant and roles come only from the verified token or key):")
    alice = identities.mint(auth_dir, "alice", "acme", ["analyst", "regional-analyst"], {"region": "EMEA"})
    async with connect(url, alice) as c:
        names = [t.name for t in (await c.list_tools(cache_mode="refresh")).tools]
        print(f"  alice (JWT, regional analyst, EMEA) sees {len(names)} tools; run_sql visible: {'warehouse__run_sql' in names}")
        ok = await c.call_tool("warehouse__revenue_by_month", {"region": "EMEA", "from_date": "2025-01-01", "to_date": "2025-04-01"})
        no = await c.call_tool("warehouse__revenue_by_month", {"region": "AMER", "from_date": "2025-01-01", "to_date": "2025-04-01"})
        print(f"  EMEA revenue: isError={ok.is_error}; AMER revenue: isError={no.is_error}: {no.content[0].text[:130]}")
        try:
            await c.call_tool("hr__get_compensation", {"employee_id": "E00001"})
            print("  compensation: reachable (BUG)")
            surprises += 1
        except MCPError as err:
            print(f"  compensation is hidden from her, exactly like an unknown tool: {err}")
        surprises += int(ok.is_error or not no.is_error or "warehouse__run_sql" in names)
    async with connect(url, os.environ["DEMO_GLOBEX_KEY"]) as c:
        r = await c.call_tool("hr__search_employees", {"page_size": 2})
        ids = [e.get("employee_id") for e in (r.structured_content or {}).get("items", [])]
        print(f"  globex-etl (API key, tenant globex) sees globex's own employees: {ids}")
    request = urllib.request.Request(url, data=b"{}", method="POST", headers={"Content-Type": "application/json"})
    try:
        urllib.request.urlopen(request, timeout=5)
        print("  no credentials: accepted (BUG)")
        surprises += 1
    except urllib.error.HTTPError as err:
        print(f"  no credentials: HTTP {err.code}, WWW-Authenticate: {err.headers.get('WWW-Authenticate', '')[:120]}")
    return surprises


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8080/mcp")))
