"""Hot reload end to end: the configuration, the policy and the API key file are edited under a running broker while
the official MCP client holds one session open. Every change is applied (or refused) without a restart: the pid never
changes, the session survives, and `notifications/tools/list_changed` arrives when the session's tool list changed.
A 2026-07-28 client has no session: it learns of list changes through `subscriptions/listen`, over HTTP and stdio."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import signal
import time
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import create_mcp_http_client, streamable_http_client
from mcp.client.subscriptions import ServerEvent, Subscription, ToolsListChanged
from mcp.shared.exceptions import MCPError

from e2e_helpers import BROKER_BIN, HTTPBroker, broker_env, http_request, post_rpc, rpc
from sdk_support import MODERN_VERSION

SUBSCRIPTION_ID_KEY = "io.modelcontextprotocol/subscriptionId"

pytestmark = pytest.mark.anyio

ERP = """  erp:
    kind: mock-erp
    credentials: { client: "100", user: BROKER_SVC, password: env:ERP_PASSWORD }
    system: { seed: 42, tenants: [acme], client: "100", user: BROKER_SVC, password: env:ERP_SYSTEM_PASSWORD, latency_ms: 0 }
"""
HR = """  hr:
    kind: mock-hr
    credentials: { api_key: env:HR_API_KEY }
    system: { seed: 42, tenants: [acme], api_key: env:HR_SYSTEM_API_KEY, latency_ms: 0 }
"""


def new_key() -> tuple[str, str]:
    key = "mcpb_" + base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
    return key, "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def config(root: Path, backends: str, *, deny: str = "", rule_role: str = "finance", watch: bool = True, stdio: bool = False) -> str:
    server = f"""server:
  tenants: [acme]
  reload: {{ watch: {str(watch).lower()}, interval_ms: 200 }}
  audit: {{ path: {root / 'audit.jsonl'} }}
