"""Streamable HTTP on the wire (standard library only): exact statuses, headers and JSON-RPC error codes."""

from __future__ import annotations

import http.client
import json
import secrets
import time

import pytest

from e2e_helpers import (
    ACCEPT_BOTH,
    PROTOCOL_VERSION,
    SECRETS,
    SESSION_ID_RE,
    HTTPBroker,
    get_json,
    http_request,
    open_raw_session,
    parse_sse,
    post_raw,
    post_rpc,
    rpc,
)

LIST_TOOLS = rpc("tools/list", {}, id=1)


@pytest.fixture(scope="module")
def port(http_broker: HTTPBroker) -> int:
    assert http_broker.port is not None
    return http_broker.port


@pytest.fixture(scope="module")
def sid(port: int) -> str:
    """A raw session shared by the read-only checks of this module (it never sets a log level)."""
    return open_raw_session(port)


def assert_rpc_error(body: bytes, code: int, id: object = None) -> dict:
    doc = json.loads(body)
    assert doc.get("jsonrpc") == "2.0", doc
    assert doc["error"]["code"] == code, doc
    assert doc.get("id") == id, doc
    assert isinstance(doc["error"]["message"], str) and doc["error"]["message"]
    return doc


# ------------------------------------------------------------------------------------------------ health


def test_livez(http_broker: HTTPBroker) -> None:
    status, body = get_json(f"{http_broker.base}/livez")
    assert status == 200 and body == {"status": "alive"}


def test_readyz(http_broker: HTTPBroker) -> None:
    status, body = get_json(f"{http_broker.base}/readyz")
    assert status == 200, body
    assert body["status"] == "ready", body
    assert body["backends"]["erp"]["status"] == "up", body
    assert body["backends"]["hr"]["status"] == "up", body


# ------------------------------------------------------------------------------------------------ lifecycle


def test_initialize_returns_session_id(port: int) -> None:
    init = rpc("initialize", {"protocolVersion": PROTOCOL_VERSION, "capabilities": {},
                              "clientInfo": {"name": "raw", "version": "1"}}, id="i1")
    r = post_rpc(port, init, protocol_version=None)
    assert r.status == 200, r
    assert r.content_type.startswith("application/json")
    session = r.headers.get("mcp-session-id", "")
    assert SESSION_ID_RE.match(session), f"Mcp-Session-Id {session!r} is not 32 hex characters"
    doc = r.json()
    assert doc["id"] == "i1"
    assert doc["result"]["protocolVersion"] == PROTOCOL_VERSION
    assert doc["result"]["serverInfo"]["name"] == "mcp-broker"
    other = post_rpc(port, init, protocol_version=None).headers.get("mcp-session-id")
    assert other and other != session, "two initializes produced the same session id"


def test_initialize_offers_latest_version(port: int) -> None:
    r = post_rpc(port, rpc("initialize", {"protocolVersion": "1999-01-01", "capabilities": {},
                                          "clientInfo": {"name": "old", "version": "0"}}), protocol_version=None)
    assert r.status == 200
    assert r.json()["result"]["protocolVersion"] == PROTOCOL_VERSION


def test_notification_is_202_with_empty_body(port: int, sid: str) -> None:
    r = post_rpc(port, rpc("notifications/initialized", id=None), session=sid)
    assert r.status == 202 and r.body == b""
    r = post_rpc(port, rpc("notifications/cancelled", {"requestId": "never-sent"}, id=None), session=sid)
    assert r.status == 202 and r.body == b""


def test_client_response_is_202(port: int, sid: str) -> None:
    r = post_raw(port, json.dumps({"jsonrpc": "2.0", "id": "srv-1", "result": {}}), session=sid)
    assert r.status == 202 and r.body == b""


def test_ping(port: int, sid: str) -> None:
    r = post_rpc(port, rpc("ping", id="p"), session=sid)
    assert r.status == 200
    assert r.json() == {"jsonrpc": "2.0", "id": "p", "result": {}}


