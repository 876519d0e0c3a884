"""The REST backend end to end: the official MCP client, the real broker binary, libcurl, and the demo CRM
service on 127.0.0.1:18931 (started by scripts/test.sh; its credentials come from the environment)."""

from __future__ import annotations

import uuid
from contextlib import AsyncExitStack

import pytest

from sdk_support import open_client

pytestmark = pytest.mark.anyio


async def test_rest_tools_over_http(http_broker) -> None:
    async with AsyncExitStack() as stack:
        c = await open_client(stack, http_broker.url, "http", "legacy")
        names = {t.name for t in c.all_tools}
        assert {"crm__get_account", "crm__search_accounts", "crm__create_account", "crm__list_opportunities"} <= names
        r = await c.client.call_tool("crm__get_account", {"id": "acc-0001"})
        assert not r.is_error, r.content[0].text
        assert r.structured_content["id"] == "acc-0001" and isinstance(r.structured_content["owner"], str)
        missing = await c.client.call_tool("crm__get_account", {"id": "acc-9999"})
        assert missing.is_error and missing.content[0].text.startswith("Account acc-9999 not found in CRM.")
        bad = await c.client.call_tool("crm__get_account", {"id": "../admin"})
        assert bad.is_error and "id" in bad.content[0].text
        pages = await c.client.call_tool("crm__search_accounts", {"limit": 10})
        assert pages.structured_content["pages"] == 3 and pages.structured_content["truncated"] is True
        assert len({a["id"] for a in pages.structured_content["items"]}) == 30
        key = "e2e-" + uuid.uuid4().hex[:16]
        first = await c.client.call_tool("crm__create_account", {"Idempotency-Key": key, "body": {"name": "E2E GmbH", "industry": "software", "country": "DE"}})
        again = await c.client.call_tool("crm__create_account", {"Idempotency-Key": key, "body": {"name": "E2E GmbH", "industry": "software", "country": "DE"}})
        assert not first.is_error and first.structured_content["id"] == again.structured_content["id"]
        opps = await c.client.call_tool("crm__list_opportunities", {"limit": 3})
        assert not opps.is_error and len(opps.structured_content["data"]) == 3


async def test_rest_tool_over_stdio(connect_stdio) -> None:
    async with connect_stdio("legacy") as c:
        r = await c.client.call_tool("crm__account_contacts", {"id": "acc-0002", "per_page": 2})
        assert not r.is_error, r.content[0].text
        assert r.structured_content["pages"] >= 1 and r.structured_content["items"]
