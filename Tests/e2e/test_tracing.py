"""W3C trace context end to end: a caller's traceparent (as the HTTP header, or in params._meta, which wins) reaches
every backend and every record of the call, so one id finds everything.

The real binary, the real PostgreSQL (the statement's sqlcommenter comment is read from pg_stat_activity while it
runs), a local HTTP server as a REST backend (it records the headers it receives; the demo CRM does not log them),
the simulated ERP and HR systems (their access log lines), the broker's JSON log, the audit file and the isError
result. With the OTLP build (env MCP_BROKER_OTLP_BIN, built by scripts/test.sh) a small OTLP/HTTP JSON receiver gets
the exported spans.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import pytest

from e2e_helpers import TEST_CONFIG, HTTPBroker, broker_env

HEX32 = "0123456789abcdef"


class Recorder(ThreadingHTTPServer):
    """A loopback HTTP server that records each request (path, headers, body) and answers from a route table."""

    daemon_threads = True

    def __init__(self, routes: dict[str, tuple[int, bytes]]) -> None:
        self.routes = routes
        self.seen: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return self.server_address[1]

    def requests(self, path_prefix: str) -> list[dict[str, Any]]:
        with self.lock:
            return [r for r in self.seen if r["path"].startswith(path_prefix)]


class _Handler(BaseHTTPRequestHandler):
    server: Recorder

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with self.server.lock:
            self.server.seen.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
        route = next((v for k, v in self.server.routes.items() if self.path.startswith(k)), (404, b'{"error":"not found"}'))
        self.send_response(route[0])
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(route[1])))
        self.end_headers()
        self.wfile.write(route[1])

    do_GET = do_POST = _serve

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def probe() -> Iterator[Recorder]:
    server = Recorder({"/api/echo": (200, b'{"ok": true}'), "/api/missing": (404, b'{"error": "no such thing"}')})
    yield server
    server.shutdown()
    server.server_close()


def config_text(tmp_path: Path, probe_port: int, extra_server: str = "") -> str:
    """The suite's configuration plus an audit file, a REST backend on the recording server and, optionally, more
    server settings (the OTLP exporter)."""
    text = TEST_CONFIG.read_text()
    text = text.replace("file: ../../config/crm/openapi.json", f"file: {TEST_CONFIG.parent.parent.parent / 'config/crm/openapi.json'}")
    server_extra = f"  audit: {{ path: {tmp_path / 'audit.jsonl'} }}\n" + extra_server
    text = text.replace("  stdio:\n", server_extra + "  stdio:\n", 1)
    backend = f"""  probe:
    kind: rest
    base_url: http://127.0.0.1:{probe_port}
    internal: true
    shared_credentials: true
    auth: {{ type: none }}
    retries: {{ max_attempts: 1 }}
    tools:
      echo:
        description: Echo.
        method: GET
        path: /api/echo
      missing:
        description: Always 404.
        method: GET
        path: /api/missing
        errors: {{ "404": "Nothing there." }}
