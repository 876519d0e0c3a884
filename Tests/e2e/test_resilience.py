"""Staying up when backends don't, end to end: the real binary, real sockets, the demo CRM's fault routes as a
misbehaving HTTP backend, and the mock HR as the healthy one. Each scenario starts its own broker with the
limits it needs (configuration written by the test, API keys hashed here as `mcp-broker hash-key` does)."""

from __future__ import annotations

import base64
import gzip
import hashlib
import http.client
import json
import os
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterator

import pytest

from e2e_helpers import HTTPBroker, broker_env, get_json

CRM = f"http://127.0.0.1:{os.environ.get('CRM_PORT', '18931')}"


def new_key() -> tuple[str, str]:
    key = "mcpb_" + base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()
    return key, "sha256:" + hashlib.sha256(key.encode()).hexdigest()


KEYS = {tenant: new_key() for tenant in ["acme", "globex"]}


def config(limits: str = "", backends: str = "") -> str:
    keys = "\n".join(f'        - {{ id: load-{t}, tenant: {t}, roles: [ops], hash: "{h}" }}' for t, (_, h) in KEYS.items())
    return f"""
server:
  default_timeout_ms: 5000
  log_level: info
  http:
    host: 127.0.0.1
    port: 0
    auth:
      resource: http://127.0.0.1/mcp
      api_keys:
{keys}
  limits:
{limits or "    max_in_flight: 512"}
backends:
  hr:
    kind: mock-hr
    credentials: {{ api_key: env:HR_API_KEY }}
    system: {{ seed: 42, tenants: [acme, globex], api_key: env:HR_SYSTEM_API_KEY, latency_ms: 1 }}
{backends}
policy:
  roles:
    ops: {{ tools: ["*"] }}
"""


def faults_backend(name: str, tools: str, resilience: str, retries: str = "{ max_attempts: 1 }") -> str:
    return f"""
  {name}:
    kind: rest
    base_url: {CRM}
    internal: true
    shared_credentials: true
    auth: {{ type: none }}
    retries: {retries}
    resilience: {resilience}
    tools:
{tools}
"""


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Any]:
    brokers: list[HTTPBroker] = []

    def factory(text: str, name: str = "res") -> HTTPBroker:
        path = tmp_path / f"{name}.yaml"
        path.write_text(text)
        broker = HTTPBroker(tmp_path, name=name, config=path, env=broker_env()).start()
        brokers.append(broker)
        return broker

    yield factory
    for b in brokers:
        b.stop()