"""
    server += "  stdio:\n    principal: { id: local-user, tenant: acme, roles: [analyst] }\n"
    if stdio:
        server += "  http:\n    principal: { id: dev, tenant: acme, roles: [analyst] }\n"
    else:
        server += f"""  http:
    port: 0
    auth: {{ resource: http://127.0.0.1/mcp, api_keys_file: keys.yaml }}
"""
    return server + "backends:\n" + backends + f"""policy:
  roles:
    analyst: {{ tools: ["*"], deny_tools: [{deny}] }}
  rules:
    - {{ id: cost-centres, tools: [erp__list_cost_centers], require: [{{ role: {rule_role} }}] }}
"""


def keys_file(*entries: tuple[str, str]) -> str:
    lines = ["api_keys:"]
    for principal, digest in entries:
        lines.append(f"  - {{ hash: \"{digest}\", id: {principal}, tenant: acme, roles: [analyst] }}")
    return "\n".join(lines) + "\n"


def stdio_broker(conf: Path, cwd: Path) -> StdioServerParameters:
    """The broker serving `conf` over stdio."""
    return StdioServerParameters(command=str(BROKER_BIN), args=["serve", "--config", str(conf), "--stdio"], env=broker_env(), cwd=str(cwd))


def write(path: Path, text: str) -> None:
    # Write-then-rename, as editors and ConfigMap updates do: the watcher never sees half a file.
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


class Watcher:
    """The notification methods the client received (and the listen subscription each one named, if any)."""

    def __init__(self) -> None:
        self.methods: list[str] = []
        self.subscriptions: list[Any] = []

    async def __call__(self, message: Any) -> None:
        method = getattr(message, "method", None) or getattr(getattr(message, "root", None), "method", None)
        if method:
            self.methods.append(method)
            meta = getattr(getattr(message, "params", None), "meta", None) or {}
            self.subscriptions.append(meta.get(SUBSCRIPTION_ID_KEY))

    def list_changes(self) -> list[tuple[str, Any]]:
        return [(m, sid) for m, sid in zip(self.methods, self.subscriptions) if m.endswith("/list_changed")]

    async def wait_for(self, method: str, count: int, timeout: float = 15) -> None:
        with anyio.fail_after(timeout):
            while self.methods.count(method) < count:
                await anyio.sleep(0.05)


async def tool_names(client: Client) -> set[str]:
    names: set[str] = set()
    cursor = None
    for _ in range(20):
        page = await client.list_tools(cursor=cursor, cache_mode="refresh")
        names.update(t.name for t in page.tools)
        cursor = page.next_cursor
        if cursor is None:
            return names
    return names


async def outcome(client: Client, tool: str, args: dict[str, Any]) -> str:
    try:
        result = await client.call_tool(tool, args)
    except MCPError as e:
        return f"protocol-error: {e}"
    if result.is_error:
        return "tool-error: " + " ".join(getattr(c, "text", "") for c in result.content)
    return "ok"


def audit_reloads(root: Path) -> list[dict[str, Any]]:
    path = root / "audit.jsonl"
    if not path.exists():
        return []
    return [r for r in (json.loads(line) for line in path.read_text().splitlines() if line) if r.get("event") == "config_reload"]


async def wait_reloads(root: Path, count: int, timeout: float = 15) -> list[dict[str, Any]]:
    with anyio.fail_after(timeout):
        while len(audit_reloads(root)) < count:
            await anyio.sleep(0.05)
    return audit_reloads(root)


def readyz(port: int) -> dict[str, Any]:
    status, _, body = http_request(port, "GET", "/readyz", timeout=5)
    assert status == 200, body
    return json.loads(body)


def initialize_status(port: int, key: str) -> int:
    reply = post_rpc(port, rpc("initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                                              "clientInfo": {"name": "reload-raw", "version": "1"}}),
                     protocol_version=None, headers={"Authorization": f"Bearer {key}"})
    return reply.status


@pytest.mark.time_limit(180)
async def test_http_reload_keeps_session_and_pid(tmp_path: Path) -> None:
    root = tmp_path
    conf = root / "broker.yaml"
    keys = root / "keys.yaml"
    session_key, session_hash = new_key()
    old_key, old_hash = new_key()
    new_key_, new_hash = new_key()
    write(keys, keys_file(("svc", session_hash), ("batch", old_hash)))
    write(conf, config(root, ERP))
    broker = HTTPBroker(root, name="reload", config=conf, env=broker_env()).start()
    pid = broker.proc.pid
    try:
        watcher = Watcher()
        http = create_mcp_http_client(headers={"Authorization": f"Bearer {session_key}"})
        async with AsyncExitStack() as stack:
            client = Client(streamable_http_client(broker.url, http_client=http), mode="legacy", read_timeout_seconds=30,
                            message_handler=watcher)
            await stack.enter_async_context(client)
            names = await tool_names(client)
            assert "erp__search_suppliers" in names and not any(n.startswith("hr__") for n in names)
            refused = await outcome(client, "erp__list_cost_centers", {})  # the rule wants role finance
            assert refused != "ok", refused

            # 1. Add a backend: its tools appear, are announced and work.
            write(conf, config(root, ERP + HR))
            await watcher.wait_for("notifications/tools/list_changed", 1)
            names = await tool_names(client)
            assert "hr__search_employees" in names
            assert await outcome(client, "hr__search_employees", {}) == "ok"
            first = (await wait_reloads(root, 1))[0]
            assert first["trigger"] == "file" and first["result"] == "applied"
            assert first["new_config_sha256"] == hashlib.sha256(conf.read_bytes()).hexdigest()

            # 2. Remove a tool: it leaves the list and becomes unknown.
            write(conf, config(root, ERP + HR, deny='"erp__check_inventory"'))
            await watcher.wait_for("notifications/tools/list_changed", 2)
            assert "erp__check_inventory" not in await tool_names(client)
            gone = await outcome(client, "erp__check_inventory", {})
            assert "Unknown tool: erp__check_inventory" in gone, gone

            # 3. Change a policy rule: the refused call is now allowed. A rule the caller cannot meet hides its tool,
            #    so the list changed too and is announced.
            write(conf, config(root, ERP + HR, deny='"erp__check_inventory"', rule_role="analyst"))
            await watcher.wait_for("notifications/tools/list_changed", 3)
            assert await outcome(client, "erp__list_cost_centers", {}) == "ok"
            assert "erp__list_cost_centers" in await tool_names(client)

            # 4. Break the YAML: refused, the old configuration keeps serving, /readyz and the audit log say so.
            active = hashlib.sha256(conf.read_bytes()).hexdigest()
            write(conf, "server: [unclosed\n")
            reloads = await wait_reloads(root, 4)
            refused = reloads[3]
            assert refused["result"] == "refused" and refused["old_config_sha256"] == active
            assert refused["new_config_sha256"] == hashlib.sha256(conf.read_bytes()).hexdigest()
            assert "not valid YAML" in refused["error"]
            ready = readyz(broker.port)
            assert ready["config"]["reload"] == "failed" and ready["config"]["active_sha256"] == active
            assert ready["config"]["reloads_failed"] == 1 and "error" in ready["config"]
            assert await outcome(client, "erp__list_cost_centers", {}) == "ok"
            assert await outcome(client, "hr__search_employees", {}) == "ok"
            assert '"level":"error"' in broker.stderr_text() and "reload refused" in broker.stderr_text()

            # Restored: the failure clears.
            write(conf, config(root, ERP + HR, deny='"erp__check_inventory"', rule_role="analyst"))
            await wait_reloads(root, 5)
            assert readyz(broker.port)["config"]["reload"] == "ok"

            # 5. Rotate an API key in the key file: the old key gets 401, the new one works.
            assert initialize_status(broker.port, old_key) == 200
            write(keys, keys_file(("svc", session_hash), ("batch", new_hash)))
            rotated = (await wait_reloads(root, 6))[5]
            assert rotated["trigger"] == "api_keys_file" and rotated["result"] == "applied"
            assert initialize_status(broker.port, old_key) == 401
            assert initialize_status(broker.port, new_key_) == 200

            # 6. SIGHUP: with the watch switched off, a change applies only when signalled.
            write(conf, config(root, ERP + HR, deny='"erp__check_inventory"', rule_role="analyst", watch=False))
            await wait_reloads(root, 7)
            write(conf, config(root, ERP, deny='"erp__check_inventory"', rule_role="analyst", watch=False))
            await anyio.sleep(0.6)  # three poll intervals: nothing may happen without the signal
            assert len(audit_reloads(root)) == 7
            os.kill(pid, signal.SIGHUP)
            signalled = (await wait_reloads(root, 8))[7]
            assert signalled["trigger"] == "signal" and signalled["result"] == "applied"
            await watcher.wait_for("notifications/tools/list_changed", 4)
            assert not any(n.startswith("hr__") for n in await tool_names(client))
            assert "Unknown tool" in await outcome(client, "hr__search_employees", {})

            # The same session served every step, in the same process.
            assert await outcome(client, "erp__search_suppliers", {}) == "ok"
        assert broker.proc.poll() is None and broker.proc.pid == pid
        assert "SIGHUP: reloading" in broker.stderr_text()
    finally:
        broker.stop()


@pytest.mark.time_limit(90)
async def test_stdio_reload_announces_new_tools(tmp_path: Path) -> None:
    conf = tmp_path / "broker.yaml"
    write(conf, config(tmp_path, ERP, stdio=True))
    params = stdio_broker(conf, tmp_path)
    watcher = Watcher()
    errlog = open(tmp_path / "stdio.stderr.log", "w+")
    async with AsyncExitStack() as stack:
        client = Client(stdio_client(params, errlog=errlog), mode="legacy", read_timeout_seconds=30, message_handler=watcher)
        await stack.enter_async_context(client)
        assert not any(n.startswith("hr__") for n in await tool_names(client))
        write(conf, config(tmp_path, ERP + HR, stdio=True))
        await watcher.wait_for("notifications/tools/list_changed", 1)
        assert "hr__search_employees" in await tool_names(client)
        assert await outcome(client, "hr__search_employees", {}) == "ok"
        reloads = await wait_reloads(tmp_path, 1)
        assert reloads[0]["result"] == "applied" and reloads[0]["trigger"] == "file"
    errlog.close()


# ------------------------------------------------------------------------------------------------------------
# 2026-07-28: subscriptions/listen
# ------------------------------------------------------------------------------------------------------------


async def next_tools_change(sub: Subscription, timeout: float = 10) -> list[ServerEvent]:
    """The events up to and including the next ToolsListChanged (other list changes may come with it)."""
    events: list[ServerEvent] = []
    with anyio.fail_after(timeout):
        async for event in sub:
            events.append(event)
            if isinstance(event, ToolsListChanged):
                return events
    raise AssertionError(f"the listen stream ended without a tools list change (events: {events})")


async def events_within(sub: Subscription, seconds: float) -> list[ServerEvent]:
    """Whatever events arrive within `seconds` (the stream stays open)."""
    events: list[ServerEvent] = []
    with anyio.move_on_after(seconds):
        async for event in sub:
            events.append(event)
    return events


async def open_listen(stack: AsyncExitStack, client: Client) -> Subscription:
    try:
        with anyio.fail_after(10):
            sub = await stack.enter_async_context(client.listen(tools_list_changed=True, prompts_list_changed=True,
                                                                resources_list_changed=True))
    except TimeoutError:
        # The SDK routes the acknowledgment by its _meta["io.modelcontextprotocol/subscriptionId"]; an ack without
        # it (or no ack) leaves listen() waiting.
        raise AssertionError("subscriptions/listen was not acknowledged within 10 s: the broker must send "
                             "notifications/subscriptions/acknowledged with _meta subscriptionId = the listen request id")
    honored = sub.honored
    assert honored.tools_list_changed is True, honored
    assert honored.prompts_list_changed is True and honored.resources_list_changed is True, honored
    assert not honored.resource_subscriptions, "resource subscriptions are not offered"
    return sub


@pytest.mark.time_limit(90)
async def test_http_listen_announces_reloads_to_2026_clients(tmp_path: Path) -> None:
    root = tmp_path
    conf = root / "broker.yaml"
    keys = root / "keys.yaml"
    key, digest = new_key()
    write(keys, keys_file(("svc", digest)))
    write(conf, config(root, ERP))
    broker = HTTPBroker(root, name="listen", config=conf, env=broker_env()).start()
    try:
        http = create_mcp_http_client(headers={"Authorization": f"Bearer {key}"})
        async with AsyncExitStack() as stack:
            client = Client(streamable_http_client(broker.url, http_client=http), mode=MODERN_VERSION, read_timeout_seconds=30)
            await stack.enter_async_context(client)
            assert client.protocol_version == MODERN_VERSION
            assert not any(n.startswith("hr__") for n in await tool_names(client))
            sub = await open_listen(stack, client)

            # 1. A backend is added: this principal's tool list grows, and the listen stream says so.
            write(conf, config(root, ERP + HR))
            await next_tools_change(sub)
            assert "hr__search_employees" in await tool_names(client)
            assert await outcome(client, "hr__search_employees", {}) == "ok"
            await wait_reloads(root, 1)
            await events_within(sub, 0.3)  # anything else that reload announced

            # 2. A reload that changes nothing this principal can see: applied, and no tools list change announced.
            write(conf, config(root, ERP + HR) + "# a comment changes the file, not the lists\n")
            assert (await wait_reloads(root, 2))[1]["result"] == "applied"
            quiet = await events_within(sub, 1.0)
            assert not [e for e in quiet if isinstance(e, ToolsListChanged)], f"a list change was announced for nothing: {quiet}"

            # 3. A tool is denied: it leaves the list, announced on the same stream.
            write(conf, config(root, ERP + HR, deny='"erp__check_inventory"'))
            await next_tools_change(sub)
            assert "erp__check_inventory" not in await tool_names(client)
            assert "Unknown tool: erp__check_inventory" in await outcome(client, "erp__check_inventory", {})
        assert broker.proc.poll() is None
    finally:
        broker.stop()


@pytest.mark.time_limit(90)
async def test_stdio_listen_announces_reloads_to_2026_clients(tmp_path: Path) -> None:
    conf = tmp_path / "broker.yaml"
    write(conf, config(tmp_path, ERP, stdio=True))
    params = stdio_broker(conf, tmp_path)
    watcher = Watcher()
    errlog = open(tmp_path / "stdio-2026.stderr.log", "w+")
    try:
        async with AsyncExitStack() as stack:
            client = Client(stdio_client(params, errlog=errlog), mode=MODERN_VERSION, read_timeout_seconds=30,
                            message_handler=watcher)
            await stack.enter_async_context(client)
            assert not any(n.startswith("hr__") for n in await tool_names(client))
            async with AsyncExitStack() as listening:
                sub = await open_listen(listening, client)
                write(conf, config(tmp_path, ERP + HR, stdio=True))
                await next_tools_change(sub)
                assert "hr__search_employees" in await tool_names(client)
                assert await outcome(client, "hr__search_employees", {}) == "ok"
                await wait_reloads(tmp_path, 1)
                await events_within(sub, 0.3)
            # Every list change so far came through the subscription, stamped with its id.
            changes = watcher.list_changes()
            assert ("notifications/tools/list_changed", sub.subscription_id) in changes, changes
            assert all(sid == sub.subscription_id for _, sid in changes), f"unsolicited list changes: {changes}"

            # The subscription ended (the SDK sent notifications/cancelled for it): a later change reaches the
            # lists, but no notification is sent to a modern stdio connection without a listen.
            seen = len(watcher.methods)
            write(conf, config(tmp_path, ERP + HR, deny='"erp__check_inventory"', stdio=True))
            assert (await wait_reloads(tmp_path, 2))[1]["result"] == "applied"
            await anyio.sleep(1.0)
            late = [m for m in watcher.methods[seen:] if m.endswith("/list_changed")]
            assert not late, f"list changes sent without a listen: {late}"
            assert "erp__check_inventory" not in await tool_names(client)
    finally:
        errlog.close()