def test_unknown_method(port: int, sid: str) -> None:
    r = post_rpc(port, rpc("bogus/method", {}, id=77), session=sid)
    assert r.status == 200, r
    assert_rpc_error(r.body, -32601, id=77)


def test_tools_list_first_page(port: int, sid: str) -> None:
    r = post_rpc(port, LIST_TOOLS, session=sid)
    assert r.status == 200 and r.content_type.startswith("application/json")
    result = r.json()["result"]
    assert len(result["tools"]) == 5 and isinstance(result["nextCursor"], str)


# ------------------------------------------------------------------------------------------------ refusals


def test_malformed_json_is_400_parse_error(port: int, sid: str) -> None:
    r = post_raw(port, b'{"jsonrpc": "2.0", "id": 1, "method": "ping"', session=sid)
    assert r.status == 400, r
    assert_rpc_error(r.body, -32700, id=None)


def test_batch_is_400_invalid_request(port: int, sid: str) -> None:
    r = post_raw(port, json.dumps([rpc("ping", id=1), rpc("ping", id=2)]), session=sid)
    assert r.status == 400, r
    assert_rpc_error(r.body, -32600, id=None)


def test_body_over_limit_is_413(port: int, sid: str) -> None:
    padding = "x" * (300 * 1024)
    body = json.dumps(rpc("tools/call", {"name": "hr__get_employee", "arguments": {"employee_id": padding}}))
    r = post_raw(port, body, session=sid)
    assert r.status == 413, r


def test_chunked_body_over_limit_is_413(port: int, sid: str) -> None:
    # No Content-Length: the cap must hold while the body streams in.
    chunks = [b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"'] + [b"y" * 65536] * 5 + [b'"}}']
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        headers = {"Content-Type": "application/json", "Accept": ACCEPT_BOTH, "Mcp-Session-Id": sid,
                   "MCP-Protocol-Version": PROTOCOL_VERSION, "Transfer-Encoding": "chunked"}
        try:
            conn.request("POST", "/mcp", body=iter(chunks), headers=headers, encode_chunked=True)
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert conn.getresponse().status == 413
    finally:
        conn.close()


def test_body_just_under_limit_is_accepted(port: int, sid: str) -> None:
    # 200 KiB is within max_body_bytes (256 KiB): the size check must not refuse it.
    body = json.dumps(rpc("ping", {"pad": "z" * (200 * 1024)}, id="big"))
    r = post_raw(port, body, session=sid)
    assert r.status == 200 and r.json()["result"] == {}


@pytest.mark.parametrize("origin", [
    "http://evil.example", "null", "http://localhost.evil.example", "https://claude.ai.evil.example", "http://127.0.0.2",
])
def test_bad_origin_is_403(port: int, sid: str, origin: str) -> None:
    r = post_rpc(port, LIST_TOOLS, session=sid, headers={"Origin": origin})
    assert r.status == 403, r
    doc = json.loads(r.body)
    assert "id" not in doc or doc["id"] is None


def test_allowed_origin_is_served(port: int, sid: str) -> None:
    r = post_rpc(port, LIST_TOOLS, session=sid, headers={"Origin": "http://localhost:5173"})
    assert r.status == 200, r


def test_bad_origin_on_get_and_delete_is_403(port: int, sid: str) -> None:
    headers = {"Origin": "http://evil.example", "Mcp-Session-Id": sid, "Accept": "text/event-stream"}
    status, _, _ = http_request(port, "DELETE", "/mcp", headers=headers)
    assert status == 403
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/mcp", headers=headers)
        assert conn.getresponse().status == 403
    finally:
        conn.close()
    # The refused DELETE must not have ended the session.
    assert post_rpc(port, LIST_TOOLS, session=sid).status == 200


def test_unsupported_protocol_version_header_is_400(port: int, sid: str) -> None:
    r = post_rpc(port, LIST_TOOLS, session=sid, protocol_version="1999-01-01")
    assert r.status == 400, r
    assert json.loads(r.body)["error"]["code"] in (-32600, -32602)


