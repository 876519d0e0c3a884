"""MCP 2026-07-28 over stdio, raw newline-delimited JSON-RPC over pipes (no SDK).

The era is decided by the FIRST request: an enveloped non-initialize request opens a modern connection, anything
else a legacy one; afterwards the other era is refused (-32022 for initialize on a modern connection, -32600 for an
enveloped request on a legacy one).
"""

from __future__ import annotations

import json
import time
from typing import Any, Iterator

import pytest

from e2e_helpers import PROTOCOL_VERSION, RawStdio, rpc
from modern_wire import (
    MODERN_VERSION,
    SUBSCRIPTION_ID_KEY,
    SUPPORTED_VERSIONS,
    assert_server_info,
    modern,
    stdio_request,
)
from sdk_contract import LONG_TOOLS

SPEND = {"name": "erp__spend_report", "arguments": LONG_TOOLS["erp__spend_report"]}


@pytest.fixture
def raw() -> Iterator[RawStdio]:
    proc = RawStdio().start()
    yield proc
    proc.stop()


def discover(raw: RawStdio, id: Any = "d") -> dict[str, Any]:
    reply, before = stdio_request(raw, modern("server/discover", id=id))
    assert not before, before
    assert "error" not in reply, reply
    return reply["result"]


def error_of(reply: dict[str, Any], code: int, id: Any) -> dict[str, Any]:
    assert reply.get("id") == id and "result" not in reply, reply
    assert reply["error"]["code"] == code, reply
    return reply["error"]


def answered(raw: RawStdio, id: Any) -> list[dict[str, Any]]:
    return [m for m in map(json.loads, raw.stdout_lines) if m.get("id") == id and "method" not in m]


# ------------------------------------------------------------------------------------------------ modern connection


def test_modern_discover_then_initialize_is_refused(raw: RawStdio) -> None:
    result = discover(raw)
    assert result["resultType"] == "complete" and result["supportedVersions"] == SUPPORTED_VERSIONS, result
    assert result["capabilities"]["tools"] == {"listChanged": True}, result
    assert result["ttlMs"] == 0 and result["cacheScope"] == "public", result
    assert_server_info(result)
    reply, _ = stdio_request(raw, rpc("initialize", {"protocolVersion": PROTOCOL_VERSION, "capabilities": {},
                                                     "clientInfo": {"name": "late", "version": "1"}}, id="init"))
    error = error_of(reply, -32022, "init")
    # On a modern connection only 2026-07-28 is available, so the broker may name just that (the ladder's -32022
    # names every version); the modern one comes first either way.
    supported = error["data"]["supported"]
    assert supported[0] == MODERN_VERSION and set(supported) <= set(SUPPORTED_VERSIONS), error
    assert error["data"]["requested"] == PROTOCOL_VERSION, error
    # The connection stays modern and usable.
    assert discover(raw, id="d2")["resultType"] == "complete"


def test_modern_results_and_missing_envelope(raw: RawStdio) -> None:
    discover(raw)
    reply, _ = stdio_request(raw, modern("tools/list", {}, id="tl"))
    result = reply["result"]
    assert result["resultType"] == "complete" and result["ttlMs"] == 0 and result["cacheScope"] == "private", result
    assert result["tools"] and result["nextCursor"], result
    assert_server_info(result)
    # A later request without the envelope, or with half of it.
    reply, _ = stdio_request(raw, rpc("tools/list", {}, id="bare"))
    error_of(reply, -32602, "bare")
    reply, _ = stdio_request(raw, rpc("tools/list", {"_meta": {"io.modelcontextprotocol/protocolVersion": MODERN_VERSION}}, id="half"))
    error_of(reply, -32602, "half")
    reply, _ = stdio_request(raw, rpc("tools/list", id="noparams"))
    error_of(reply, -32602, "noparams")


def test_modern_version_type_and_support(raw: RawStdio) -> None:
    # No headers on stdio: a non-string version is a shape error (-32602), an unknown one -32022 with the list.
    discover(raw)
    reply, _ = stdio_request(raw, modern("tools/list", {}, id="num", version=20260728))
    error_of(reply, -32602, "num")
    reply, _ = stdio_request(raw, modern("tools/list", {}, id="far", version="2099-01-01"))
    error = error_of(reply, -32022, "far")
    assert error["data"]["requested"] == "2099-01-01" and error["data"]["supported"][0] == MODERN_VERSION, error


@pytest.mark.parametrize("method", ["ping", "logging/setLevel", "resources/subscribe", "bogus/method"])
def test_modern_removed_methods_are_method_not_found(raw: RawStdio, method: str) -> None:
    discover(raw)
    params = {"level": "debug"} if method == "logging/setLevel" else {"uri": "broker://erp/reference/plants"}
    reply, _ = stdio_request(raw, modern(method, params, id="gone"))
    error_of(reply, -32601, "gone")


def test_modern_unknown_resource_is_invalid_params_with_uri(raw: RawStdio) -> None:
    discover(raw)
    uri = "broker://erp/reference/no-such-thing"
    reply, _ = stdio_request(raw, modern("resources/read", {"uri": uri}, id="nr"))
    assert error_of(reply, -32602, "nr")["data"]["uri"] == uri


