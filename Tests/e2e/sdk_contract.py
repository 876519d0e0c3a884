"""The MCP contract checked through the official Python SDK, identical for every transport and connect mode.

Test modules subclass ``SDKContract`` and provide a ``mcp`` fixture (a ``sdk_support.Connected``) parametrized over
the connect modes (``sdk_support.MODES``); pytest collects the inherited test methods per subclass. The assertions
are the same in every mode except where the 2026-07-28 revision changed the protocol: the handshake (initialize vs
server/discover), ping and logging/setLevel (removed in 2026), log delivery (per-request opt-in in 2026) and the
unknown-resource error code (-32002 vs -32602).
"""

from __future__ import annotations

import json
import time
from contextlib import AsyncExitStack
from typing import Any

import anyio
import jsonschema
import mcp_types as types
import pytest
from mcp.shared.exceptions import MCPError

from sdk_support import MODERN_VERSION, SUPPORTED_VERSIONS, Connected, open_sibling
from e2e_helpers import PROTOCOL_VERSION, SERVER_NAME, TOOL_NAME_RE

SERVER_INFO_KEY = "io.modelcontextprotocol/serverInfo"
# Each connect mode books its own week of leave: legacy, 2026-07-28 and auto share the session's HTTP broker.
LEAVE_WEEKS = {"legacy": ("2026-09-07", "2026-09-08"), "auto": ("2026-09-14", "2026-09-15"),
               MODERN_VERSION: ("2026-09-21", "2026-09-22")}

# A date range covering the simulated ERP's whole history (fixed reference date 2026-06-30, three years back).
SPEND_RANGE = {"from_date": "2023-01-01", "to_date": "2026-06-30"}
LONG_TOOLS = {
    "erp__spend_report": dict(SPEND_RANGE, group_by="supplier", top=5),
    "hr__headcount_report": {"group_by": "department"},
}
EXPECTED_TOOLS = {
    "erp__search_suppliers", "erp__get_supplier", "erp__search_purchase_orders", "erp__get_purchase_order",
    "erp__search_invoices", "erp__get_invoice", "erp__check_inventory", "erp__list_cost_centers",
    "erp__create_purchase_order", "erp__approve_invoice", "erp__spend_report",
    "hr__search_employees", "hr__get_employee", "hr__get_org_chart", "hr__list_departments",
    "hr__get_leave_balance", "hr__get_compensation", "hr__request_leave", "hr__headcount_report",
}


def text_of(result: types.CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, types.TextContent))


async def call_ok(c: Connected, name: str, args: dict[str, Any], **kw: Any) -> dict[str, Any]:
    """Calls a tool that must succeed; returns its structuredContent, checked against the tool's outputSchema."""
    with anyio.fail_after(30):
        result = await c.client.call_tool(name, args, **kw)
    assert not result.is_error, f"{name}({args}) failed: {text_of(result)}"
    assert isinstance(result.structured_content, dict), f"{name} returned no structuredContent"
    schema = c.tool(name).output_schema
    assert schema is not None, f"{name} declares no outputSchema"
    jsonschema.validate(result.structured_content, schema)
    assert text_of(result).strip(), f"{name} returned no text block"
    return result.structured_content


