"""MCP 2026-07-28 over Streamable HTTP on the wire (standard library only): the request ladder, exact statuses and
JSON-RPC codes, result shapes, request-scoped SSE, MRTR confirmations with tampered state, subscriptions/listen.

The rules are those of the broker's 2026 era (mcp-protocol.md §2.1-2.8): a POST whose MCP-Protocol-Version header is
not a handshake version takes the modern path; no header or a handshake version is the 2025 path (test_http_raw.py).
"""

from __future__ import annotations

import base64
import json
import shutil
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest

from e2e_helpers import (
    BROKER_BIN,
    REPO_ROOT,
    HTTPBroker,
    broker_env,
    http_request,
    open_raw_session,
    post_rpc,
    rpc,
)
from modern_wire import (
    ACCEPT_BOTH,
    BROKER_ERROR_KEY,
    ELICITATION_CAPS,
    HEADER_MISMATCH,
    MODERN_VERSION,
    SUPPORTED_VERSIONS,
    SSEStream,
    assert_no_session,
    assert_rpc_error,
    assert_server_info,
    broker_error_code,
    messages_of,
    modern,
    ok_result,
    post_modern,
    routing_headers,
    send_http,
    sentinel,
    tool_text,
    without_meta_keys,
)
from sdk_contract import LONG_TOOLS

PROTOCOL_VERSION_KEY = "io.modelcontextprotocol/protocolVersion"
CLIENT_CAPABILITIES_KEY = "io.modelcontextprotocol/clientCapabilities"
UNKNOWN_VERSION = "2099-01-01"


@pytest.fixture(scope="module")
def port(http_broker: HTTPBroker) -> int:
    assert http_broker.port is not None
    return http_broker.port


# ------------------------------------------------------------------------------------------------ discover, results


def test_discover_shape(port: int) -> None:
    r = post_modern(port, modern("server/discover", id="d1"))
    result = ok_result(r, "d1")
    assert result["resultType"] == "complete", result
    assert result["supportedVersions"] == SUPPORTED_VERSIONS, result["supportedVersions"]
    assert result["capabilities"] == {
        "tools": {"listChanged": True}, "resources": {"listChanged": True}, "prompts": {"listChanged": True}, "logging": {},
    }, result["capabilities"]
    assert "tasks" not in result["capabilities"]
    assert isinstance(result.get("instructions"), str) and result["instructions"], result
    assert result["ttlMs"] == 0 and result["cacheScope"] == "public", result
    assert "protocolVersion" not in result and "serverInfo" not in result, "initialize fields leaked into discover"


def test_incoming_session_id_is_ignored(port: int) -> None:
    # A bogus session id is neither checked (it would be 404 on the 2025 path) nor echoed.
    r = post_modern(port, modern("tools/list", {}, id=2), headers={"Mcp-Session-Id": "f" * 32})
    result = ok_result(r, 2)
    assert result["tools"], result


@pytest.mark.parametrize("method,key", [
    ("tools/list", "tools"), ("resources/list", "resources"), ("resources/templates/list", "resourceTemplates"),
    ("prompts/list", "prompts"),
])
def test_lists_are_cacheable_private(port: int, method: str, key: str) -> None:
    r = post_modern(port, modern(method, {}, id=method))
    result = ok_result(r, method)
    assert result["resultType"] == "complete"
    assert result["ttlMs"] == 0 and result["cacheScope"] == "private", result
    assert isinstance(result[key], list) and result[key], result
    if "nextCursor" in result:  # all pages of one list carry the same scope
        page2 = ok_result(post_modern(port, modern(method, {"cursor": result["nextCursor"]}, id="p2")), "p2")
        assert page2["ttlMs"] == 0 and page2["cacheScope"] == "private", page2


def test_resources_read_is_cacheable_private(port: int) -> None:
    uri = "broker://erp/reference/po-status-codes"
    result = ok_result(post_modern(port, modern("resources/read", {"uri": uri}, id="rr")), "rr")
    assert result["resultType"] == "complete" and result["ttlMs"] == 0 and result["cacheScope"] == "private", result
    assert result["contents"] and result["contents"][0]["uri"] == uri


def test_prompts_get_has_result_type(port: int) -> None:
    msg = modern("prompts/get", {"name": "erp__invoice_exception_review", "arguments": {}}, id="pg")
    result = ok_result(post_modern(port, msg), "pg")
    assert result["resultType"] == "complete" and result["messages"], result


