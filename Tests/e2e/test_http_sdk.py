"""Streamable HTTP through the official SDK (legacy, 2026-07-28 and auto modes), plus cross-transport consistency."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import anyio
import pytest

from e2e_helpers import HTTPBroker
from sdk_contract import SDKContract, call_ok, text_of
from sdk_support import MODES, Connected, http_factory, open_client


@pytest.fixture(scope="module", params=MODES)
async def mcp(request: pytest.FixtureRequest, http_broker: HTTPBroker) -> AsyncIterator[Connected]:
    """An SDK client per connect mode, all against the session's HTTP broker."""
    async with AsyncExitStack() as stack:
        yield await open_client(stack, http_broker.url, "http", request.param, server_factory=http_factory(http_broker.url),
                                server_log=http_broker.stderr_text)


@pytest.mark.anyio
class TestHTTPSDK(SDKContract):
    """Every SDK check over Streamable HTTP."""


@pytest.mark.anyio
async def test_stdio_and_http_serve_the_same_tenant(http_broker: HTTPBroker, connect_stdio: Any) -> None:
    # Both configured principals belong to tenant acme, so both transports must see the same partition.
    async with AsyncExitStack() as stack:
        over_http = await open_client(stack, http_broker.url, "http", "legacy")
        async with connect_stdio("legacy", name="consistency") as over_stdio:
            args = {"page_size": 2}
            a = await call_ok(over_http, "hr__search_employees", args)
            b = await call_ok(over_stdio, "hr__search_employees", args)
            assert a["items"][0]["employee_id"] == b["items"][0]["employee_id"]
            assert a["items"] == b["items"] and a["total"] == b["total"]
            # Orders created by other tests exist only in the HTTP process; compare the generated history.
            args = {"page_size": 2, "to_date": "2026-01-31"}
            a = await call_ok(over_http, "erp__search_purchase_orders", args)
            b = await call_ok(over_stdio, "erp__search_purchase_orders", args)
            assert [o["po_number"] for o in a["items"]] == [o["po_number"] for o in b["items"]]
            assert a["total"] == b["total"]


@pytest.mark.anyio
async def test_concurrent_retries_create_one_order(http_broker: HTTPBroker, run_id: str) -> None:
    # Five concurrent calls with one idempotency key (a client retrying on a slow network): at most one order
    # is created, every success names that order, and any refusal is a retriable "in progress" conflict.
    async with AsyncExitStack() as stack:
        c = await open_client(stack, http_broker.url, "http", "legacy")
        suppliers = await call_ok(c, "erp__search_suppliers", {"status": "active", "page_size": 1})
        centres = await call_ok(c, "erp__list_cost_centers", {})
        stock = await call_ok(c, "erp__check_inventory", {"page_size": 1})
        args = {
            "supplier_id": suppliers["items"][0]["supplier_id"], "cost_center": centres["items"][0]["cost_center"],
            "lines": [{"material_id": stock["items"][0]["material_id"], "quantity": 7}],
            "idempotency_key": f"race-{run_id}",
        }
        query = {"status": "awaiting_approval", "page_size": 1}
        before = (await call_ok(c, "erp__search_purchase_orders", query))["total"]
        results: list[Any] = []

        async def attempt() -> None:
            results.append(await c.client.call_tool("erp__create_purchase_order", args))

        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                for _ in range(5):
                    tg.start_soon(attempt)
        created = {r.structured_content["po_number"] for r in results if not r.is_error}
        refused = [text_of(r) for r in results if r.is_error]
        assert len(created) == 1, f"successes named {created}; refusals: {refused}"
        assert all("conflict" in t for t in refused), refused
        after = (await call_ok(c, "erp__search_purchase_orders", query))["total"]
        assert after == before + 1, f"{after - before} orders were created for one idempotency key"
