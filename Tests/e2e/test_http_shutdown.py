"""Graceful shutdown of the HTTP daemon on SIGTERM (each test starts its own short-lived server)."""

from __future__ import annotations

import http.client
import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from e2e_helpers import PROTOCOL_VERSION, HTTPBroker, open_raw_session, post_rpc, rpc

# An idle daemon has nothing to wait for; Kubernetes' default grace period is 30 s for everything.
PROMPT_EXIT_S = 5.0


@pytest.fixture
def broker(broker_bin: str, tmp_path: Path) -> Iterator[HTTPBroker]:
    b = HTTPBroker(tmp_path, name="shutdown").start()
    try:
        yield b
    finally:
        b.stop(grace=1.0)  # a test already gave it PROMPT_EXIT_S to exit on its own


def sigterm_and_wait(broker: HTTPBroker, limit: float = PROMPT_EXIT_S) -> tuple[int | None, float]:
    """Sends SIGTERM; returns (exit code or None if still running after `limit`, seconds waited)."""
    assert broker.proc is not None
    started = time.monotonic()
    broker.proc.send_signal(signal.SIGTERM)
    deadline = started + limit
    while broker.proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    return broker.proc.poll(), time.monotonic() - started


def open_get_stream(port: int, session: str) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=PROMPT_EXIT_S + 2)
    conn.request("GET", "/mcp", headers={"Accept": "text/event-stream", "Mcp-Session-Id": session,
                                         "MCP-Protocol-Version": PROTOCOL_VERSION})
    resp = conn.getresponse()
    assert resp.status == 200
    return conn, resp


@pytest.mark.time_limit(30)
def test_sigterm_idle_server_exits_promptly(broker: HTTPBroker) -> None:
    sid = open_raw_session(broker.port)
    assert post_rpc(broker.port, rpc("ping", id=1), session=sid).status == 200
    code, waited = sigterm_and_wait(broker)
    assert code is not None, (
        f"an idle broker was still running {waited:.1f} s after SIGTERM "
        "(graceful shutdown is held up by something idle)")
    assert code == 0, f"exit code {code} after SIGTERM"


@pytest.mark.time_limit(30)
def test_sigterm_with_open_get_stream_exits_promptly(broker: HTTPBroker) -> None:
    sid = open_raw_session(broker.port)
    conn, resp = open_get_stream(broker.port, sid)
    try:
        code, waited = sigterm_and_wait(broker)
        assert code is not None, (
            f"the broker was still running {waited:.1f} s after SIGTERM while a client held a GET stream open "
            "(SERVER BUG: graceful shutdown stops the HTTP server first, which waits for the open SSE response, but "
            "the GET streams are only finished by the session sweeper, which is shut down after the server)")
        assert code == 0, f"exit code {code} after SIGTERM"
    finally:
        conn.close()


@pytest.mark.time_limit(40)
def test_sigterm_lets_an_in_flight_call_finish(broker: HTTPBroker) -> None:
    sid = open_raw_session(broker.port)
    call = rpc("tools/call", {"name": "erp__spend_report",
                              "arguments": {"from_date": "2023-01-01", "to_date": "2026-06-30", "group_by": "month"},
                              "_meta": {"progressToken": "shutdown"}}, id="inflight")
    conn = http.client.HTTPConnection("127.0.0.1", broker.port, timeout=30)
    try:
        conn.request("POST", "/mcp", body=json.dumps(call), headers={
            "Content-Type": "application/json", "Accept": "application/json, text/event-stream",
            "Mcp-Session-Id": sid, "MCP-Protocol-Version": PROTOCOL_VERSION})
        resp = conn.getresponse()
        assert resp.status == 200 and resp.getheader("Content-Type", "").startswith("text/event-stream")
        # Wait for the first progress event, so the call is certainly running when SIGTERM arrives.
        first = b""
        while b"notifications/progress" not in first:
            line = resp.readline()
            assert line, "the stream ended before any progress"
            first += line
        assert broker.proc is not None
        broker.proc.send_signal(signal.SIGTERM)
        rest = resp.read()
    finally:
        conn.close()
    events = [json.loads(line[5:]) for line in (first + rest).decode().splitlines() if line.startswith("data:")]
    final = events[-1]
    assert final.get("id") == "inflight" and "result" in final, f"the in-flight call was cut off: {final}"
    assert final["result"].get("isError") is not True, final
    assert final["result"]["structuredContent"]["group_by"] == "month"