def test_unknown_resource_is_invalid_params_with_uri(port: int) -> None:
    uri = "broker://erp/reference/no-such-thing"
    error = assert_rpc_error(post_modern(port, modern("resources/read", {"uri": uri}, id="nr")), 400, -32602, id="nr")
    assert error.get("data", {}).get("uri") == uri, error


def test_unknown_tool_is_400_invalid_params(port: int) -> None:
    msg = modern("tools/call", {"name": "nope__nothing", "arguments": {}}, id=3)
    assert_rpc_error(post_modern(port, msg), 400, -32602, id=3)


# ------------------------------------------------------------------------------------------------ ladder rung 1: envelope


@pytest.mark.parametrize("case", ["no _meta", "_meta not an object", "no protocolVersion", "no clientCapabilities"])
def test_bad_envelope_is_400_invalid_params(port: int, case: str) -> None:
    msg = modern("tools/list", {}, id="e")
    if case == "no _meta":
        del msg["params"]["_meta"]
    elif case == "_meta not an object":
        msg["params"]["_meta"] = "2026-07-28"
    elif case == "no protocolVersion":
        msg = without_meta_keys(msg, PROTOCOL_VERSION_KEY)
    else:
        msg = without_meta_keys(msg, CLIENT_CAPABILITIES_KEY)
    # The routing headers are still those of a correct 2026 request: rung 1 fails first.
    r = post_modern(port, msg, headers={"MCP-Protocol-Version": MODERN_VERSION})
    assert_rpc_error(r, 400, -32602, id="e")


def test_no_params_at_all_is_400_invalid_params(port: int) -> None:
    msg = {"jsonrpc": "2.0", "id": "np", "method": "server/discover"}
    r = post_modern(port, msg, headers={"MCP-Protocol-Version": MODERN_VERSION})
    assert_rpc_error(r, 400, -32602, id="np")


def test_non_string_version_is_400(port: int) -> None:
    # Over HTTP the header rung runs before the type rung, so a header "2026-07-28" against an envelope 20260728 is
    # a mismatch first (i16-behaviour ladder order); stdio, which has no headers, answers -32602 (test_stdio_2026.py).
    msg = modern("tools/list", {}, id="ns", version=20260728)
    r = post_modern(port, msg, headers={"MCP-Protocol-Version": MODERN_VERSION})
    assert r.status == 400, r
    assert json.loads(r.body)["error"]["code"] in (-32602, HEADER_MISMATCH), r.body


# ------------------------------------------------------------------------------------------------ ladder rung 2: headers


def test_version_header_differs_from_envelope_is_header_mismatch(port: int) -> None:
    msg = modern("tools/list", {}, id="v", version=UNKNOWN_VERSION)
    r = post_modern(port, msg, headers={"MCP-Protocol-Version": MODERN_VERSION})
    assert_rpc_error(r, 400, HEADER_MISMATCH, id="v")


@pytest.mark.parametrize("value", [None, "tools/call", "TOOLS/LIST", ""])
def test_mcp_method_missing_or_different_is_header_mismatch(port: int, value: str | None) -> None:
    r = post_modern(port, modern("tools/list", {}, id="m"), headers={"Mcp-Method": value})
    assert_rpc_error(r, 400, HEADER_MISMATCH, id="m")


@pytest.mark.parametrize("method,params,wrong", [
    ("tools/call", {"name": "hr__list_departments", "arguments": {}}, "hr__get_employee"),
    ("prompts/get", {"name": "erp__invoice_exception_review", "arguments": {}}, "hr__team_overview"),
    ("resources/read", {"uri": "broker://erp/reference/plants"}, "broker://erp/reference/po-status-codes"),
])
@pytest.mark.parametrize("how", ["missing", "different"])
def test_mcp_name_missing_or_different_is_header_mismatch(port: int, method: str, params: dict, wrong: str, how: str) -> None:
    r = post_modern(port, modern(method, params, id="n"), headers={"Mcp-Name": None if how == "missing" else wrong})
    assert_rpc_error(r, 400, HEADER_MISMATCH, id="n")


def test_mcp_name_sentinel_for_an_ascii_name_is_decoded(port: int) -> None:
    msg = modern("tools/call", {"name": "hr__list_departments", "arguments": {}}, id="s")
    result = ok_result(post_modern(port, msg, headers={"Mcp-Name": sentinel("hr__list_departments")}), "s")
    assert result.get("isError") is not True and result["structuredContent"], result