async def call_error(c: Connected, name: str, args: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Calls a tool that must fail as a tool execution error; returns (text, broker error _meta)."""
    with anyio.fail_after(30):
        result = await c.client.call_tool(name, args)
    assert result.is_error is True, f"{name}({args}) should be isError, got {result.structured_content}"
    meta = (result.meta or {}).get("mcp-broker/error", {})
    return text_of(result), meta


async def expect_mcp_error(awaitable: Any, code: int) -> MCPError:
    with anyio.fail_after(15):
        with pytest.raises(MCPError) as info:
            await awaitable
    assert info.value.code == code, f"expected JSON-RPC error {code}, got {info.value.code}: {info.value.message}"
    return info.value


async def wait_for(predicate: Any, timeout: float = 2.0) -> bool:
    """Polls `predicate` (notifications are delivered by background tasks) until true or timeout."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        await anyio.sleep(0.02)
    return True


def check_discover(raw: dict[str, Any]) -> None:
    """A server/discover result as i16-behaviour.md states it (raw wire names)."""
    assert raw.get("resultType") == "complete", raw
    assert raw["supportedVersions"] == SUPPORTED_VERSIONS, raw["supportedVersions"]
    caps = raw["capabilities"]
    assert caps.get("tools") == {"listChanged": True} and caps.get("resources") == {"listChanged": True}, caps
    assert caps.get("prompts") == {"listChanged": True} and caps.get("logging") == {}, caps
    assert "tasks" not in caps, "2026 capabilities have no tasks"
    info = (raw.get("_meta") or {}).get(SERVER_INFO_KEY)
    assert isinstance(info, dict) and info.get("name") == SERVER_NAME and info.get("version"), raw.get("_meta")
    assert info.get("title") == "MCP Broker", info
    assert isinstance(raw.get("instructions"), str) and "__" in raw["instructions"]
    assert raw.get("ttlMs") == 0 and raw.get("cacheScope") == "public", raw


def cancelled_calls(c: Connected, tool: str) -> int | None:
    """How many calls of `tool` the broker has logged as cancelled (None when its log cannot be read)."""
    if c.server_log is None:
        return None
    count = 0
    for line in c.server_log().splitlines():
        if f'"tool":"{tool}"' in line and '"outcome":"cancelled"' in line:
            count += 1
    return count


async def first_po_number(c: Connected) -> str:
    page = await call_ok(c, "erp__search_purchase_orders", {"page_size": 3})
    assert page["items"], "the ERP has no purchase orders"
    return page["items"][0]["po_number"]


async def first_employee_id(c: Connected) -> str:
    page = await call_ok(c, "hr__search_employees", {"page_size": 3})
    assert page["items"], "the HR system has no employees"
    return page["items"][0]["employee_id"]


class SDKContract:
    """Checks every transport must pass; `mcp` is the connected client fixture."""

    # ---------------------------------------------------------------- lifecycle

    async def test_handshake(self, mcp: Connected) -> None:
        c = mcp.client
        if mcp.mode == "legacy":
            # initialize: version, identity, capabilities and instructions all come from its result.
            assert c.protocol_version == PROTOCOL_VERSION
            assert c.session.initialize_result is not None
        elif mcp.mode == "auto":
            # The SDK default probes server/discover; a dual-era broker must win it.
            assert c.protocol_version == MODERN_VERSION, f"auto mode fell back to {c.protocol_version}"
            discovered = c.session.discover_result
            assert discovered is not None
            check_discover(discovered.model_dump(by_alias=True, mode="json", exclude_none=True))
        else:
            # A pinned version does not probe: the SDK synthesizes an empty discover result, so ask for the real one.
            assert c.protocol_version == MODERN_VERSION
            with anyio.fail_after(10):
                raw = await c.session.send_discover(MODERN_VERSION)
            check_discover(raw)
            types.DiscoverResult.model_validate(raw)
            return
        assert c.server_info is not None and c.server_info.name == SERVER_NAME
        caps = c.server_capabilities
        assert caps.tools is not None and caps.resources is not None and caps.prompts is not None
        assert caps.logging is not None
        assert c.instructions and "__" in c.instructions

    async def test_connect_is_quick(self, mcp: Connected) -> None:
        # In auto mode the SDK probes server/discover first; the broker must answer it at once (a 2025-only broker
        # must refuse it at once) so the SDK never waits for its 10 s probe timeout.
        limit = 5.0 if mcp.transport == "http" else 8.0
        assert mcp.connect_seconds < limit, f"{mcp.mode} connect took {mcp.connect_seconds:.1f} s"

    async def test_ping(self, mcp: Connected) -> None:
        if mcp.modern:
            await expect_mcp_error(mcp.client.send_ping(), -32601)  # removed in 2026-07-28
            return
        with anyio.fail_after(5):
            result = await mcp.client.send_ping()
        assert isinstance(result, types.EmptyResult)

    async def test_set_logging_level_is_2025_only(self, mcp: Connected) -> None:
        if mcp.modern:
            await expect_mcp_error(mcp.client.set_logging_level("debug"), -32601)  # removed in 2026-07-28
            return
        with anyio.fail_after(5):
            assert isinstance(await mcp.client.set_logging_level("warning"), types.EmptyResult)

    async def test_unknown_method(self, mcp: Connected) -> None:
        request = types.Request[dict | None, str](method="bogus/method", params=None)
        await expect_mcp_error(mcp.client.session.send_request(request, types.EmptyResult), -32601)

    # ---------------------------------------------------------------- tools/list

    async def test_tools_list_paginates(self, mcp: Connected) -> None:
        names: list[str] = []
        pages = 0
        cursor: str | None = None
        with anyio.fail_after(20):
            while True:
                page = await mcp.client.list_tools(cursor=cursor, cache_mode="refresh")
                pages += 1
                assert 1 <= len(page.tools) <= 5, f"page {pages} has {len(page.tools)} tools (page_size is 5)"
                names += [t.name for t in page.tools]
                cursor = page.next_cursor
                if cursor is None:
                    break
                assert pages < 50, "next_cursor never ends"
        assert pages >= 3, f"expected several pages of 5, got {pages}"
        assert len(names) == len(set(names)), f"duplicate tool names: {sorted(names)}"
        bad = [n for n in names if not TOOL_NAME_RE.match(n)]
        assert not bad, f"tool names that Claude clients refuse: {bad}"
        missing = EXPECTED_TOOLS - set(names)
        assert not missing, f"missing tools: {sorted(missing)}"
        for tool in mcp.all_tools:
            assert tool.input_schema.get("type") == "object", tool.name
            assert tool.output_schema is not None and tool.output_schema.get("type") == "object", tool.name

    async def test_tools_list_invalid_cursor(self, mcp: Connected) -> None:
        await expect_mcp_error(mcp.client.list_tools(cursor="not-a-cursor", cache_mode="refresh"), -32602)

    async def test_cursor_of_one_list_is_refused_by_another(self, mcp: Connected) -> None:
        page = await mcp.client.list_tools(cache_mode="refresh")
        assert page.next_cursor
        await expect_mcp_error(mcp.client.list_prompts(cursor=page.next_cursor, cache_mode="refresh"), -32602)
        await expect_mcp_error(mcp.client.list_resources(cursor=page.next_cursor, cache_mode="refresh"), -32602)

    async def test_tool_annotations(self, mcp: Connected) -> None:
        reads = mcp.tool("erp__search_purchase_orders").annotations
        assert reads is not None and reads.read_only_hint is True
        write = mcp.tool("erp__create_purchase_order").annotations
        assert write is not None and write.read_only_hint is False

    # ---------------------------------------------------------------- read calls

    async def test_hr_search_then_get_employee(self, mcp: Connected) -> None:
        page = await call_ok(mcp, "hr__search_employees", {"page_size": 3})
        assert len(page["items"]) == 3
        assert page["total"] >= 5000
        assert isinstance(page["next_cursor"], str)
        item = page["items"][0]
        assert "base_salary_annual" not in item and "compensation" not in item
        employee = await call_ok(mcp, "hr__get_employee", {"employee_id": item["employee_id"]})
        assert employee["employee_id"] == item["employee_id"]
        assert employee["full_name"] == item["full_name"]
        assert "base_salary_annual" not in employee

    async def test_hr_search_follows_cursor(self, mcp: Connected) -> None:
        first = await call_ok(mcp, "hr__search_employees", {"page_size": 4})
        second = await call_ok(mcp, "hr__search_employees", {"page_size": 4, "cursor": first["next_cursor"]})
        ids1 = {e["employee_id"] for e in first["items"]}
        ids2 = {e["employee_id"] for e in second["items"]}
        assert len(ids2) == 4 and not ids1 & ids2, "the second page repeats the first"

    @pytest.mark.parametrize("tool,first,other", [
        ("hr__search_employees", {"status": "active"}, {"status": "on_leave"}),
        ("erp__search_purchase_orders", {"status": "released"}, {"status": "closed"}),
    ])
    async def test_search_cursor_is_bound_to_its_filter(self, mcp: Connected, tool: str, first: dict, other: dict) -> None:
        page = await call_ok(mcp, tool, dict(first, page_size=2))
        assert isinstance(page["next_cursor"], str)
        text, meta = await call_error(mcp, tool, dict(other, page_size=2, cursor=page["next_cursor"]))
        assert meta.get("code") == "invalid_arguments", text
        assert "cursor" in text.lower()
        text, meta = await call_error(mcp, tool, {"page_size": 2, "cursor": "garbage!"})
        assert meta.get("code") == "invalid_arguments" and "cursor" in text.lower(), text

    async def test_erp_search_then_get_purchase_order(self, mcp: Connected) -> None:
        page = await call_ok(mcp, "erp__search_purchase_orders", {"page_size": 3})
        assert len(page["items"]) == 3
        assert page["total"] >= 20000
        header = page["items"][0]
        assert set(header) >= {"po_number", "supplier_id", "status", "total_amount", "line_count", "currency"}
        order = await call_ok(mcp, "erp__get_purchase_order", {"po_number": header["po_number"]})
        assert order["po_number"] == header["po_number"]
        assert order["supplier_id"] == header["supplier_id"]
        assert len(order["lines"]) == header["line_count"] >= 1
        native = {"EBELN", "LIFNR", "NETPR", "PROCSTAT", "BEDAT"}
        assert not native & set(order), "native SAP field names leaked into the output"

    # ---------------------------------------------------------------- write + idempotency

    async def test_create_purchase_order_is_idempotent(self, mcp: Connected, run_id: str) -> None:
        suppliers = await call_ok(mcp, "erp__search_suppliers", {"status": "active", "page_size": 1})
        centres = await call_ok(mcp, "erp__list_cost_centers", {})
        stock = await call_ok(mcp, "erp__check_inventory", {"page_size": 1})
        args = {
            "supplier_id": suppliers["items"][0]["supplier_id"],
            "cost_center": centres["items"][0]["cost_center"],
            "lines": [{"material_id": stock["items"][0]["material_id"], "quantity": 3}],
            "idempotency_key": f"e2e-{run_id}-{mcp.transport}-{mcp.mode}",
        }
        first = await call_ok(mcp, "erp__create_purchase_order", args)
        again = await call_ok(mcp, "erp__create_purchase_order", args)
        assert first["status"] == "awaiting_approval"
        assert again["po_number"] == first["po_number"], "the same idempotency key created a second order"
        fetched = await call_ok(mcp, "erp__get_purchase_order", {"po_number": first["po_number"]})
        assert fetched["supplier_id"] == args["supplier_id"] and fetched["lines"][0]["quantity"] == 3

        # Same key, different payload: a conflict the model can act on, not a silent second order.
        changed = dict(args, lines=[{"material_id": args["lines"][0]["material_id"], "quantity": 4}])
        text, meta = await call_error(mcp, "erp__create_purchase_order", changed)
        assert meta.get("code") == "conflict", text
        assert "key" in text.lower()

    async def test_request_leave_is_idempotent(self, mcp: Connected, run_id: str) -> None:
        people = await call_ok(mcp, "hr__search_employees", {"status": "active", "page_size": 1})
        employee = people["items"][0]["employee_id"]
        # All modes share the HTTP server, so each mode books its own (non-overlapping) week.
        start, end = LEAVE_WEEKS[mcp.mode]
        args = {"employee_id": employee, "leave_type": "unpaid", "start_date": start, "end_date": end,
                "reason": "e2e", "idempotency_key": f"leave-{run_id}-{mcp.transport}-{mcp.mode}"}
        first = await call_ok(mcp, "hr__request_leave", args)
        again = await call_ok(mcp, "hr__request_leave", args)
        assert first["status"] == "submitted" and first["days"] == 2, first
        assert again["request_id"] == first["request_id"], "the same idempotency key created a second request"
        # A new key for the same days is a new request, which overlaps the first one.
        text, meta = await call_error(mcp, "hr__request_leave", dict(args, idempotency_key=f"leave2-{run_id}-{mcp.transport}-{mcp.mode}"))
        assert meta.get("code") == "conflict", text
        assert first["request_id"] in text, text

    # ---------------------------------------------------------------- errors

    async def test_unknown_tool_is_protocol_error(self, mcp: Connected) -> None:
        err = await expect_mcp_error(mcp.client.call_tool("erp__no_such_tool", {}), -32602)
        assert "erp__no_such_tool" in err.message

    async def test_schema_violation_is_tool_error(self, mcp: Connected) -> None:
        text, meta = await call_error(mcp, "erp__get_purchase_order", {"po_number": "12"})
        assert "po_number" in text
        assert meta.get("code") == "invalid_arguments"

    async def test_unknown_argument_is_tool_error(self, mcp: Connected) -> None:
        text, meta = await call_error(mcp, "hr__get_employee", {"employee_id": "21000001", "salary": True})
        assert "salary" in text and meta.get("code") == "invalid_arguments"

    async def test_not_found_is_tool_error(self, mcp: Connected) -> None:
        text, meta = await call_error(mcp, "erp__get_purchase_order", {"po_number": "9999999999"})
        assert "not found" in text.lower() and "9999999999" in text
        assert "correlation id" in text
        assert meta.get("code") == "not_found" and meta.get("correlationId")
        text, meta = await call_error(mcp, "hr__get_employee", {"employee_id": "99999999"})
        assert "not found" in text.lower() and "correlation id" in text

    # ---------------------------------------------------------------- progress + logging

    @pytest.mark.parametrize("tool", sorted(LONG_TOOLS))
    async def test_progress(self, mcp: Connected, tool: str) -> None:
        seen: list[tuple[float, float | None, str | None]] = []

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            seen.append((progress, total, message))

        result = await call_ok(mcp, tool, LONG_TOOLS[tool], progress_callback=on_progress)
        await wait_for(lambda: bool(seen) and seen[-1][1] is not None and seen[-1][0] >= seen[-1][1])
        values = [p for p, _, _ in seen]
        assert len(values) >= 2, f"expected at least 2 progress notifications, got {seen}"
        assert all(b > a for a, b in zip(values, values[1:])), f"progress not strictly increasing: {values}"
        total = seen[-1][1]
        assert total is not None and values[-1] == total, f"final progress {values[-1]} != total {total}"
        if tool == "erp__spend_report":
            assert result["order_count"] == int(total)

    async def test_logging_notifications(self, mcp: Connected) -> None:
        if mcp.modern:
            await self._modern_logging(mcp)
            return
        with anyio.fail_after(5):
            await mcp.client.set_logging_level("debug")
        before = len(mcp.logs)
        await call_ok(mcp, "hr__headcount_report", {"group_by": "location"})
        assert await wait_for(lambda: len(mcp.logs) > before), "no notifications/message during the long tool"
        entry = mcp.logs[-1]
        assert entry.level in ("debug", "info", "notice", "warning")
        assert entry.data is not None
        # At "error", the tool's info-level message must be filtered out.
        with anyio.fail_after(5):
            await mcp.client.set_logging_level("error")
        quiet = len(mcp.logs)
        await call_ok(mcp, "hr__headcount_report", {"group_by": "location"})
        await anyio.sleep(0.2)
        below = [e for e in mcp.logs[quiet:] if e.level in ("debug", "info", "notice", "warning")]
        assert not below, f"log messages below the requested level were sent: {below}"

    async def _modern_logging(self, mcp: Connected) -> None:
        """2026: logs only for requests whose _meta opts in with a logLevel, and only at or above it."""
        args = {"group_by": "location"}
        # No opt-in (this client has no log_level): not one notifications/message, whatever the level.
        before = len(mcp.logs)
        await call_ok(mcp, "hr__headcount_report", args)
        await anyio.sleep(0.2)
        assert mcp.logs[before:] == [], f"log messages without a logLevel opt-in: {mcp.logs[before:]}"
        async with AsyncExitStack() as stack:
            verbose = await open_sibling(stack, mcp, log_level="debug")
            await call_ok(verbose, "hr__headcount_report", args)
            assert await wait_for(lambda: bool(verbose.logs)), "no notifications/message with logLevel debug"
            entry = verbose.logs[-1]
            assert entry.level in ("debug", "info", "notice", "warning") and entry.data is not None
            quiet = await open_sibling(stack, mcp, log_level="error")
            await call_ok(quiet, "hr__headcount_report", args)
            await anyio.sleep(0.2)
            below = [e for e in quiet.logs if e.level in ("debug", "info", "notice", "warning")]
            assert not below, f"log messages below the requested level were sent: {below}"
        assert mcp.logs[before:] == [], "another client's opted-in logs reached this client"

    # ---------------------------------------------------------------- cancellation

    async def test_cancel_long_call_then_keep_working(self, mcp: Connected) -> None:
        # Cancel the report once its first progress notification proves it is running: over stdio and legacy HTTP
        # the SDK sends notifications/cancelled, over 2026 HTTP it closes the call's SSE stream. Either way the
        # connection must keep serving, and a late answer to the cancelled call must not confuse the next one.
        running = anyio.Event()
        finished: list[types.CallToolResult] = []
        cancelled_before = cancelled_calls(mcp, "erp__spend_report")

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            running.set()

        async def call() -> None:
            finished.append(await mcp.client.call_tool("erp__spend_report", LONG_TOOLS["erp__spend_report"],
                                                       progress_callback=on_progress))

        with anyio.fail_after(20):
            async with anyio.create_task_group() as tg:
                tg.start_soon(call)
                await running.wait()
                tg.cancel_scope.cancel()
        assert not finished, "the call completed although it was cancelled right after its first progress"
        if cancelled_before is not None:
            # The broker stopped the call (its log says so), rather than running it to the end unobserved.
            stopped = await wait_for(lambda: cancelled_calls(mcp, "erp__spend_report") > cancelled_before, timeout=5)
            assert stopped, "the broker did not log the cancelled erp__spend_report as cancelled"
        seen: list[float] = []

        async def count(progress: float, total: float | None, message: str | None) -> None:
            seen.append(progress)

        # The same call again: it runs in full, and only its own progress reaches its callback.
        report = await call_ok(mcp, "erp__spend_report", LONG_TOOLS["erp__spend_report"], progress_callback=count)
        await wait_for(lambda: bool(seen) and seen[-1] >= report["order_count"])
        assert len(seen) >= 2 and all(b > a for a, b in zip(seen, seen[1:])), f"progress after a cancellation: {seen}"
        assert seen[-1] == report["order_count"], seen
        await call_ok(mcp, "erp__list_cost_centers", {})

    # ---------------------------------------------------------------- resources

    async def test_resources_list(self, mcp: Connected) -> None:
        uris: list[str] = []
        cursor: str | None = None
        with anyio.fail_after(15):
            for _ in range(20):
                page = await mcp.client.list_resources(cursor=cursor, cache_mode="refresh")
                assert len(page.resources) <= 5
                uris += [r.uri for r in page.resources]
                cursor = page.next_cursor
                if cursor is None:
                    break
        assert len(uris) == len(set(uris))
        assert {"broker://erp/reference/po-status-codes", "broker://hr/reference/departments"} <= set(uris), uris
        assert all(u.startswith(("broker://erp/", "broker://hr/", "broker://warehouse/")) for u in uris)

    async def test_resource_templates_list(self, mcp: Connected) -> None:
        templates: list[str] = []
        cursor: str | None = None
        with anyio.fail_after(15):
            for _ in range(20):
                page = await mcp.client.list_resource_templates(cursor=cursor, cache_mode="refresh")
                templates += [t.uri_template for t in page.resource_templates]
                cursor = page.next_cursor
                if cursor is None:
                    break
        assert "broker://erp/purchase-orders/{po_number}" in templates, templates
        assert "broker://hr/employees/{employee_id}" in templates, templates

    async def test_read_reference_resource(self, mcp: Connected) -> None:
        uri = "broker://erp/reference/po-status-codes"
        with anyio.fail_after(15):
            result = await mcp.client.read_resource(uri, cache_mode="refresh")
        assert len(result.contents) == 1
        content = result.contents[0]
        assert str(content.uri) == uri and content.mime_type == "application/json"
        doc = json.loads(content.text)
        statuses = {s["status"] for s in doc["statuses"]}
        assert {"awaiting_approval", "released", "partially_received", "rejected", "closed"} <= statuses

    async def test_read_template_resources(self, mcp: Connected) -> None:
        po = await first_po_number(mcp)
        with anyio.fail_after(15):
            result = await mcp.client.read_resource(f"broker://erp/purchase-orders/{po}", cache_mode="refresh")
        assert json.loads(result.contents[0].text)["po_number"] == po
        employee = await first_employee_id(mcp)
        with anyio.fail_after(15):
            result = await mcp.client.read_resource(f"broker://hr/employees/{employee}", cache_mode="refresh")
        assert json.loads(result.contents[0].text)["employee_id"] == employee

    @pytest.mark.parametrize("uri", [
        "broker://erp/no/such/thing",
        "broker://nobody/reference/x",
        "broker://erp/purchase-orders/9999999999",
    ])
    async def test_unknown_resource(self, mcp: Connected, uri: str) -> None:
        # 2025: -32002 (resource not found); 2026 removed that code in favour of -32602.
        err = await expect_mcp_error(mcp.client.read_resource(uri, cache_mode="refresh"), -32602 if mcp.modern else -32002)
        assert isinstance(err.data, dict) and err.data.get("uri") == uri

    # ---------------------------------------------------------------- prompts

    async def test_prompts_list(self, mcp: Connected) -> None:
        names: list[str] = []
        cursor: str | None = None
        with anyio.fail_after(15):
            for _ in range(20):
                page = await mcp.client.list_prompts(cursor=cursor, cache_mode="refresh")
                names += [p.name for p in page.prompts]
                cursor = page.next_cursor
                if cursor is None:
                    break
        assert {"erp__summarize_open_purchase_orders", "erp__invoice_exception_review",
                "hr__team_overview", "hr__leave_planning"} <= set(names), names
        assert all(TOOL_NAME_RE.match(n) for n in names)

    async def test_get_prompt(self, mcp: Connected) -> None:
        with anyio.fail_after(15):
            result = await mcp.client.get_prompt("erp__summarize_open_purchase_orders", {"supplier_id": "0000100017"})
        assert result.messages, "the prompt has no messages"
        assert result.messages[0].role == "user"
        text = result.messages[0].content.text
        assert "0000100017" in text
        assert "erp__get_supplier" in text and "erp__search_purchase_orders" in text

    async def test_get_prompt_missing_argument(self, mcp: Connected) -> None:
        err = await expect_mcp_error(mcp.client.get_prompt("erp__summarize_open_purchase_orders", {}), -32602)
        assert "supplier_id" in err.message

    async def test_get_unknown_prompt(self, mcp: Connected) -> None:
        await expect_mcp_error(mcp.client.get_prompt("erp__no_such_prompt", {}), -32602)