def test_absent_protocol_version_header_is_allowed(port: int, sid: str) -> None:
    # Absent means 2025-03-26 (transport spec); only an invalid or unsupported value is refused.
    r = post_rpc(port, LIST_TOOLS, session=sid, protocol_version=None)
    assert r.status == 200, r


def test_missing_session_is_400(port: int) -> None:
    r = post_rpc(port, LIST_TOOLS)
    assert r.status == 400, r
    assert json.loads(r.body)["error"]["code"] == -32600


def test_unknown_session_is_404(port: int) -> None:
    r = post_rpc(port, LIST_TOOLS, session=secrets.token_hex(16))
    assert r.status == 404, r


def test_delete_session_then_404(port: int) -> None:
    session = open_raw_session(port)
    assert post_rpc(port, LIST_TOOLS, session=session).status == 200
    status, _, _ = http_request(port, "DELETE", "/mcp", headers={"Mcp-Session-Id": session})
    assert status == 200
    r = post_rpc(port, LIST_TOOLS, session=session)
    assert r.status == 404, r
    status, _, _ = http_request(port, "DELETE", "/mcp", headers={"Mcp-Session-Id": session})
    assert status == 404


def test_delete_without_session_is_400(port: int) -> None:
    status, _, _ = http_request(port, "DELETE", "/mcp")
    assert status == 400


def test_put_is_405_with_allow(port: int) -> None:
    status, headers, _ = http_request(port, "PUT", "/mcp", body=b"{}", headers={"Content-Type": "application/json"})
    assert status == 405
    allow = {m.strip() for m in headers.get("allow", "").split(",")}
    assert {"GET", "POST", "DELETE"} <= allow, headers


def test_accept_without_json_or_sse_is_406(port: int, sid: str) -> None:
    r = post_rpc(port, LIST_TOOLS, session=sid, headers={"Accept": "text/html"})
    assert r.status == 406, r


def test_deeply_nested_json_is_refused(port: int, sid: str) -> None:
    r = post_raw(port, b"[" * 100_000 + b"]" * 100_000, session=sid)
    assert r.status == 400, r
    assert json.loads(r.body)["error"]["code"] in (-32700, -32600)
    assert post_rpc(port, rpc("ping", id=2), session=sid).status == 200, "the server did not survive"


def test_invalid_log_level_is_invalid_params(port: int, sid: str) -> None:
    r = post_rpc(port, rpc("logging/setLevel", {"level": "loud"}, id=4), session=sid)
    assert r.status == 200
    assert_rpc_error(r.body, -32602, id=4)


def test_wrong_content_type_is_415(port: int, sid: str) -> None:
    r = post_raw(port, json.dumps(LIST_TOOLS), session=sid, content_type="text/plain")
    assert r.status == 415, r


def test_get_opens_sse_stream(port: int) -> None:
    session = open_raw_session(port)  # its own session: only one GET stream per session
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/mcp", headers={"Accept": "text/event-stream", "Mcp-Session-Id": session,
                                             "MCP-Protocol-Version": PROTOCOL_VERSION})
        resp = conn.getresponse()  # returns once the headers are in; the stream itself stays open
        assert resp.status == 200
        assert resp.getheader("Content-Type", "").startswith("text/event-stream")
    finally:
        conn.close()


@pytest.mark.time_limit(30)
def test_get_stream_can_be_reopened_after_disconnect(port: int) -> None:
    # A client whose server stream dropped (network blip, proxy timeout) reconnects with a new GET.
    session = open_raw_session(port)
    headers = {"Accept": "text/event-stream", "Mcp-Session-Id": session, "MCP-Protocol-Version": PROTOCOL_VERSION}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", "/mcp", headers=headers)
    assert conn.getresponse().status == 200
    conn.close()
    statuses: list[int] = []
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        again = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            again.request("GET", "/mcp", headers=headers)
            statuses.append(again.getresponse().status)
        finally:
            again.close()
        if statuses[-1] == 200:
            break
        time.sleep(0.25)
    assert statuses[-1] == 200, (
        f"a new GET stream was refused for 5 s after the client closed the previous one: statuses {sorted(set(statuses))} "
        "(SERVER BUG: the closed stream stays attached to the session until a keep-alive write fails, ~30 s)")