def test_mcp_name_sentinel_for_a_non_ascii_name(port: int) -> None:
    name = "erp__café_rapport"
    msg = modern("tools/call", {"name": name, "arguments": {}}, id="u")
    assert routing_headers(msg)["Mcp-Name"] == sentinel(name)
    # The matching sentinel passes the ladder: the answer is the ordinary unknown tool.
    assert_rpc_error(post_modern(port, msg), 400, -32602, id="u")
    # A sentinel that decodes to another name is a mismatch, as is a malformed one.
    assert_rpc_error(post_modern(port, msg, headers={"Mcp-Name": sentinel("erp__cafe_rapport")}), 400, HEADER_MISMATCH, id="u")
    assert_rpc_error(post_modern(port, msg, headers={"Mcp-Name": "=?base64?not base64!?="}), 400, HEADER_MISMATCH, id="u")


@pytest.mark.parametrize("header", ["Mcp-Method", "MCP-Protocol-Version", "Mcp-Name"])
def test_duplicated_routing_header_is_header_mismatch(port: int, header: str) -> None:
    msg = modern("tools/call", {"name": "hr__list_departments", "arguments": {}}, id="dup")
    same = routing_headers(msg)[header]
    # The same value twice: a first-copy and a last-copy reader would agree here, and it is still refused.
    r = post_modern(port, msg, extra_lines=[(header, same)])
    assert_rpc_error(r, 400, HEADER_MISMATCH, id="dup")


# ------------------------------------------------------------------------------------------------ ladder rung 3: version


def test_unsupported_version_is_400_with_supported_list(port: int) -> None:
    msg = modern("tools/list", {}, id="uv", version=UNKNOWN_VERSION)
    error = assert_rpc_error(post_modern(port, msg), 400, -32022, id="uv")
    data = error.get("data") or {}
    assert data.get("requested") == UNKNOWN_VERSION, error
    assert isinstance(data.get("supported"), list) and data["supported"][0] == MODERN_VERSION, error
    assert set(data["supported"]) == set(SUPPORTED_VERSIONS), error


def test_first_failing_rung_wins(port: int) -> None:
    # Missing clientCapabilities (rung 1) beats a wrong Mcp-Method (rung 2) and an unknown version (rung 3).
    msg = without_meta_keys(modern("tools/list", {}, id="f", version=UNKNOWN_VERSION), CLIENT_CAPABILITIES_KEY)
    assert_rpc_error(post_modern(port, msg, headers={"Mcp-Method": "prompts/list"}), 400, -32602, id="f")
    # A wrong Mcp-Method (rung 2) beats the unknown version (rung 3).
    msg = modern("tools/list", {}, id="g", version=UNKNOWN_VERSION)
    assert_rpc_error(post_modern(port, msg, headers={"Mcp-Method": "prompts/list"}), 400, HEADER_MISMATCH, id="g")


# ------------------------------------------------------------------------------------------------ methods


@pytest.mark.parametrize("method", ["bogus/method", "ping", "logging/setLevel", "resources/subscribe",
                                    "resources/unsubscribe", "tasks/list", "completion/complete"])
def test_unknown_or_removed_method_is_404(port: int, method: str) -> None:
    params: dict[str, Any] = {"level": "debug"} if method == "logging/setLevel" else {}
    if method.startswith("resources/"):
        params = {"uri": "broker://erp/reference/plants"}
    r = post_modern(port, modern(method, params, id=77))
    assert_rpc_error(r, 404, -32601, id=77)