@pytest.mark.time_limit(60)
def test_modern_logs_only_with_log_level(raw: RawStdio) -> None:
    discover(raw)
    call = {"name": "hr__headcount_report", "arguments": LONG_TOOLS["hr__headcount_report"]}
    reply, before = stdio_request(raw, modern("tools/call", call, id="quiet"), timeout=30)
    assert reply["result"]["resultType"] == "complete" and not before, before
    reply, before = stdio_request(raw, modern("tools/call", call, id="loud", log_level="debug"), timeout=30)
    assert reply["result"].get("isError") is not True, reply
    assert [m for m in before if m.get("method") == "notifications/message"], "no logs with _meta logLevel debug"
    assert all(m.get("method") == "notifications/message" for m in before), before


@pytest.mark.time_limit(60)
def test_modern_cancel_after_progress_gets_no_response(raw: RawStdio) -> None:
    discover(raw)
    stdio_request(raw, modern("tools/call", {"name": "erp__search_purchase_orders", "arguments": {"page_size": 1}}, id="warm"), timeout=30)
    raw.send(modern("tools/call", SPEND, id="doomed", progress_token="c26"))
    note = raw.recv(timeout=10)
    assert note.get("method") == "notifications/progress" and note["params"]["progressToken"] == "c26", note
    raw.send(rpc("notifications/cancelled", {"requestId": "doomed", "reason": "e2e"}, id=None))
    reply, before = stdio_request(raw, modern("server/discover", id="alive"))
    assert reply["result"]["resultType"] == "complete"
    assert all(m.get("method") == "notifications/progress" for m in before), before
    time.sleep(1.5)  # the report takes well under a second when it is not cancelled
    assert not answered(raw, "doomed"), "a cancelled request was answered"


@pytest.mark.time_limit(30)
def test_modern_listen_is_acknowledged_and_cancel_ends_it_silently(raw: RawStdio) -> None:
    discover(raw)
    wanted = {"toolsListChanged": True, "resourcesListChanged": True, "resourceSubscriptions": ["broker://erp/reference/plants"]}
    raw.send(modern("subscriptions/listen", {"notifications": wanted}, id="L"))
    ack = raw.recv(timeout=5)
    assert ack.get("method") == "notifications/subscriptions/acknowledged" and "id" not in ack, ack
    assert ack["params"]["notifications"] == {"toolsListChanged": True, "resourcesListChanged": True}, ack
    sub = (ack["params"].get("_meta") or {}).get(SUBSCRIPTION_ID_KEY)
    assert sub in (None, "L"), ack
    # Requests keep being served beside the open subscription.
    reply, before = stdio_request(raw, modern("tools/list", {}, id="beside"))
    assert reply["result"]["tools"] and not before, before
    raw.send(rpc("notifications/cancelled", {"requestId": "L"}, id=None))
    reply, before = stdio_request(raw, modern("server/discover", id="after"))
    assert reply["result"]["resultType"] == "complete" and not before, before
    time.sleep(0.5)
    assert not answered(raw, "L"), "a cancelled listen was answered"


def test_modern_connection_gets_no_unsolicited_notifications(raw: RawStdio) -> None:
    discover(raw)
    for i in range(3):
        stdio_request(raw, modern("tools/list", {}, id=f"t{i}"))
    time.sleep(0.3)
    stray = [m for m in map(json.loads, raw.stdout_lines) if "method" in m]
    assert not stray, stray


# ------------------------------------------------------------------------------------------------ legacy connection


def test_legacy_connection_refuses_the_modern_era(raw: RawStdio) -> None:
    init = raw.initialize()
    assert init["result"]["protocolVersion"] == PROTOCOL_VERSION
    reply, _ = stdio_request(raw, modern("tools/list", {}, id="env"))
    error_of(reply, -32600, "env")
    reply, _ = stdio_request(raw, rpc("server/discover", {}, id="disc"))
    error_of(reply, -32601, "disc")
    reply, _ = stdio_request(raw, modern("server/discover", id="disc2"))
    error_of(reply, -32600, "disc2")
    # Still a working 2025 connection: no resultType, ping answered.
    reply, _ = stdio_request(raw, rpc("tools/list", {}, id="plain"))
    assert reply["result"]["tools"] and "resultType" not in reply["result"], reply
    reply, _ = stdio_request(raw, rpc("ping", id="p"))
    assert reply == {"jsonrpc": "2.0", "id": "p", "result": {}}


def test_enveloped_initialize_first_opens_a_legacy_connection(raw: RawStdio) -> None:
    # initialize carrying an envelope is still initialize: the connection is legacy.
    msg = modern("initialize", {"protocolVersion": PROTOCOL_VERSION, "capabilities": {},
                                "clientInfo": {"name": "mixed", "version": "1"}}, id="i")
    reply, _ = stdio_request(raw, msg)
    assert "result" in reply and reply["result"]["protocolVersion"] == PROTOCOL_VERSION, (
        f"an initialize carrying an envelope opens a legacy connection and must be served as initialize there "
        f"(i16-behaviour 'anything else a legacy one'; SDK serve_dual_era_loop does so): {reply}")
    raw.send(rpc("notifications/initialized", id=None))
    reply, _ = stdio_request(raw, modern("tools/list", {}, id="env"))
    error_of(reply, -32600, "env")
