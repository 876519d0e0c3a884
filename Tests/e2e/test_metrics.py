"""Prometheus metrics end to end: the real binary with all four backends (mock ERP, mock HR, the PostgreSQL
warehouse, the demo CRM over REST) and `server.metrics` on a port of its own. The official MCP client makes calls,
including refusals (invalid arguments, a policy denial, a rate limit, an unknown tool), and the scraped counters
and histogram counts must move by exactly those calls. A flood of random unknown tool names must add no series.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import re
import time
import uuid
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any, Iterator

import anyio
import pytest
import yaml
from mcp.shared.exceptions import MCPError

from e2e_helpers import E2E_DIR, PROTOCOL_VERSION, TEST_CONFIG, HTTPBroker, broker_env, http_request, open_raw_session
from sdk_support import open_client

SERIES_RE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$")
LABEL_RE = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
DENY_RULE = "metrics-test-emea-only"


def metrics_config(tmp_path: Path) -> Path:
    """broker-test.yaml plus a metrics listener, a per-tool rate limit and one argument rule to deny with."""
    config = yaml.safe_load(TEST_CONFIG.read_text())
    config["server"]["metrics"] = {"host": "127.0.0.1", "port": 0, "path": "/metrics"}
    config["server"]["limits"] = {"tenant_tool_rate": "1/m burst 2"}
    crm = config["backends"]["crm"]
    crm["openapi"]["file"] = str((E2E_DIR / crm["openapi"]["file"]).resolve())
    config["policy"]["rules"] = [
        {"id": DENY_RULE, "tools": ["warehouse__revenue_by_month"], "require": [{"argument": "region", "in": ["EMEA"]}]}
    ]
    path = tmp_path / "metrics.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


class MetricsBroker(HTTPBroker):
    """An HTTP broker started with `--metrics-port-file`, so its metrics listener is found on port 0."""

    def __init__(self, workdir: Path, config: Path) -> None:
        super().__init__(workdir, name="metrics", env=broker_env(), config=config)
        self.metrics_port_file = workdir / "metrics.metrics-port"

    def start(self, timeout: float = 60.0) -> "MetricsBroker":
        import subprocess
        from e2e_helpers import BROKER_BIN, LIVE_PROCESSES
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                [str(BROKER_BIN), "serve", "--config", str(self.config), "--port", "0", "--port-file", str(self.port_file),
                 "--metrics-port-file", str(self.metrics_port_file)],
                stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=self.env, cwd=str(self.workdir), start_new_session=True)
        LIVE_PROCESSES.append(self.proc)
        self.metrics_port = wait_for_port(self.metrics_port_file, self, timeout)
        self.port = wait_for_port(self.port_file, self, timeout)
        return self


def wait_for_port(path: Path, broker: HTTPBroker, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        broker._check_alive()
        text = path.read_text().strip() if path.exists() else ""
        if text.isdigit():
            return int(text)
        time.sleep(0.05)
    raise RuntimeError(f"no port in {path} after {timeout} s\n{broker.stderr_tail()}")


def scrape(port: int) -> dict[tuple[str, frozenset], float]:
    """Every series of the exposition, keyed by (name, labels)."""
    status, headers, body = http_request(port, "GET", "/metrics", timeout=10)
    assert status == 200, body[:300]
    assert headers.get("content-type", "").startswith("text/plain; version=0.0.4"), headers
    out: dict[tuple[str, frozenset], float] = {}
    for line in body.decode().splitlines():
        if not line or line.startswith("#"):
            continue
        m = SERIES_RE.match(line)
        assert m, f"not a Prometheus sample line: {line!r}"
        labels = frozenset(LABEL_RE.findall(m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def select(samples: dict[tuple[str, frozenset], float], name: str, **labels: str) -> dict[frozenset, float]:
    """The series of `name` whose labels include `labels`."""
    want = set(labels.items())
    return {k[1]: v for k, v in samples.items() if k[0] == name and want <= set(k[1])}


def delta(before: dict, after: dict, name: str, **labels: str) -> dict[frozenset, float]:
    """How much each series of `name` matching `labels` moved (series that did not move are left out)."""
    a, b = select(after, name, **labels), select(before, name, **labels)
    moved = {k: v - b.get(k, 0.0) for k, v in a.items()}
    return {k: v for k, v in moved.items() if v != 0}


def by(labels_to_value: dict[frozenset, float], *keys: str) -> dict[tuple, float]:
    out: dict[tuple, float] = {}
    for labels, value in labels_to_value.items():
        d = dict(labels)
        k = tuple(d.get(key, "") for key in keys)
        out[k] = out.get(k, 0.0) + value
    return out


@pytest.fixture
def metrics_broker(tmp_path: Path) -> Iterator[MetricsBroker]:
    broker = MetricsBroker(tmp_path, metrics_config(tmp_path)).start()
    try:
        deadline = time.monotonic() + 30
        while http_request(broker.port, "GET", "/livez", timeout=2)[0] != 200:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        yield broker
    finally:
        broker.stop()


@pytest.mark.anyio
@pytest.mark.time_limit(120)
async def test_counters_move_by_exactly_the_calls_made(metrics_broker: MetricsBroker) -> None:
    port = metrics_broker.metrics_port
    async with AsyncExitStack() as stack:
        c = await open_client(stack, metrics_broker.url, "http", "legacy")
        before = scrape(port)

        async def call(name: str, args: dict[str, Any]) -> str:
            with anyio.fail_after(30):
                try:
                    r = await c.client.call_tool(name, args)
                except MCPError as e:
                    return str(e.code)
            return ((r.meta or {}).get("mcp-broker/error") or {}).get("code", "?") if r.is_error else "ok"

        made = [
            ("erp__search_purchase_orders", {"page_size": 2}, "ok"),
            ("hr__search_employees", {"page_size": 2}, "ok"),
            ("warehouse__revenue_by_month", {"region": "EMEA", "from_date": "2025-01-01", "to_date": "2025-04-01"}, "ok"),
            ("warehouse__revenue_by_month", {"region": "AMER", "from_date": "2025-01-01", "to_date": "2025-04-01"}, "forbidden"),
            ("crm__search_accounts", {"industry": "Software", "limit": 5}, "ok"),
            ("hr__get_employee", {"employee_id": "21000001", "salary": True}, "invalid_arguments"),
            ("hr__list_departments", {}, "ok"),
            ("hr__list_departments", {}, "ok"),
            ("hr__list_departments", {}, "rate_limited"),
            ("erp__no_such_tool_" + uuid.uuid4().hex[:8], {}, "-32602"),
        ]
        for name, args, expected in made:
            assert await call(name, args) == expected, name
        after = scrape(port)
        protocol = next(dict(k)["mcp_protocol_version"] for k in select(after, "mcp_server_operation_duration_seconds_count",
                                                                          mcp_method_name="initialize"))

    # mcp_broker_tool_calls_total: one increment per call, labelled by backend, tool, tenant and outcome.
    expected_calls: dict[tuple, float] = {}
    for name, _, outcome in made:
        if outcome == "-32602":
            key = ("", "_unknown", "acme", "unknown_tool")
        else:
            key = (name.split("__")[0], name, "acme", outcome)
        expected_calls[key] = expected_calls.get(key, 0) + 1
    assert by(delta(before, after, "mcp_broker_tool_calls_total"), "backend", "tool", "tenant", "outcome") == expected_calls

    # The OTel operation histogram counts every tools/call with its tool and error type, in the negotiated version over tcp.
    ops = delta(before, after, "mcp_server_operation_duration_seconds_count", mcp_method_name="tools/call")
    expected_ops: dict[tuple, float] = {}
    for name, _, outcome in made:
        key = ("_unknown", "-32602") if outcome == "-32602" else (name, "" if outcome == "ok" else outcome)
        expected_ops[key] = expected_ops.get(key, 0) + 1
    assert by(ops, "gen_ai_tool_name", "error_type") == expected_ops
    assert {(dict(k)["mcp_protocol_version"], dict(k)["network_transport"]) for k in ops} == {(protocol, "tcp")}
    assert protocol == PROTOCOL_VERSION

    # Backend time only for calls that reached a backend; the broker's own time for every resolved call.
    reached = {}
    for name, _, outcome in made:
        if outcome == "ok":
            reached[(name.split("__")[0], name)] = reached.get((name.split("__")[0], name), 0) + 1
    assert by(delta(before, after, "mcp_broker_backend_duration_seconds_count"), "backend", "tool") == reached
    resolved: dict[tuple, float] = {}
    for name, _, outcome in made:
        if outcome != "-32602":
            resolved[(name.split("__")[0],)] = resolved.get((name.split("__")[0],), 0) + 1
    assert by(delta(before, after, "mcp_broker_overhead_seconds_count"), "backend") == resolved

    # The refusal is counted by scope; the REST call used the CRM (new or reused connections); the warehouse pool is open.
    assert by(delta(before, after, "mcp_broker_rate_limited_total"), "scope", "tenant") == {("tenant_tool", "acme"): 1}
    assert sum(delta(before, after, "mcp_broker_rest_requests_total", backend="crm").values()) >= 1
    pool = by(select(after, "mcp_broker_pg_pool_connections", backend="warehouse"), "state")
    assert pool.get(("idle",), 0) + pool.get(("in_use",), 0) >= 1, pool
    assert set(by(select(after, "mcp_broker_breaker_state"), "backend")) == {("erp",), ("hr",), ("warehouse",), ("crm",)}
    assert set(select(after, "mcp_broker_breaker_state").values()) == {0}
    assert by(select(after, "mcp_broker_bulkhead_in_flight"), "backend") == {("erp",): 0, ("hr",): 0, ("warehouse",): 0, ("crm",): 0}
    assert select(after, "mcp_broker_sessions_open", transport="tcp") and max(select(after, "mcp_broker_sessions_open").values()) >= 1
    assert after[("mcp_broker_in_flight_requests", frozenset())] == 0

    # Build, configuration and process facts.
    assert after[("mcp_broker_build_info", frozenset({("version", "0.1.0")}))] == 1
    config_hash = hashlib.sha256(metrics_broker.config.read_bytes()).hexdigest()
    assert select(after, "mcp_broker_config_info") == {frozenset({("hash", config_hash)}): 1}
    assert after[("mcp_broker_config_last_reload_failed", frozenset())] == 0
    assert after[("process_resident_memory_bytes", frozenset())] > 1 << 20
    assert after[("process_open_fds", frozenset())] > 3
    assert abs(after[("process_start_time_seconds", frozenset())] - time.time()) < 600
    assert after[("process_cpu_seconds_total", frozenset())] > 0


@pytest.mark.time_limit(300)
def test_random_unknown_tool_names_add_no_series(metrics_broker: MetricsBroker) -> None:
    sid = open_raw_session(metrics_broker.port)
    conn = http.client.HTTPConnection("127.0.0.1", metrics_broker.port, timeout=30)
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream", "Mcp-Session-Id": sid,
               "MCP-Protocol-Version": PROTOCOL_VERSION}

    def call(i: int) -> None:
        body = json.dumps({"jsonrpc": "2.0", "id": i, "method": "tools/call",
                           "params": {"name": f"x{uuid.uuid4().hex}", "arguments": {}}})
        conn.request("POST", "/mcp", body=body, headers=headers)
        resp = conn.getresponse()
        answer = json.loads(resp.read())
        assert resp.status == 200 and answer["error"]["code"] == -32602, answer

    call(0)  # the first unknown call creates the `_unknown` series; the next 10,000 must add none
    before = scrape(metrics_broker.metrics_port)
    for i in range(1, 10_001):
        call(i)
    conn.close()
    after = scrape(metrics_broker.metrics_port)
    assert set(after) == set(before), set(after) ^ set(before)
    moved = delta(before, after, "mcp_broker_tool_calls_total")
    assert by(moved, "backend", "tool", "outcome") == {("", "_unknown", "unknown_tool"): 10_000}
    assert by(delta(before, after, "mcp_server_operation_duration_seconds_count", mcp_method_name="tools/call"), "gen_ai_tool_name") == {
        ("_unknown",): 10_000}


@pytest.mark.time_limit(90)
def test_stdio_broker_serves_metrics_too(tmp_path: Path) -> None:
    """`serve --stdio` starts the listener as well: one pipe session, its calls labelled `pipe`."""
    import subprocess
    from e2e_helpers import BROKER_BIN, LIVE_PROCESSES, stop_process
    port_file = tmp_path / "stdio.metrics-port"
    proc = subprocess.Popen(
        [str(BROKER_BIN), "serve", "--config", str(metrics_config(tmp_path)), "--stdio", "--metrics-port-file", str(port_file)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=broker_env(), cwd=str(tmp_path),
        start_new_session=True)
    LIVE_PROCESSES.append(proc)
    try:
        assert proc.stdin and proc.stdout
        messages = [
            {"jsonrpc": "2.0", "id": 1, "method": "initialize",
             "params": {"protocolVersion": PROTOCOL_VERSION, "capabilities": {}, "clientInfo": {"name": "m", "version": "1"}}},
            {"jsonrpc": "2.0", "method": "notifications/initialized"},
            {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "hr__list_departments", "arguments": {}}},
        ]
        # As a client does: the call only after initialize has been answered (requests run concurrently).
        answers = []
        for m in messages:
            proc.stdin.write((json.dumps(m) + "\n").encode())
            proc.stdin.flush()
            if "id" in m:
                answers.append(json.loads(proc.stdout.readline()))
        assert [a["id"] for a in answers] == [1, 2] and "error" not in answers[1], answers
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip().isdigit()):
            assert time.monotonic() < deadline and proc.poll() is None, "no metrics port file"
            time.sleep(0.05)
        samples = scrape(int(port_file.read_text()))
        assert select(samples, "mcp_broker_sessions_open", transport="pipe") == {frozenset({("transport", "pipe")}): 1}
        ops = select(samples, "mcp_server_operation_duration_seconds_count", mcp_method_name="tools/call")
        assert by(ops, "gen_ai_tool_name", "network_transport") == {("hr__list_departments", "pipe"): 1}
        proc.stdin.close()
        assert proc.wait(timeout=20) == 0
    finally:
        stop_process(proc, grace=2)
