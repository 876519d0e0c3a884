"""stdio transport: the SDK contract (legacy, 2026-07-28 and auto modes), then raw newline-delimited JSON-RPC over pipes."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from e2e_helpers import PROTOCOL_VERSION, SECRETS, RawStdio, rpc
from sdk_contract import SDKContract
from sdk_support import MODES, Connected, open_client, stdio_factory, stdio_server

MAX_LINE = 4 * 1024 * 1024


@pytest.fixture(scope="module", params=MODES)
async def mcp(request: pytest.FixtureRequest, broker_bin: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Connected]:
    """One stdio broker process per connect mode, driven by the official SDK client (siblings get their own)."""
    workdir: Path = tmp_path_factory.mktemp(f"stdio-{request.param}")
    transport, errlog = stdio_server(workdir, request.param)
    try:
        async with AsyncExitStack() as stack:
            yield await open_client(stack, transport, "stdio", request.param,
                                    server_factory=stdio_factory(workdir, request.param),
                                    server_log=lambda: (workdir / f"{request.param}.stderr.log").read_text(errors="replace"))
    finally:
        errlog.close()
    for path in workdir.glob("*.stderr.log"):
        logs = path.read_text(errors="replace")
        for name, value in SECRETS.items():
            assert value not in logs, f"the stdio broker logged the value of {name} ({path.name})"


@pytest.mark.anyio
class TestStdioSDK(SDKContract):
    """Every SDK check over stdio."""


# ------------------------------------------------------------------------------------------------------------
# Raw stdio: no SDK, exact bytes.
# ------------------------------------------------------------------------------------------------------------


@pytest.fixture
def raw() -> RawStdio:
    proc = RawStdio().start()
    yield proc
    proc.stop()


def test_raw_initialize_and_ping(raw: RawStdio) -> None:
    reply = raw.initialize()
    assert reply["jsonrpc"] == "2.0" and reply["id"] == "init"
    assert reply["result"]["protocolVersion"] == PROTOCOL_VERSION
    assert reply["result"]["serverInfo"]["name"] == "mcp-broker"
    raw.send(rpc("ping", id=7))
    pong, _ = raw.recv_response(7)
    assert pong == {"jsonrpc": "2.0", "id": 7, "result": {}}


def test_raw_version_negotiation(raw: RawStdio) -> None:
    raw.send(rpc("initialize", {"protocolVersion": "1999-01-01", "capabilities": {},
                                "clientInfo": {"name": "old", "version": "0"}}, id=1))
    reply, _ = raw.recv_response(1)
    assert "error" not in reply, reply
    assert reply["result"]["protocolVersion"] == PROTOCOL_VERSION


def test_raw_request_before_initialize_is_refused(raw: RawStdio) -> None:
    raw.send(rpc("tools/list", {}, id=1))
    reply, _ = raw.recv_response(1)
    assert reply["error"]["code"] == -32600, reply


def test_raw_second_initialize_is_refused(raw: RawStdio) -> None:
    raw.initialize()
    raw.send(rpc("initialize", {"protocolVersion": PROTOCOL_VERSION, "capabilities": {},
                                "clientInfo": {"name": "again", "version": "1"}}, id="again"))
    reply, _ = raw.recv_response("again")
    assert reply["error"]["code"] == -32600, reply


def test_raw_blank_lines_and_deep_nesting(raw: RawStdio) -> None:
    raw.write(b"\n   \n\r\n")  # blank lines are not messages: no reply
    raw.write(b"[" * 100_000 + b"]" * 100_000 + b"\n")
    error = raw.recv(timeout=10)
    assert error["id"] is None and error["error"]["code"] in (-32700, -32600), error
    raw.send(rpc("ping", id=3))
    pong, before = raw.recv_response(3)
    assert pong["result"] == {} and not before, before


def test_raw_malformed_line_then_ping(raw: RawStdio) -> None:
    raw.write(b'{"jsonrpc": "2.0", "id": 1, "method": "ping",,}\n')
    error = raw.recv(timeout=10)
    assert error["jsonrpc"] == "2.0"
    assert error["id"] is None
    assert error["error"]["code"] == -32700, error
    raw.send(rpc("ping", id=2))
    pong, before = raw.recv_response(2)
    assert pong["result"] == {} and not before


def test_raw_invalid_request_keeps_id(raw: RawStdio) -> None:
    raw.send({"jsonrpc": "2.0", "id": 5, "method": 42})
    error = raw.recv(timeout=10)
    assert error["id"] == 5 and error["error"]["code"] == -32600, error
    raw.send({"jsonrpc": "2.0", "id": None, "method": "ping"})  # a request id is never null
    error = raw.recv(timeout=10)
    assert error["error"]["code"] == -32600, error
    raw.send({"jsonrpc": "1.0", "id": 8, "method": "ping"})
    error = raw.recv(timeout=10)
    assert error["id"] == 8 and error["error"]["code"] == -32600, error
    raw.send([rpc("ping", id=6)])  # a batch: removed from MCP in 2025-06-18
    error = raw.recv(timeout=10)
    assert error["error"]["code"] == -32600, error


@pytest.mark.time_limit(60)
def test_raw_oversized_line_then_ping(raw: RawStdio) -> None:
    # 5 MiB without a newline, then the newline: one error for the whole line, and the server keeps serving.
    chunk = b"x" * (1024 * 1024)
    raw.write(b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"')
    for _ in range(5):
        raw.write(chunk)
    raw.write(b'"}}\n')
    raw.send(rpc("ping", id="after"))
    pong, before = raw.recv_response("after", timeout=30)
    assert pong["result"] == {}
    assert len(before) == 1, f"expected exactly one error for the oversized line, got {before}"
    error = before[0]
    assert error["id"] is None and error["error"]["code"] in (-32600, -32700), error
    message = error["error"]["message"]
    assert str(MAX_LINE) in message or "4 MiB" in message or "larger than" in message, message


def test_raw_close_stdin_exits_zero(raw: RawStdio) -> None:
    raw.initialize()
    raw.close_stdin()
    started = time.monotonic()
    code = raw.wait(timeout=5)
    assert code == 0, f"exit code {code}; stderr:\n{raw.stderr_tail()}"
    assert time.monotonic() - started < 5


@pytest.mark.time_limit(60)
def test_raw_in_flight_call_finishes_after_eof(raw: RawStdio) -> None:
    raw.initialize()
    raw.send(rpc("tools/call", {"name": "hr__headcount_report", "arguments": {"group_by": "department"}}, id="long"))
    raw.close_stdin()
    reply, _ = raw.recv_response("long", timeout=30)
    assert reply["result"].get("isError") is not True, reply
    assert raw.wait(timeout=10) == 0


SPEND_ARGS = {"from_date": "2023-01-01", "to_date": "2026-06-30"}


def warm_up(raw: RawStdio) -> None:
    """Initializes and touches the ERP, so the tenant partition is generated before any timed call."""
    raw.initialize()
    raw.send(rpc("tools/call", {"name": "erp__search_purchase_orders", "arguments": {"page_size": 1}}, id="warm"))
    raw.recv_response("warm", timeout=30)


def test_raw_cancel_after_progress_gets_no_response(raw: RawStdio) -> None:
    warm_up(raw)
    raw.send(rpc("tools/call", {"name": "erp__spend_report", "arguments": SPEND_ARGS,
                                "_meta": {"progressToken": "c1"}}, id="doomed"))
    note = raw.recv(timeout=10)
    assert note.get("method") == "notifications/progress", note  # the call is certainly running now
    raw.send(rpc("notifications/cancelled", {"requestId": "doomed", "reason": "e2e"}, id=None))
    raw.send(rpc("ping", id="alive"))
    pong, before = raw.recv_response("alive", timeout=10)
    assert pong["result"] == {}
    assert all(m.get("method") == "notifications/progress" for m in before), before
    time.sleep(1.0)  # the report takes a few hundred ms when it is not cancelled
    answered = [json.loads(line) for line in raw.stdout_lines]
    assert not [m for m in answered if m.get("id") == "doomed"], "a cancelled request was answered"


@pytest.mark.time_limit(60)
def test_raw_cancel_right_after_request_gets_no_response(raw: RawStdio) -> None:
    # A client that cancels at once (user pressed stop, client-side timeout) writes the cancellation right after
    # the request. The server has read the request first, so the id is known and the call must not be answered.
    warm_up(raw)
    ids = ["quick-1", "quick-2", "quick-3"]
    for id in ids:
        request = json.dumps(rpc("tools/call", {"name": "erp__spend_report", "arguments": SPEND_ARGS}, id=id))
        cancel = json.dumps(rpc("notifications/cancelled", {"requestId": id, "reason": "e2e"}, id=None))
        raw.write(f"{request}\n{cancel}\n".encode())
    raw.send(rpc("ping", id="alive"))
    raw.recv_response("alive", timeout=10)
    time.sleep(2.0)  # long enough for three uncancelled reports to finish
    answered = sorted({m.get("id") for m in map(json.loads, raw.stdout_lines) if m.get("id") in ids})
    assert not answered, (
        f"requests cancelled immediately were still answered: {answered} "
        "(SERVER BUG: stdio registers a request as in flight only once its task starts, so a "
        "notifications/cancelled read right after the request finds no such id and is dropped)")


@pytest.mark.time_limit(60)
def test_raw_stdout_carries_only_jsonrpc(raw: RawStdio) -> None:
    raw.initialize()
    raw.send(rpc("logging/setLevel", {"level": "debug"}, id="lvl"))
    raw.recv_response("lvl")
    raw.send(rpc("tools/list", {}, id="list"))
    listing, _ = raw.recv_response("list")
    assert len(listing["result"]["tools"]) == 5 and listing["result"]["nextCursor"]
    raw.send(rpc("tools/call", {"name": "hr__headcount_report", "arguments": {},
                                "_meta": {"progressToken": "p1"}}, id="call"))
    result, notes = raw.recv_response("call", timeout=30)
    assert "result" in result, result
    progress = [n for n in notes if n.get("method") == "notifications/progress"]
    logs = [n for n in notes if n.get("method") == "notifications/message"]
    assert len(progress) >= 2 and all(n["params"]["progressToken"] == "p1" for n in progress)
    assert logs, "no log notification after logging/setLevel debug"
    raw.write(b"not json at all\n")
    raw.recv(timeout=10)
    raw.close_stdin()
    assert raw.wait(timeout=10) == 0
    assert raw.stdout_lines, "nothing on stdout"
    for line in raw.stdout_lines:
        message = json.loads(line)  # every stdout line is one JSON message ...
        assert isinstance(message, dict) and message.get("jsonrpc") == "2.0", line[:200]  # ... of JSON-RPC 2.0
    # Logs go to stderr, one JSON object per line, and never carry a backend secret.
    assert raw.stderr_lines, "no logs on stderr"
    for line in raw.stderr_lines:
        entry = json.loads(line)
        assert "level" in entry and "msg" in entry, line[:200]
    stderr = b"".join(raw.stderr_lines).decode(errors="replace")
    for name, value in SECRETS.items():
        assert value not in stderr, f"{name} leaked into the logs"