def test_get_without_session_is_400(port: int) -> None:
    status, _, _ = http_request(port, "GET", "/mcp", headers={"Accept": "text/event-stream"}, timeout=5)
    assert status == 400


# ------------------------------------------------------------------------------------------------ tools/call


def test_tools_call_without_progress_is_json(port: int, sid: str) -> None:
    call = rpc("tools/call", {"name": "hr__list_departments", "arguments": {}}, id="d")
    r = post_rpc(port, call, session=sid, timeout=30)
    assert r.status == 200 and r.content_type.startswith("application/json"), r.headers
    doc = r.json()
    assert doc["id"] == "d" and doc["result"].get("isError") is not True, doc
    assert isinstance(doc["result"]["structuredContent"], dict)


@pytest.mark.time_limit(60)
def test_tools_call_with_progress_token_streams_sse(port: int, sid: str) -> None:
    call = rpc("tools/call", {"name": "erp__spend_report",
                              "arguments": {"from_date": "2023-01-01", "to_date": "2026-06-30"},
                              "_meta": {"progressToken": "tok-42"}}, id=9)
    r = post_rpc(port, call, session=sid, timeout=45)
    assert r.status == 200
    assert r.content_type.startswith("text/event-stream"), r.headers
    events = parse_sse(r.body)
    assert events, "empty SSE body"
    final = events[-1]
    assert final.get("id") == 9 and "result" in final, f"the stream must end with the response: {final}"
    assert final["result"].get("isError") is not True, final
    notes = events[:-1]
    assert all("method" in n and "id" not in n for n in notes), "only notifications may precede the response"
    progress = [n["params"] for n in notes if n["method"] == "notifications/progress"]
    assert len(progress) >= 2, notes
    assert all(p["progressToken"] == "tok-42" for p in progress)
    values = [p["progress"] for p in progress]
    assert all(b > a for a, b in zip(values, values[1:])), values
    assert values[-1] == progress[-1]["total"]
    assert final["result"]["structuredContent"]["order_count"] == int(values[-1])


def test_tools_call_unknown_tool_over_http(port: int, sid: str) -> None:
    r = post_rpc(port, rpc("tools/call", {"name": "nope__nothing", "arguments": {}}, id=3), session=sid)
    assert r.status == 200
    assert_rpc_error(r.body, -32602, id=3)


# ------------------------------------------------------------------------------------------------ 2026 probe


@pytest.mark.parametrize("version", [None, "2026-07-28"])
def test_server_discover_is_refused_quickly(port: int, version: str | None) -> None:
    probe = {"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {"_meta": {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}}}}
    started = time.monotonic()
    r = post_rpc(port, probe, protocol_version=version, timeout=5)
    elapsed = time.monotonic() - started
    assert elapsed < 2.0, f"server/discover took {elapsed:.2f} s"
    if 400 <= r.status < 500:
        return
    assert r.status == 200 and "error" in r.json(), (r.status, r.body)


# ------------------------------------------------------------------------------------------------ logs


def test_http_logs_are_json_without_secrets(http_broker: HTTPBroker, port: int, sid: str) -> None:
    # Exercise a backend call first, so the log holds call lines.
    post_rpc(port, rpc("tools/call", {"name": "erp__list_cost_centers", "arguments": {}}, id=1), session=sid, timeout=30)
    text = http_broker.stderr_text()
    complete = text[: text.rfind("\n") + 1]  # the server may be mid-way through writing the last line
    lines = [line for line in complete.splitlines() if line.strip()]
    assert lines, "the HTTP broker wrote no logs"
    for line in lines:
        entry = json.loads(line)
        assert "level" in entry and "msg" in entry, line[:200]
    for name, value in SECRETS.items():
        assert value not in text, f"{name} leaked into the logs"
