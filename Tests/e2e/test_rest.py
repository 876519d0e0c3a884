"""The REST backend end to end: the official MCP client, the real broker binary, libcurl, and the demo CRM
service on 127.0.0.1:18931 (started by scripts/test.sh; its credentials come from the environment)."""

from __future__ import annotations

import uuid
from contextlib import AsyncExitStack

import pytest

from e2e_helpers import TEST_CONFIG, run_cli
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


def test_tenant_without_its_own_crm_credentials_is_refused_before_any_request(tmp_path) -> None:
    """initech is served (server.tenants) but backend crm has no tenants.initech and no shared_credentials."""
    text = TEST_CONFIG.read_text().replace("tenants: [acme, globex]\n", "tenants: [acme, globex, initech]\n", 1)
    text = text.replace("principal: { id: local-user, tenant: acme, roles: [analyst, hr] }",
                        "principal: { id: local-user, tenant: initech, roles: [analyst, hr] }")
    text = text.replace("file: ../../config/crm/openapi.json", f"file: {TEST_CONFIG.parent.parent.parent / 'config/crm/openapi.json'}")
    path = tmp_path / "initech.yaml"
    path.write_text(text)
    r = run_cli("call", "--config", str(path), "crm__search_accounts", "{}")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "The crm system has no credentials for your organisation; ask your administrator to add tenants.initech to backend crm." in r.stdout
    validate = run_cli("validate", str(path))
    assert validate.returncode == 0, validate.stderr
    assert "backend crm: shared credentials: no (own credential sets: acme, globex; any other tenant is refused)" in validate.stdout