class Session:
    """A raw MCP session over HTTP with an API key; one connection per call, so calls can run in parallel."""

    def __init__(self, broker: HTTPBroker, tenant: str = "acme") -> None:
        self.port = broker.port
        self.key = KEYS[tenant][0]
        r = self.post({"jsonrpc": "2.0", "id": 0, "method": "initialize",
                       "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "res", "version": "1"}}})
        assert r[0] == 200, r
        self.sid = r[1]["mcp-session-id"]

    def post(self, message: dict | bytes, extra: dict[str, str] | None = None, timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream",
                   "Authorization": f"Bearer {self.key}"}
        if getattr(self, "sid", None):
            headers["Mcp-Session-Id"] = self.sid
            headers["MCP-Protocol-Version"] = "2025-11-25"
        headers.update(extra or {})
        try:
            conn.request("POST", "/mcp", body=message if isinstance(message, bytes) else json.dumps(message), headers=headers)
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()

    def call(self, tool: str, args: dict | None = None) -> dict[str, Any]:
        status, _, body = self.post({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool, "arguments": args or {}}})
        assert status == 200, (status, body[:300])
        return json.loads(body)["result"]


def code(result: dict[str, Any]) -> str | None:
    return (result.get("_meta") or {}).get("mcp-broker/error", {}).get("code") if result.get("isError") else None


def crm_stats(route: str) -> int:
    time.sleep(0.3)  # the CRM counts a request as its handler finishes
    status, stats = get_json_with_key(f"{CRM}/_control/stats")
    assert status == 200, stats
    return sum(v for k, v in stats["requests"].items() if route in k)


def get_json_with_key(url: str) -> tuple[int, Any]:
    import urllib.request
    req = urllib.request.Request(url, headers={"X-Control-Key": os.environ.get("CRM_CONTROL_KEY", "")})
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.status, json.loads(r.read())


# --- Rate limits -------------------------------------------------------------------------------------------------

@pytest.mark.time_limit(90)
def test_tenant_tool_limit_of_10_per_s_burst_20_under_50_per_s_for_10_s(start) -> None:
    broker = start(config(limits='    tenant_tool_rate: "10/s burst 20"'))
    s = Session(broker)
    accepted = limited = 0
    retry_hint = None
    t0 = time.monotonic()
    for i in range(500):  # 50/s for 10 s
        delay = t0 + i * 0.02 - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        r = s.call("hr__list_departments")
        if code(r) == "rate_limited":
            limited += 1
            retry_hint = r["_meta"]["mcp-broker/error"].get("retryAfterSeconds")
        else:
            assert not r.get("isError"), r
            accepted += 1
    print(f"rate limit: accepted {accepted}, limited {limited} in {time.monotonic() - t0:.2f} s")
    assert 117 <= accepted <= 123, accepted
    assert retry_hint is not None and 0 < retry_hint <= 0.2, retry_hint
    # Another tenant has its own budget.
    other = Session(broker, "globex")
    assert not other.call("hr__list_departments").get("isError")


def test_http_front_door_sheds_before_reading_the_body(start) -> None:
    broker = start(config(limits='    http_rate: "5/s burst 5"\n    gzip_min_bytes: 512'))
    s = Session(broker)
    statuses = []
    for _ in range(12):
        status, headers, _ = s.post(b"{ this is not json")
        statuses.append(status)
        if status == 429:
            assert int(headers["retry-after"]) >= 1
    # The first requests are parsed (400: bad JSON); the flood is refused before parsing (429).
    assert statuses[:4] == [400] * 4 and statuses.count(429) >= 6, statuses


def test_in_flight_cap_answers_503_with_retry_after(start) -> None:
    slow = faults_backend("slow", "      wait: { description: A fault route of the demo CRM., method: GET, path: /faults/latency, parameters: { ms: { in: query, type: integer } } }",
                          "{ max_concurrent: 16 }")
    broker = start(config(limits="    max_in_flight: 2", backends=slow))
    s = Session(broker)
    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(s.post({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                                                                          "params": {"name": "slow__wait", "arguments": {"ms": 800}}})[0]))
               for _ in range(2)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    status, headers, body = s.post({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
    for t in threads:
        t.join()
    assert status == 503 and headers["retry-after"] == "1", (status, body)
    assert results == [200, 200]
    assert s.post({"jsonrpc": "2.0", "id": 3, "method": "tools/list"})[0] == 200


def test_large_responses_are_gzipped_when_accepted(start) -> None:
    broker = start(config())
    s = Session(broker)
    status, headers, body = s.post({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, extra={"Accept-Encoding": "gzip"})
    assert status == 200 and headers.get("content-encoding") == "gzip", headers
    assert len(json.loads(gzip.decompress(body))["result"]["tools"]) >= 8
    status, headers, body = s.post({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    assert "content-encoding" not in headers and json.loads(body)["result"]["tools"]


# --- Breaker, bulkhead, retry budget ----------------------------------------------------------------------------

def test_hanging_backend_opens_its_breaker_while_a_healthy_one_keeps_its_latency(start) -> None:
    hang = faults_backend("stuck", "      wait: { description: A fault route of the demo CRM., method: GET, path: /faults/hang }",
                          "{ timeout_ms: 600, breaker: { failures: 3, open_ms: 30000 } }")
    broker = start(config(backends=hang))
    s = Session(broker)
    baseline = [timed(lambda: s.call("hr__get_employee", {"employee_id": "11100001"}))[1] for _ in range(20)]
    with ThreadPoolExecutor(8) as pool:
        hung = [pool.submit(timed, lambda: s.call("stuck__wait")) for _ in range(3)]
        time.sleep(0.05)
        during = [timed(lambda: s.call("hr__get_employee", {"employee_id": "11100001"}))[1] for _ in range(20)]
        outcomes = [f.result()[0] for f in hung]
    assert [code(o) for o in outcomes] == ["timeout"] * 3
    # The breaker is open: the next call fails at once, without touching the backend.
    result, elapsed = timed(lambda: s.call("stuck__wait"))
    assert code(result) == "backend_unavailable" and elapsed < 0.1, (result, elapsed)
    assert result["_meta"]["mcp-broker/error"]["retryAfterSeconds"] > 0
    print(f"healthy p50 before {statistics.median(baseline) * 1000:.1f} ms, during {statistics.median(during) * 1000:.1f} ms; "
          f"open-breaker refusal {elapsed * 1000:.2f} ms")
    assert statistics.median(during) < statistics.median(baseline) + 0.05
    status, ready = get_json(f"{broker.base}/readyz")
    assert ready["backends"]["stuck"]["breaker"] == "open" and ready["backends"]["hr"]["breaker"] == "closed"


def test_bulkhead_bounds_in_flight_calls_and_fails_fast_beyond_its_queue(start) -> None:
    slow = faults_backend("slow", "      wait: { description: A fault route of the demo CRM., method: GET, path: /faults/latency, parameters: { ms: { in: query, type: integer } } }",
                          "{ max_concurrent: 2, max_queue: 2, tenant_share: 1 }")
    broker = start(config(backends=slow))
    s = Session(broker)
    with ThreadPoolExecutor(10) as pool:
        futures = [pool.submit(timed, lambda: s.call("slow__wait", {"ms": 600})) for _ in range(10)]
        results = [f.result() for f in futures]
    ok = [e for r, e in results if not r.get("isError")]
    refused = [(r, e) for r, e in results if r.get("isError")]
    assert len(ok) == 4, [code(r) for r, _ in results]  # two running, two queued
    assert all(code(r) == "rate_limited" and "concurrency limit" in r["content"][0]["text"] for r, _ in refused)
    assert all(e < 0.3 for _, e in refused), [e for _, e in refused]
    # Queued calls waited for a slot: the slowest took about two rounds.
    assert max(ok) > 1.1


def test_retries_stop_at_the_budget(start) -> None:
    # Every attempt answers 503; each call may try 3 times, so without a budget 20 calls make 60 requests.
    status_backend = faults_backend("down", "      ping: { description: A fault route of the demo CRM., method: GET, path: /faults/status/503 }",
                                    "{ max_concurrent: 64, max_queue: 64, breaker: { failures: 1000, min_calls: 1000 } }",
                                    retries="{ max_attempts: 3, base_delay_ms: 300, max_delay_ms: 300 }")
    broker = start(config(limits="    retry_budget: 0.2", backends=status_backend))
    s = Session(broker)
    before = crm_stats("/faults/status")
    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(lambda _: s.call("down__ping"), range(20)))
    upstream = crm_stats("/faults/status") - before
    print(f"retry budget: 20 failing calls made {upstream} upstream requests (without a budget: 60)")
    # Every call reached the backend (the breaker is set out of the way here) and failed with its 503.
    assert all(code(r) in ("backend_unavailable", "backend_error") for r in results), [code(r) for r in results]
    assert "paused for a moment" not in json.dumps(results)
    # At most 20 % of the calls in flight may be retrying at any moment: with 20 calls that is 4 permits, and the
    # calls refused a retry end at once, which shrinks the budget further.
    assert 20 <= upstream <= 30, upstream
    log = broker.stderr_text()
    assert log.count("retry budget exhausted") >= 10, "most calls must have been refused a retry"


# --- Cache ------------------------------------------------------------------------------------------------------

def test_cache_serves_a_stampede_with_one_backend_call_and_never_across_tenants(start) -> None:
    cached = faults_backend("cached", "      slow_ping: { description: A fault route of the demo CRM., method: GET, path: /faults/latency, parameters: { ms: { in: query, type: integer } } }",
                            "{ max_concurrent: 8, max_queue: 8, cache: { tools: [slow_ping], ttl_ms: 60000 } }")
    broker = start(config(backends=cached))
    acme, globex = Session(broker, "acme"), Session(broker, "globex")
    before = crm_stats("/faults/latency")
    with ThreadPoolExecutor(100) as pool:
        results = list(pool.map(lambda _: acme.call("cached__slow_ping", {"ms": 400}), range(100)))
    assert all(not r.get("isError") for r in results), [code(r) for r in results if r.get("isError")][:3]
    assert crm_stats("/faults/latency") - before == 1
    assert globex.call("cached__slow_ping", {"ms": 400}).get("isError") is not True
    assert crm_stats("/faults/latency") - before == 2, "tenant B must not get tenant A's entry"
    acme.call("cached__slow_ping", {"ms": 400})
    assert crm_stats("/faults/latency") - before == 2
    acme.call("cached__slow_ping", {"ms": 401})
    assert crm_stats("/faults/latency") - before == 3, "different arguments are a different entry"
    log = broker.stderr_text()
    assert '"cache":"hit"' in log and '"cache":"miss"' in log


def timed(fn) -> tuple[Any, float]:
    t = time.monotonic()
    r = fn()
    return r, time.monotonic() - t