"""
    return text.replace("\n# These tests exercise", "\n" + backend + "\n# These tests exercise", 1)


class Raw:
    """A raw MCP session over HTTP, so that each request can carry its own headers and _meta."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sid: str | None = None
        status, headers, _ = self.post({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "trace-test", "version": "1"}}})
        assert status == 200
        self.sid = headers["mcp-session-id"]
        self.post({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def post(self, message: dict, headers: dict[str, str] | None = None, timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        h = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
        if self.sid:
            h["Mcp-Session-Id"] = self.sid
            h["MCP-Protocol-Version"] = "2025-11-25"
        h.update(headers or {})
        try:
            conn.request("POST", "/mcp", body=json.dumps(message), headers=h)
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            conn.close()

    def call(self, tool: str, args: dict, traceparent: str, via: str, tracestate: str | None = None) -> dict[str, Any]:
        """Calls `tool` with the trace context in the HTTP headers (`via="header"`) or in `params._meta`: with
        `via="meta"` a different, valid header is sent too (_meta must win); with `via="meta-only"` no header."""
        params: dict[str, Any] = {"name": tool, "arguments": args}
        headers: dict[str, str] = {}
        context = {"traceparent": traceparent, **({"tracestate": tracestate} if tracestate else {})}
        if via == "header":
            headers.update(context)
        else:
            params["_meta"] = context
            if via == "meta":
                headers["traceparent"] = new_traceparent()[0]
        status, _, body = self.post({"jsonrpc": "2.0", "id": secrets.randbelow(10**9), "method": "tools/call", "params": params}, headers)
        assert status == 200, body[:300]
        return json.loads(body)["result"]


def new_traceparent() -> tuple[str, str, str]:
    trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
    return f"00-{trace_id}-{span_id}-01", trace_id, span_id


def json_lines(path: Path) -> list[dict[str, Any]]:
    out = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out


def wait_for(predicate: Any, timeout: float = 10.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def statements_of(trace_id: str) -> list[str]:
    """Statements in pg_stat_activity that carry the trace id (read as the tenant's role, which sees its own sessions)."""
    env = dict(os.environ, PGPASSWORD=os.environ["WH_ACME_PASSWORD"])
    r = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-p", os.environ.get("WH_PORT", "55432"), "-U", "wh_acme", "-d", "warehouse", "-AtX", "-R", "\x1e", "-c",
         f"SELECT query FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%traceparent=''00-{trace_id}-%' AND pid <> pg_backend_pid()"],
        env=env, capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stderr
    return [q.strip() for q in r.stdout.split("\x1e") if q.strip()]


REMARK = "-- a remark that must not swallow the trace comment"
SLOW_SQL = "SELECT count(*) AS n FROM generate_series(1, 8000000) g " + REMARK


@pytest.fixture
def traced_broker(tmp_path: Path, probe: Recorder) -> Iterator[HTTPBroker]:
    path = tmp_path / "trace.yaml"
    path.write_text(config_text(tmp_path, probe.port))
    broker = HTTPBroker(tmp_path, name="trace", config=path, env=broker_env()).start()
    yield broker
    broker.stop()


@pytest.mark.time_limit(120)
@pytest.mark.parametrize("via", ["header", "meta"])
def test_one_trace_id_reaches_every_backend_and_record(traced_broker: HTTPBroker, probe: Recorder, tmp_path: Path, via: str) -> None:
    s = Raw(traced_broker.port)
    traceparent, trace_id, parent_span = new_traceparent()

    echo = s.call("probe__echo", {}, traceparent, via, tracestate="rojo=00f067aa0ba902b7,congo=t61rcWkgMzE")
    assert not echo.get("isError"), echo
    erp = s.call("erp__search_suppliers", {"status": "active", "page_size": 1}, traceparent, via)
    assert not erp.get("isError"), erp
    hr = s.call("hr__get_employee", {"employee_id": "21000001"}, traceparent, via)
    assert not hr.get("isError"), hr

    # The warehouse statement carries the trace in a sqlcommenter comment while it runs.
    result: dict[str, Any] = {}
    worker = threading.Thread(target=lambda: result.update(s.call("warehouse__run_sql", {"sql": SLOW_SQL}, traceparent, via)))
    worker.start()
    running = wait_for(lambda: [q for q in statements_of(trace_id) if "generate_series" in q], timeout=20, what="the statement in pg_stat_activity")
    worker.join(30)
    assert result.get("structuredContent", {}).get("rows") == [[8000000]], result
    # The comment ends the statement on a line of its own, after the analyst's trailing remark (which the bounded
    # rewrite embeds), so the remark cannot swallow it.
    statement = running[0]
    assert REMARK in statement and statement.index(REMARK) < statement.index("\n/*application='mcp-broker',"), statement
    assert statement.endswith(f"\n/*application='mcp-broker',traceparent='00-{trace_id}-" + statement.split(trace_id + "-")[1][:16] + "-01'*/"), statement

    # An isError result names the trace id as its correlation id, in _meta and in the text.
    missing = s.call("probe__missing", {}, traceparent, via)
    assert missing["isError"] is True
    assert missing["_meta"]["mcp-broker/error"]["correlationId"] == trace_id
    assert f"correlation id {trace_id}" in missing["content"][0]["text"]

    # The REST backend got the trace id, under the broker's own span id (a child span), and the tracestate.
    received = [r["headers"] for r in probe.requests("/api/") if trace_id in r["headers"].get("traceparent", "")]
    assert len(received) == 2, probe.seen
    for headers in received:
        version, tid, span, flags = headers["traceparent"].split("-")
        assert (version, tid, flags) == ("00", trace_id, "01") and len(span) == 16 and span != parent_span
    assert received[0]["tracestate"] == "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"

    # The broker's log lines and the simulated systems' access logs carry it.
    def log_lines() -> list[dict[str, Any]]:
        return [line for line in json_lines(traced_broker.stderr_path) if trace_id in (line.get("correlation_id"), line.get("trace_id"))]

    lines = wait_for(lambda: (l := log_lines()) and {"mock-erp", "mock-hr"} <= {x["logger"] for x in l} and l, what="log lines")
    tool_lines = [l for l in lines if l.get("msg") == "tool call" and l.get("correlation_id") == trace_id]
    assert {l["tool"] for l in tool_lines} >= {"probe__echo", "erp__search_suppliers", "hr__get_employee", "warehouse__run_sql"}
    assert all(l["trace_id"] == trace_id and len(l["span_id"]) == 16 for l in tool_lines)
    erp_access = [l for l in lines if l["logger"] == "mock-erp"]
    hr_access = [l for l in lines if l["logger"] == "mock-hr"]
    assert erp_access and all(l["msg"] == "erp request served" and l["status"] == "200" for l in erp_access)
    assert hr_access and hr_access[0]["path"].startswith("/ccx/api/v1/acme/")

    # The audit lines of all five calls.
    audit = wait_for(lambda: [l for l in json_lines(tmp_path / "audit.jsonl") if l.get("correlation_id") == trace_id], what="audit lines")
    assert sorted(l["target"] for l in audit) == sorted(
        ["probe__echo", "erp__search_suppliers", "hr__get_employee", "warehouse__run_sql", "probe__missing"])


@pytest.mark.parametrize("via", ["header", "meta-only"])
def test_invalid_traceparent_starts_a_new_trace(traced_broker: HTTPBroker, probe: Recorder, via: str) -> None:
    s = Raw(traced_broker.port)
    # Under the HTTP server's 16 KiB header field limit; in _meta the body limit (256 KiB) applies.
    huge = "00-" + "a" * (8_000 if via == "header" else 200_000)
    for bad in ["00-" + "0" * 32 + "-00f067aa0ba902b7-01", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", huge]:
        r = s.call("probe__missing", {}, bad, via, tracestate="rojo=1")
        correlation = r["_meta"]["mcp-broker/error"]["correlationId"]
        assert len(correlation) == 32 and all(c in HEX32 for c in correlation) and correlation != "0" * 32
        assert correlation != "4bf92f3577b34da6a3ce929d0e0e4736"
        sent = probe.requests("/api/missing")[-1]["headers"]
        assert sent["traceparent"].split("-")[1] == correlation, "the new trace is propagated"
        assert "tracestate" not in sent, "a tracestate without a valid traceparent is dropped"
    # A valid _meta traceparent wins over a valid header even when both are sent.
    traceparent, trace_id, _ = new_traceparent()
    r = s.call("probe__missing", {}, traceparent, "meta")
    assert r["_meta"]["mcp-broker/error"]["correlationId"] == trace_id


# ----------------------------------------------------------------------------------------------------------------
# OTLP export (the `OTLP` build)
# ----------------------------------------------------------------------------------------------------------------

OTLP_BIN = os.environ.get("MCP_BROKER_OTLP_BIN")


def id_hex(value: str) -> str:
    """A span or trace id of OTLP/JSON as hex. The OTLP spec says hex; SwiftProtobuf's JSON writes bytes as base64."""
    if value and all(c in HEX32 for c in value) and len(value) in (16, 32):
        return value
    import base64
    return base64.b64decode(value).hex()


def spans_of(collector: Recorder) -> list[dict[str, Any]]:
    spans = []
    for request in collector.requests("/v1/traces"):
        document = json.loads(request["body"])
        for resource in document.get("resourceSpans", []):
            service = {a["key"]: a["value"].get("stringValue") for a in resource.get("resource", {}).get("attributes", [])}.get("service.name")
            for scope in resource.get("scopeSpans", []):
                for span in scope.get("spans", []):
                    span["service"] = service
                    for key in ("traceId", "spanId", "parentSpanId"):
                        if span.get(key):
                            span[key] = id_hex(span[key])
                    span["attrs"] = {a["key"]: next(iter(a["value"].values()), None) for a in span.get("attributes", [])}
                    spans.append(span)
    return spans


@pytest.mark.time_limit(120)
@pytest.mark.skipif(not OTLP_BIN, reason="MCP_BROKER_OTLP_BIN is not set: build with `swift build --traits OTLP` (scripts/test.sh does)")
def test_spans_are_exported_over_otlp_http_json(tmp_path: Path, probe: Recorder) -> None:
    collector = Recorder({"/v1/traces": (200, b"{}")})
    try:
        otlp = (f"  tracing:\n    otlp: {{ endpoint: 'http://127.0.0.1:{collector.port}', protocol: http/json, "
                f"service_name: broker-under-test, sample_ratio: 1.0 }}\n")
        path = tmp_path / "otlp.yaml"
        path.write_text(config_text(tmp_path, probe.port, extra_server=otlp))
        env = broker_env()
        env["MCP_BROKER_BIN"] = OTLP_BIN or ""
        import e2e_helpers
        saved = e2e_helpers.BROKER_BIN
        e2e_helpers.BROKER_BIN = Path(OTLP_BIN or "")
        try:
            broker = HTTPBroker(tmp_path, name="otlp", config=path, env=env).start()
        finally:
            e2e_helpers.BROKER_BIN = saved
        try:
            s = Raw(broker.port)
            traceparent, trace_id, parent_span = new_traceparent()
            assert not s.call("probe__echo", {}, traceparent, "meta").get("isError")
            assert not s.call("warehouse__run_sql", {"sql": "SELECT 1 AS one"}, traceparent, "header").get("isError")
            missing = s.call("probe__missing", {}, traceparent, "header")
            assert missing["_meta"]["mcp-broker/error"]["correlationId"] == trace_id
        finally:
            broker.stop()  # graceful shutdown flushes the batch
        spans = [sp for sp in spans_of(collector) if sp["traceId"] == trace_id]
        by_name: dict[str, list[dict[str, Any]]] = {}
        for sp in spans:
            by_name.setdefault(sp["name"], []).append(sp)
        assert {"tools/call probe__echo", "tools/call warehouse__run_sql", "tools/call probe__missing", "rest.request", "pg.query"} <= set(by_name), by_name.keys()
        servers = [sp for sp in spans if sp["name"].startswith("tools/call")]
        assert all(sp["parentSpanId"] == parent_span and sp["service"] == "broker-under-test" for sp in servers)
        echo = by_name["tools/call probe__echo"][0]
        assert echo["attrs"]["mcp.method.name"] == "tools/call" and echo["attrs"]["gen_ai.tool.name"] == "probe__echo"
        assert echo["attrs"]["network.transport"] == "tcp" and echo["attrs"]["mcp.protocol.version"] == "2025-11-25"
        failed = by_name["tools/call probe__missing"][0]
        assert failed["attrs"]["error.type"] == "not_found"
        server_ids = {sp["spanId"] for sp in servers}
        by_id = {sp["spanId"]: sp for sp in spans}

        def chain(sp: dict[str, Any]) -> list[str]:
            """Names from the span's parent up to the server span (the pipeline's stage spans lie between)."""
            names, parent = [], by_id.get(sp["parentSpanId"])
            while parent is not None and len(names) < 10:
                names.append(parent["name"])
                if parent["spanId"] in server_ids:
                    break
                parent = by_id.get(parent["parentSpanId"])
            return names

        rest = by_name["rest.request"]
        assert len(rest) == 2
        for sp in rest:
            # REST request <- the guarded backend call <- ... <- the server span of its tools/call.
            up = chain(sp)
            assert up[0] == "mcp_broker.backend_call" and up[-1].startswith("tools/call"), up
        assert {"mcp_broker.policy", "mcp_broker.rate_limit", "mcp_broker.backend_call"} <= set(by_name), by_name.keys()
        assert {sp["attrs"].get("http.response.status_code") for sp in rest} == {"200", "404"} or {
            sp["attrs"].get("http.response.status_code") for sp in rest} == {200, 404}
        received = {r["headers"]["traceparent"].split("-")[2] for r in probe.requests("/api/") if trace_id in r["headers"].get("traceparent", "")}
        assert received == {sp["spanId"] for sp in rest}, "the backend saw the rest.request spans as its parents"
        pg = by_name["pg.query"][0]
        assert chain(pg)[0] == "mcp_broker.backend_call" and chain(pg)[-1] == "tools/call warehouse__run_sql", chain(pg)
        assert pg["attrs"]["db.system.name"] == "postgresql" and pg["attrs"]["db.operation.name"] == "SELECT"
    finally:
        collector.shutdown()
        collector.server_close()