def test_initialize_on_the_modern_path_is_refused(port: int) -> None:
    # i16-behaviour: initialize on a modern connection is -32022 (stdio); over HTTP a spec-conforming answer is
    # -32601/404 or -32022/400. Either way, no session is minted.
    msg = modern("initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                                "clientInfo": {"name": "x", "version": "1"}}, id="i")
    r = post_modern(port, msg)
    assert 400 <= r.status < 500, r
    error = json.loads(r.body)["error"]
    assert (error["code"], r.status) in ((-32601, 404), (-32022, 400)), (r.status, error)
    assert_no_session(r)


def test_notification_is_202(port: int) -> None:
    note = modern("notifications/cancelled", {"requestId": "never-sent"}, id=None)
    r = post_modern(port, note)
    assert r.status == 202 and r.body == b"", r
    assert_no_session(r)


def test_notification_with_unsupported_version_is_400(port: int) -> None:
    note = modern("notifications/cancelled", {"requestId": "never-sent"}, id=None, version=UNKNOWN_VERSION)
    r = post_modern(port, note)
    assert r.status == 400, r
    assert json.loads(r.body)["error"]["code"] == -32022, r.body


@pytest.mark.parametrize("verb", ["GET", "DELETE"])
def test_get_and_delete_are_405_allow_post(port: int, verb: str) -> None:
    lines = [("Accept", "text/event-stream"), ("MCP-Protocol-Version", MODERN_VERSION), ("Mcp-Session-Id", "f" * 32)]
    r = send_http(port, verb, "/mcp", None, lines, timeout=5)
    assert r.status == 405, r
    assert [m.strip() for m in r.headers.get("allow", "").split(",")] == ["POST"], r.headers
    assert_no_session(r)


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://localhost.evil.example"])
def test_bad_origin_is_403(port: int, origin: str) -> None:
    r = post_modern(port, modern("tools/list", {}, id=1), headers={"Origin": origin})
    assert r.status == 403, r
    ok = post_modern(port, modern("tools/list", {}, id=1), headers={"Origin": "http://localhost:5173"})
    assert ok.status == 200, ok


def test_bad_json_is_400_parse_error(port: int) -> None:
    r = post_modern(port, b'{"jsonrpc": "2.0", "id": 1, "method": "tools/list",', route_from=modern("tools/list", {}))
    assert_rpc_error(r, 400, -32700, id=None)


def test_json_array_is_400(port: int) -> None:
    batch = [modern("tools/list", {}, id=1), modern("tools/list", {}, id=2)]
    r = post_modern(port, json.dumps(batch).encode(), route_from=batch[0])
    assert r.status == 400, r
    assert json.loads(r.body)["error"]["code"] == -32600, r.body


# ------------------------------------------------------------------------------------------------ era selection


@pytest.mark.parametrize("with_session", [False, True])
def test_handshake_header_with_envelope_is_header_mismatch(port: int, with_session: bool) -> None:
    # Spec §2.8: the body says 2026-07-28, the header 2025-11-25; the SDK's server takes the legacy path here
    # (reference §3.4 quirk 1), the spec wants 400 HeaderMismatch, even inside a valid 2025 session.
    msg = modern("tools/list", {}, id="h") if with_session else modern("server/discover", id="h")
    headers: dict[str, str | None] = {"MCP-Protocol-Version": "2025-11-25"}
    if with_session:
        headers["Mcp-Session-Id"] = open_raw_session(port)
    r = post_modern(port, msg, headers=headers)
    assert r.status == 400, (r.status, r.body[:300])
    doc = json.loads(r.body)
    assert doc["error"]["code"] == HEADER_MISMATCH and doc["id"] == "h", doc


def test_legacy_requests_still_work(port: int) -> None:
    sid = open_raw_session(port)
    r = post_rpc(port, rpc("tools/list", {}, id=5), session=sid)
    assert r.status == 200 and r.headers.get("mcp-session-id") in (None, sid)
    result = r.json()["result"]
    assert result["tools"] and "resultType" not in result and "_meta" not in result, result
    r = post_rpc(port, rpc("ping", id=6), session=sid)
    assert r.json() == {"jsonrpc": "2.0", "id": 6, "result": {}}
    # Unknown resource stays -32002 (200) on the 2025 path.
    r = post_rpc(port, rpc("resources/read", {"uri": "broker://erp/reference/no-such-thing"}, id=7), session=sid)
    assert r.status == 200 and r.json()["error"]["code"] == -32002, r.body


# ------------------------------------------------------------------------------------------------ tools/call: JSON, SSE


def test_quick_call_without_progress_is_json(port: int) -> None:
    msg = modern("tools/call", {"name": "hr__list_departments", "arguments": {}}, id="q")
    result = ok_result(post_modern(port, msg, timeout=30), "q")
    assert result["resultType"] == "complete" and result.get("isError") is not True, result
    assert isinstance(result["structuredContent"], dict)


@pytest.mark.time_limit(60)
def test_progress_token_switches_to_sse(port: int) -> None:
    msg = modern("tools/call", {"name": "erp__spend_report", "arguments": LONG_TOOLS["erp__spend_report"]},
                 id=9, progress_token="tok-26")
    r = post_modern(port, msg, timeout=45)
    assert r.status == 200 and r.content_type.startswith("text/event-stream"), (r.status, r.headers)
    assert_no_session(r)
    events = messages_of(r)
    final = events[-1]
    assert final.get("id") == 9 and "result" in final, f"the stream must end with the response: {final}"
    result = final["result"]
    assert result["resultType"] == "complete" and result.get("isError") is not True, result
    assert_server_info(result)
    notes = events[:-1]
    assert all("method" in n and "id" not in n for n in notes), f"only notifications may precede the response: {notes}"
    progress = [n["params"] for n in notes if n["method"] == "notifications/progress"]
    assert len(progress) >= 2 and all(p["progressToken"] == "tok-26" for p in progress), notes
    values = [p["progress"] for p in progress]
    assert all(b > a for a, b in zip(values, values[1:])), values
    assert not [n for n in notes if n["method"] == "notifications/message"], "logs without _meta logLevel"
    assert result["structuredContent"]["order_count"] == int(values[-1])


@pytest.mark.time_limit(60)
def test_logs_only_with_log_level(port: int) -> None:
    args = LONG_TOOLS["hr__headcount_report"]
    quiet = post_modern(port, modern("tools/call", {"name": "hr__headcount_report", "arguments": args}, id="quiet"), timeout=45)
    assert ok_result(quiet, "quiet").get("isError") is not True  # JSON: nothing was emitted
    loud = post_modern(port, modern("tools/call", {"name": "hr__headcount_report", "arguments": args}, id="loud",
                                    log_level="debug"), timeout=45)
    assert loud.status == 200 and loud.content_type.startswith("text/event-stream"), loud.headers
    events = messages_of(loud)
    assert events[-1].get("id") == "loud" and events[-1]["result"].get("isError") is not True, events[-1]
    logs = [e for e in events[:-1] if e.get("method") == "notifications/message"]
    assert logs and all(e["params"]["level"] in ("debug", "info", "notice", "warning", "error") for e in logs), events
    assert not [e for e in events[:-1] if e.get("method") == "notifications/progress"], "progress without a token"
    # At or above the level: nothing the tool logs reaches "emergency".
    none = post_modern(port, modern("tools/call", {"name": "hr__headcount_report", "arguments": args}, id="em",
                                    log_level="emergency"), timeout=45)
    assert ok_result(none, "em").get("isError") is not True


# ------------------------------------------------------------------------------------------------ subscriptions/listen


def test_listen_without_sse_accept_is_406(port: int) -> None:
    msg = modern("subscriptions/listen", {"notifications": {"toolsListChanged": True}}, id="L0")
    r = post_modern(port, msg, accept="application/json")
    assert r.status == 406, r


@pytest.mark.time_limit(30)
def test_listen_acknowledges_the_honoured_subset(port: int) -> None:
    wanted = {"toolsListChanged": True, "promptsListChanged": True, "resourcesListChanged": True,
              "resourceSubscriptions": ["broker://erp/reference/plants"]}
    stream = SSEStream(port, modern("subscriptions/listen", {"notifications": wanted}, id="L1"))
    try:
        assert stream.status == 200 and stream.headers.get("content-type", "").startswith("text/event-stream"), stream.headers
        assert "mcp-session-id" not in stream.headers
        ack = stream.next_message(timeout=5)
        assert ack.get("method") == "notifications/subscriptions/acknowledged" and "id" not in ack, ack
        assert ack["params"]["notifications"] == {"toolsListChanged": True, "promptsListChanged": True,
                                                  "resourcesListChanged": True}, ack
    finally:
        stream.close()
    # A subset is acknowledged as that subset.
    stream = SSEStream(port, modern("subscriptions/listen", {"notifications": {"promptsListChanged": True}}, id="L2"))
    try:
        ack = stream.next_message(timeout=5)
        assert ack["params"]["notifications"] == {"promptsListChanged": True}, ack
    finally:
        stream.close()
    time.sleep(0.2)
    # Closing the streams ended them; the broker keeps serving.
    ok_result(post_modern(port, modern("server/discover", id="after")), "after")
    status, _, _ = http_request(port, "GET", "/livez", timeout=5)
    assert status == 200


# ------------------------------------------------------------------------------------------------ MRTR confirmations
# A broker of its own with the demo configuration (config/broker.yaml: erp__approve_invoice is `confirm: true`),
# API keys and JWTs, so states can be carried to another principal and tenant.

sys.path.insert(0, str(REPO_ROOT / "scripts"))
import identities  # noqa: E402


class ConfirmBroker:
    def __init__(self, broker: HTTPBroker, root: Path) -> None:
        self.broker = broker
        self.root = root
        self.auth_dir = root / ".run" / "auth"
        self.keys = dict(line.removeprefix("export ").split("=", 1)
                         for line in (self.auth_dir / "keys.env").read_text().splitlines())
        self.audit_path = root / ".run" / "audit" / "audit.jsonl"
        self.admin = self.keys["DEMO_ADMIN_KEY"]  # ops-admin, acme, buyer among its roles
        self.globex = self.keys["DEMO_GLOBEX_KEY"]  # globex-etl, another tenant, also a buyer
        self.bob = identities.mint(str(self.auth_dir), "bob", "acme", ["buyer"], ttl=3600)  # same tenant, other principal

    @property
    def port(self) -> int:
        assert self.broker.port is not None
        return self.broker.port

    def call(self, name: str, arguments: dict[str, Any], *, token: str | None = None, caps: dict | None = None,
             extra: dict[str, Any] | None = None, id: str | None = None) -> dict[str, Any]:
        params: dict[str, Any] = {"name": name, "arguments": arguments, **(extra or {})}
        rid = id or "c-" + uuid.uuid4().hex[:8]
        msg = modern("tools/call", params, id=rid, capabilities=ELICITATION_CAPS if caps is None else caps)
        return ok_result(post_modern(self.port, msg, token=token or self.admin, timeout=15), rid)

    def invoice_status(self, invoice: str) -> str:
        result = self.call("erp__get_invoice", {"invoice_id": invoice})
        assert result.get("isError") is not True, result
        return result["structuredContent"]["status"]

    def approvals(self) -> int:
        """Audit lines of erp__approve_invoice calls that reached the ERP: outcome ok, or run after a confirmation."""
        time.sleep(0.3)  # the audit writer appends on its own queue
        if not self.audit_path.exists():
            return 0
        lines = [json.loads(line) for line in self.audit_path.read_text().splitlines() if line.strip()]
        return sum(1 for line in lines if line.get("target") == "erp__approve_invoice"
                   and (line.get("outcome") == "ok" or str(line.get("rule", "")).endswith("+confirmed")))


STATE_TTL_S = 4


@pytest.fixture(scope="module")
def confirm_broker(broker_bin: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConfirmBroker]:
    root = tmp_path_factory.mktemp("mrtr")
    shutil.copytree(REPO_ROOT / "config", root / "config")
    identities.generate(str(root / ".run" / "auth"), str(BROKER_BIN))
    conf = root / "config" / "broker.yaml"
    text = conf.read_text()
    assert text.startswith("server:\n") or "\nserver:\n" in text
    # A short state lifetime, so expiry is observable (every other round 2 follows its round 1 within milliseconds).
    text = text.replace("server:\n", f"server:\n  request_state: {{ ttl_seconds: {STATE_TTL_S} }}\n", 1)
    # No metrics listener: the demo's fixed port 9464 may be taken by another broker on this machine.
    conf.write_text("\n".join(line for line in text.split("\n") if not line.startswith("  metrics:")))
    broker = HTTPBroker(root, name="mrtr", config=root / "config" / "broker.yaml", env=broker_env()).start()
    try:
        yield ConfirmBroker(broker, root)
    finally:
        broker.stop()


@pytest.fixture(scope="module")
def blocked(confirm_broker: ConfirmBroker) -> list[str]:
    """Blocked invoices of acme, oldest first (the newest ones are touched by other suites' approvals)."""
    found = confirm_broker.call("erp__search_invoices", {"status": "blocked", "page_size": 20})
    ids = [item["invoice_id"] for item in found["structuredContent"]["items"]]
    assert len(ids) >= 6, found
    return ids


APPROVE = "erp__approve_invoice"
ACCEPT = {"confirm": {"action": "accept", "content": {"approve": True}}}


def approve_args(invoice: str) -> dict[str, str]:
    return {"invoice_id": invoice, "idempotency_key": "mrtr-" + uuid.uuid4().hex[:12]}


def round_one(cb: ConfirmBroker, args: dict[str, Any], *, token: str | None = None, name: str = APPROVE) -> str:
    result = cb.call(name, args, token=token)
    assert result["resultType"] == "input_required", result
    state = result["requestState"]
    assert isinstance(state, str) and len(state) >= 16, result
    return state


def assert_refused(result: dict[str, Any], code: str = "forbidden") -> None:
    assert result["resultType"] == "complete" and result.get("isError") is True, result
    assert broker_error_code(result) == code, result
    text = tool_text(result).lower()
    assert "confirmation" in text and "again" in text, text


def test_round_one_asks_through_elicitation(confirm_broker: ConfirmBroker, blocked: list[str]) -> None:
    args = approve_args(blocked[0])
    result = confirm_broker.call(APPROVE, args)
    assert result["resultType"] == "input_required" and result.get("isError") is not True, result
    ask = result["inputRequests"]["confirm"]
    assert ask["method"] == "elicitation/create", ask
    params = ask["params"]
    assert params["mode"] == "form" and params["message"].startswith("Confirm") and "erp__approve_invoice" in params["message"], params
    schema = params["requestedSchema"]
    assert schema["type"] == "object" and schema["properties"]["approve"]["type"] == "boolean", schema
    assert schema["required"] == ["approve"], schema
    assert isinstance(result["requestState"], str) and result["requestState"], result
    assert confirm_broker.invoice_status(blocked[0]) == "blocked", "round 1 ran the tool"


def test_accept_runs_once_and_replay_is_refused(confirm_broker: ConfirmBroker, blocked: list[str]) -> None:
    invoice = blocked[0]
    args = approve_args(invoice)
    before = confirm_broker.approvals()
    state = round_one(confirm_broker, args)
    done = confirm_broker.call(APPROVE, args, extra={"inputResponses": ACCEPT, "requestState": state})
    assert done["resultType"] == "complete" and done.get("isError") is not True, done
    assert done["structuredContent"]["invoice_id"] == invoice and done["structuredContent"]["status"] != "blocked", done
    assert confirm_broker.invoice_status(invoice) == done["structuredContent"]["status"]
    assert confirm_broker.approvals() == before + 1, "the approval did not run exactly once"
    # The same state again (same arguments and answer, the same idempotency key): refused, not re-run.
    again = confirm_broker.call(APPROVE, args, extra={"inputResponses": ACCEPT, "requestState": state})
    assert_refused(again)
    assert confirm_broker.approvals() == before + 1, "a replayed confirmation ran the tool"


def _flip(state: str) -> str:
    i = len(state) // 2
    return state[:i] + ("A" if state[i] != "A" else "B") + state[i + 1:]


TAMPERS = ["flipped", "truncated", "garbage", "other tool", "other arguments", "other key", "other principal",
           "other tenant", "expired"]


@pytest.mark.time_limit(60)
@pytest.mark.parametrize("tamper", TAMPERS)
def test_tampered_state_is_refused_and_nothing_runs(confirm_broker: ConfirmBroker, blocked: list[str], tamper: str) -> None:
    invoice, other = blocked[1], blocked[2]
    args = approve_args(invoice)
    before = confirm_broker.approvals()
    token: str | None = None
    send_args = args
    if tamper == "flipped":
        state = _flip(round_one(confirm_broker, args))
    elif tamper == "truncated":
        state = round_one(confirm_broker, args)[:-6]
    elif tamper == "garbage":
        state = base64.urlsafe_b64encode(b"x" * 64).decode()
    elif tamper == "other tool":
        state = round_one(confirm_broker, {"id": "opp-0001", "body": {"stage": "closed_won"}}, name="crm__update_opportunity")
    elif tamper == "other arguments":
        state = round_one(confirm_broker, args)
        send_args = {**args, "invoice_id": other}
    elif tamper == "other key":
        state = round_one(confirm_broker, args)
        send_args = {**args, "idempotency_key": "mrtr-" + uuid.uuid4().hex[:12]}
    elif tamper == "other principal":
        state = round_one(confirm_broker, args)
        token = confirm_broker.bob
    elif tamper == "other tenant":
        state = round_one(confirm_broker, args)
        token = confirm_broker.globex
    else:
        state = round_one(confirm_broker, args)
        time.sleep(STATE_TTL_S + 1.5)
    result = confirm_broker.call(APPROVE, send_args, token=token, extra={"inputResponses": ACCEPT, "requestState": state})
    assert_refused(result)
    assert confirm_broker.approvals() == before, f"{tamper}: the tool ran"
    assert confirm_broker.invoice_status(invoice) == "blocked"
    assert confirm_broker.invoice_status(other) == "blocked"


@pytest.mark.parametrize("answer", [
    {"action": "decline"}, {"action": "cancel"}, {"action": "accept", "content": {"approve": False}},
])
def test_decline_is_declined(confirm_broker: ConfirmBroker, blocked: list[str], answer: dict) -> None:
    invoice = blocked[3]
    args = approve_args(invoice)
    before = confirm_broker.approvals()
    state = round_one(confirm_broker, args)
    result = confirm_broker.call(APPROVE, args, extra={"inputResponses": {"confirm": answer}, "requestState": state})
    assert result.get("isError") is True and broker_error_code(result) == "declined", result
    assert "nothing was changed" in tool_text(result), result
    assert confirm_broker.approvals() == before and confirm_broker.invoice_status(invoice) == "blocked"


def test_valid_state_without_an_answer_asks_again(confirm_broker: ConfirmBroker, blocked: list[str]) -> None:
    args = approve_args(blocked[4])
    state = round_one(confirm_broker, args)
    result = confirm_broker.call(APPROVE, args, extra={"requestState": state})
    assert result["resultType"] == "input_required" and result["inputRequests"]["confirm"]["method"] == "elicitation/create", result
    assert confirm_broker.invoice_status(blocked[4]) == "blocked"


def test_client_without_elicitation_cannot_confirm(confirm_broker: ConfirmBroker, blocked: list[str]) -> None:
    result = confirm_broker.call(APPROVE, approve_args(blocked[5]), caps={})
    assert result["resultType"] == "complete" and result.get("isError") is True, result
    assert "does not support MCP elicitation" in tool_text(result), result
    assert "inputRequests" not in result and "requestState" not in result
    assert confirm_broker.invoice_status(blocked[5]) == "blocked"


def test_confirm_broker_requires_auth_on_the_modern_path(confirm_broker: ConfirmBroker) -> None:
    msg = modern("tools/list", {}, id="na")
    r = post_modern(confirm_broker.port, msg)
    assert r.status == 401 and r.headers.get("www-authenticate", "").startswith("Bearer "), r
    assert_no_session(r)


# ------------------------------------------------------------------------------------------------ listen + reload
# A small broker of its own whose configuration is edited under it: a change of this principal's visible tools
# arrives on the open listen stream as notifications/tools/list_changed naming the subscription.

RELOAD_CONFIG = """server:
  tenants: [acme]
  reload: {{ watch: true, interval_ms: 200 }}
  http:
    port: 0
    principal: {{ id: dev, tenant: acme, roles: [analyst] }}
  stdio:
    principal: {{ id: local-user, tenant: acme, roles: [analyst] }}
backends:
  erp:
    kind: mock-erp
    credentials: {{ client: "100", user: BROKER_SVC, password: env:ERP_PASSWORD }}
    system: {{ seed: 42, tenants: [acme], client: "100", user: BROKER_SVC, password: env:ERP_SYSTEM_PASSWORD, latency_ms: 0 }}
policy:
  roles:
    analyst: {{ tools: ["*"], deny_tools: [{deny}] }}
"""


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def _tool_names(port: int) -> set[str]:
    names: set[str] = set()
    cursor = None
    for page in range(20):
        params = {"cursor": cursor} if cursor else {}
        result = ok_result(post_modern(port, modern("tools/list", params, id=f"tl{page}")), f"tl{page}")
        names |= {t["name"] for t in result["tools"]}
        cursor = result.get("nextCursor")
        if not cursor:
            break
    return names


@pytest.mark.time_limit(60)
def test_listen_announces_a_reload_that_changes_the_visible_tools(broker_bin: str, tmp_path: Path) -> None:
    conf = tmp_path / "broker.yaml"
    _write_atomically(conf, RELOAD_CONFIG.format(deny=""))
    broker = HTTPBroker(tmp_path, name="listen-reload", config=conf, env=broker_env()).start()
    try:
        assert broker.port is not None
        assert "erp__check_inventory" in _tool_names(broker.port)
        stream = SSEStream(broker.port, modern("subscriptions/listen", {"notifications": {"toolsListChanged": True}}, id="sub-7"))
        try:
            ack = stream.next_message(timeout=5)
            assert ack["method"] == "notifications/subscriptions/acknowledged", ack
            _write_atomically(conf, RELOAD_CONFIG.format(deny='"erp__check_inventory"'))
            note = stream.next_message(timeout=15)
            assert note.get("method") == "notifications/tools/list_changed" and "id" not in note, note
            assert note["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == "sub-7", note
            assert "erp__check_inventory" not in _tool_names(broker.port)
        finally:
            stream.close()
        time.sleep(0.2)
        ok_result(post_modern(broker.port, modern("server/discover", id="after")), "after")
    finally:
        broker.stop()
