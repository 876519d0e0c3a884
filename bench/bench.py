#!/usr/bin/env python3
"""mcp-broker benchmark: every workload next to its direct hop and an nginx reverse proxy, in one run.

Usage: bench/run.sh [--seconds 4] [--rounds 2] [--connections 1,16,64]   (installs nginx and wrk, builds release)
       bench/bench.py ...                                                 (when both are already there)

Topology on 2 cores: wrk/pgbench on core 0; the broker, nginx and PostgreSQL on core 1, so the broker cannot win by
taking the load generator's core. Every reply is checked (status, JSON-RPC error, isError, expected body).
Writes bench/results/latest.md (a markdown table) and bench/results/latest.jsonl (one JSON object per measurement).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import identities  # noqa: E402

BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
WORK = Path(tempfile.gettempdir()) / "mcp-broker-bench"
BROKER = Path(os.environ.get("MCP_BROKER_BIN") or ROOT / ".build" / "release" / "mcp-broker")
BACKEND_PORT, PROXY_PORT = 18080, 18081
REDIS_PORT = 18082
LOAD_CORE, SERVER_CORE = "0", "1"
WH_SQL = ("SELECT month, region, revenue, orders FROM analytics.monthly_revenue WHERE tenant = 'acme' AND region = 'EMEA' "
          "AND month >= '2024-01-01'::date AND month < '2025-01-01'::date ORDER BY month DESC;")


def step(msg: str) -> None:
    print(f"\n==> {msg}", flush=True)


def info(msg: str) -> None:
    print(f"    {msg}", flush=True)


# --- fixtures and servers ---------------------------------------------------------------------------------------

def write_fixtures() -> None:
    (WORK / "www").mkdir(parents=True, exist_ok=True)
    account = {"id": "acc-0001", "name": "Initech GmbH", "industry": "software", "country": "DE", "owner": {"id": "u-7", "name": "Eva Lindqvist"},
               "annual_revenue": 1297290, "created_at": "2020-02-25T09:10:00Z"}
    (WORK / "www" / "account.json").write_text(json.dumps(account))
    items = [{"id": f"ord-{i:05d}", "customer": f"acc-{i % 200:04d}", "status": ["open", "shipped", "invoiced"][i % 3],
              "total": round(100 + i * 3.7, 2), "currency": "EUR", "lines": i % 7 + 1} for i in range(900)]
    (WORK / "www" / "document.json").write_text(json.dumps({"data": items, "count": len(items)}))
    os.chmod(WORK, 0o755)
    os.chmod(WORK / "www", 0o755)
    info(f"document.json: {(WORK / 'www' / 'document.json').stat().st_size} bytes")


def start_nginx() -> subprocess.Popen:
    conf = WORK / "nginx.conf"
    conf.write_text(f"""
worker_processes 1;
pid {WORK}/nginx.pid;
error_log {WORK}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  client_body_temp_path {WORK}/tmp-body; proxy_temp_path {WORK}/tmp-proxy; fastcgi_temp_path {WORK}/tmp-fcgi;
  uwsgi_temp_path {WORK}/tmp-uwsgi; scgi_temp_path {WORK}/tmp-scgi;
  upstream backend {{ server 127.0.0.1:{BACKEND_PORT}; keepalive 128; }}
  server {{ listen 127.0.0.1:{BACKEND_PORT}; root {WORK}/www; default_type application/json; }}
  server {{
    listen 127.0.0.1:{PROXY_PORT};
    location / {{ proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_buffering on; }}
  }}
}}
""")
    proc = subprocess.Popen(["taskset", "-c", SERVER_CORE, "nginx", "-c", str(conf), "-g", "daemon off;"], stderr=subprocess.DEVNULL)
    wait_port(BACKEND_PORT)
    wait_port(PROXY_PORT)
    return proc


def wait_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"nothing listens on 127.0.0.1:{port}")


def broker_config(tool_count: int | None = None, metrics: bool = True, limits: bool = False, shared: bool = False) -> str:
    auth_dir = WORK / "auth"
    key, digest = os.environ["BENCH_KEY"], os.environ["BENCH_KEY_HASH"]
    if tool_count is not None:
        tools = "\n".join(f"      t{i:04d}: {{ description: Catalogue entry {i}, method: GET, path: /account.json }}" for i in range(tool_count))
        backends = f"""
  cat:
    kind: rest
    base_url: http://127.0.0.1:{BACKEND_PORT}
    internal: true
    shared_credentials: true
    auth: {{ type: none }}
    tools:
{tools}
"""
    else:
        backends = f"""
  api:
    kind: rest
    base_url: http://127.0.0.1:{BACKEND_PORT}
    internal: true
    shared_credentials: true
    auth: {{ type: none }}
    retries: {{ max_attempts: 1 }}
    limits: {{ max_body_bytes: 4194304 }}
    resilience: {{ tenant_share: 1 }}     # one tenant: the per-tenant caps would only hide capacity
    tools:
      get_account: {{ description: One account record., method: GET, path: /account.json }}
      get_document: {{ description: The order document (about 100 KB)., method: GET, path: /document.json }}
  hr:
    kind: mock-hr
    credentials: {{ api_key: env:HR_API_KEY }}
    system: {{ seed: 42, tenants: [acme], api_key: env:HR_SYSTEM_API_KEY, latency_ms: 0 }}
    resilience: {{ tenant_share: 1 }}
  warehouse:
    kind: postgres
    connection: {{ host: 127.0.0.1, port: {os.environ.get("WH_PORT", "55432")}, database: warehouse, sslmode: disable }}
    tenants:
      acme: {{ user: wh_acme, password: env:WH_ACME_PASSWORD }}
    pool: {{ min: 4, max: 8, acquire_timeout_ms: 10000 }}
    resilience: {{ max_concurrent: 8, max_queue: 256, timeout_ms: 30000, tenant_share: 1 }}
    schema: analytics
    queries:
      revenue_by_month:
        description: Revenue per month for a region.
        sql: >-
          SELECT month, region, revenue, orders FROM analytics.monthly_revenue
          WHERE tenant = $1 AND region = $2 AND month >= $3::date AND month < $4::date ORDER BY month DESC
        parameters:
          tenant: {{ bind: tenant }}
          region: {{ type: string, required: true }}
          from_date: {{ type: date, required: true }}
          to_date: {{ type: date, required: true }}
"""
    # The measured brokers export metrics (as in production); the twin without the section measures their cost.
    metrics_section = "  metrics: { host: 127.0.0.1, port: 0, path: /metrics }\n" if metrics else ""
    grant = '{ tools: ["*"] }' if tool_count is not None else '{ tools: ["*"], deny_tools: [hr__get_compensation] }'
    # The Redis round trip: the same tenant and tenant x tool limits (never reached), checked in this process or,
    # with `shared`, in Redis as every replica would.
    limit_lines = "    tenant_rate: 10000000/s\n    tenant_tool_rate: 10000000/s\n" if limits or shared else ""
    shared_section = (f"  shared_state: {{ redis: {{ address: 127.0.0.1:{REDIS_PORT} }}, replicas: 3, timeout_ms: 100 }}\n"
                      "  request_state: { key: env:BENCH_STATE_KEY }\n") if shared else ""
    return f"""
server:
  page_size: 1000
  log_level: warning
  http:
    host: 127.0.0.1
    port: 0
    max_body_bytes: 1048576
    auth:
      resource: http://127.0.0.1/mcp
      api_keys:
        - {{ id: bench, tenant: acme, roles: [bench], hash: "{digest}" }}
      jwt:
        issuer: {identities.ISSUER}
        audience: http://127.0.0.1/mcp
        jwks_file: {auth_dir}/jwks.json
        claims: {{ principal: sub, tenant: tenant, roles: roles }}
  limits:
    max_in_flight: 4096
{limit_lines}{shared_section}{metrics_section}backends:
{backends}
policy:
  roles:
    bench: {grant}
"""


class Broker:
    def __init__(self, name: str, config: str, env: dict[str, str] | None = None) -> None:
        self.path = WORK / f"{name}.yaml"
        self.path.write_text(config)
        self.port_file = WORK / f"{name}.port"
        self.port_file.unlink(missing_ok=True)
        self.log = open(WORK / f"{name}.log", "w")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(["taskset", "-c", SERVER_CORE, str(BROKER), "serve", "--config", str(self.path), "--port", "0",
                                      "--port-file", str(self.port_file)], stdout=self.log, stderr=self.log,
                                     env={**os.environ, **(env or {})})
        while not (self.port_file.exists() and self.port_file.read_text().strip()):
            if self.proc.poll() is not None:
                sys.exit(f"broker exited: see {WORK}/{name}.log")
            time.sleep(0.002)
        self.port = int(self.port_file.read_text())
        self.session = ""

    def post(self, message: dict, auth: str) -> tuple[int, dict, bytes]:
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream", "Authorization": auth,
                   "MCP-Protocol-Version": "2025-11-25"}
        if self.session:
            headers["Mcp-Session-Id"] = self.session
        conn.request("POST", "/mcp", body=json.dumps(message), headers=headers)
        r = conn.getresponse()
        out = r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        conn.close()
        return out

    def open_session(self, auth: str) -> str:
        status, headers, body = self.post({"jsonrpc": "2.0", "id": 0, "method": "initialize",
                                           "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}}}, auth)
        assert status == 200, body
        self.session = headers["mcp-session-id"]
        return self.session

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mb(self, key: str = "VmRSS") -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


# --- load ---------------------------------------------------------------------------------------------------------

def wrk(url: str, script: str, conns: int, seconds: int, env: dict[str, str]) -> dict:
    out = WORK / "wrk-out.json"
    out.unlink(missing_ok=True)
    cmd = ["taskset", "-c", LOAD_CORE, "wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--timeout", "10s", "-s", str(BENCH / script), url]
    subprocess.run(cmd, env=dict(os.environ, BENCH_OUT=str(out), **env), capture_output=True, text=True, timeout=seconds + 60, check=True)
    r = json.loads(out.read_text())
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    r["failures"] = r["socket_errors"] + r["status_errors"] + r["failed_checks"]
    return r


def pgbench(conns: int, seconds: int) -> dict:
    script = WORK / "wh.sql"
    script.write_text(WH_SQL + "\n")
    env = dict(os.environ, PGPASSWORD=os.environ["WH_ACME_PASSWORD"])
    out = subprocess.run(["taskset", "-c", LOAD_CORE, "pgbench", "-n", "-M", "extended", "-h", "127.0.0.1", "-p", os.environ.get("WH_PORT", "55432"),
                          "-U", "wh_acme", "-c", str(conns), "-j", "1", "-T", str(seconds), "-r", "-f", str(script), "warehouse"],
                         capture_output=True, text=True, env=env, timeout=seconds + 60)
    import re
    tps = float(re.search(r"tps = ([0-9.]+)", out.stdout).group(1))
    lat = float(re.search(r"latency average = ([0-9.]+) ms", out.stdout).group(1))
    failed = int(re.search(r"number of failed transactions: (\d+)", out.stdout).group(1)) if "failed transactions" in out.stdout else 0
    return {"rps": tps, "p50_us": lat * 1000, "p99_us": None, "failures": failed, "requests": int(tps * seconds)}


def pin_postgres() -> None:
    pids = subprocess.run(["pgrep", "-f", "postgres"], capture_output=True, text=True).stdout.split()
    for pid in pids:
        subprocess.run(["taskset", "-a", "-pc", SERVER_CORE, pid], capture_output=True)


def start_redis() -> subprocess.Popen:
    """Redis for the shared-state broker, on the load generator's core (in production it is another machine)."""
    proc = subprocess.Popen(["taskset", "-c", LOAD_CORE, "redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(WORK)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(REDIS_PORT)
    return proc


def call_body(name: str, args: dict, era: str = "2025") -> Path:
    """A tools/call body; the 2026 era carries the per-request envelope in `_meta` (no session)."""
    p = WORK / f"body-{name}-{era}.json"
    params: dict = {"name": name, "arguments": args}
    if era == "2026":
        params["_meta"] = {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {},
                           "io.modelcontextprotocol/clientInfo": {"name": "bench", "version": "1"}}
    p.write_text(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}))
    return p


def cold_start(runs: int = 5) -> float:
    """Process start to the first answered tools/call, in milliseconds (median)."""
    times = []
    auth = f"Bearer {os.environ['BENCH_KEY']}"
    for i in range(runs):
        t0 = time.monotonic()
        b = Broker(f"cold{i}", broker_config())
        b.open_session(auth)
        status, _, body = b.post({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "api__get_account", "arguments": {}}}, auth)
        assert status == 200 and b'"isError":true' not in body, body
        times.append((time.monotonic() - t0) * 1000)
        b.stop()
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--connections", default="1,16,64")
    ap.add_argument("--only", default="", help="comma-separated workload ids to run (default: all)")
    ap.add_argument("--targets", default="", help="comma-separated targets to run, e.g. direct,nginx_proxy,broker (default: all)")
    ap.add_argument("--profile", action="store_true", help="after the matrix, sample the broker with perf during each broker workload")
    ap.add_argument("--profile-connections", type=int, default=16, help="connections while profiling (default 16)")
    a = ap.parse_args()
    conns_list = [int(c) for c in a.connections.split(",")]
    if not BROKER.exists():
        sys.exit(f"no broker at {BROKER}: run bench/run.sh (it builds the release binary)")
    for tool in ["nginx", "wrk", "pgbench", "taskset", "redis-server"]:
        if not shutil.which(tool):
            sys.exit(f"{tool} is missing: run bench/run.sh")
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    RESULTS.mkdir(exist_ok=True)

    step("Fixtures, identities, nginx (backend :18080 and reverse proxy :18081 on core 1)")
    write_fixtures()
    identities.generate(str(WORK / "auth"), str(BROKER))
    printed = subprocess.run([str(BROKER), "hash-key"], capture_output=True, text=True, check=True).stdout
    fields = dict(line.split(":", 1) for line in printed.strip().splitlines())
    os.environ["BENCH_KEY"], os.environ["BENCH_KEY_HASH"] = fields["key"].strip(), fields["hash"].strip()
    os.environ.setdefault("HR_API_KEY", "bench-hr-key")
    os.environ["HR_SYSTEM_API_KEY"] = os.environ["HR_API_KEY"]
    os.environ.setdefault("BENCH_STATE_KEY", os.urandom(24).hex())
    nginx = start_nginx()
    redis = start_redis()
    pin_postgres()
    rows: list[dict] = []
    try:
        step("Cold start: process start to the first answered tools/call (5 runs)")
        cold = cold_start()
        info(f"{cold:.1f} ms (median)")

        step("Starting the brokers on core 1 (release build)")
        key_auth = f"Bearer {os.environ['BENCH_KEY']}"
        jwt = identities.mint(str(WORK / "auth"), "bench-user", "acme", ["bench"], audience="http://127.0.0.1/mcp", ttl=3600, scope=None)
        main_broker = Broker("bench", broker_config())
        session = main_broker.open_session(key_auth)
        plain_broker = Broker("nometrics", broker_config(metrics=False))
        plain_session = plain_broker.open_session(key_auth)
        limits_broker = Broker("limits", broker_config(limits=True))
        limits_session = limits_broker.open_session(key_auth)
        shared_broker = Broker("shared", broker_config(shared=True))
        shared_session = shared_broker.open_session(key_auth)
        list_broker = Broker("list1000", broker_config(tool_count=1000))
        list_session = list_broker.open_session(key_auth)
        status, _, body = list_broker.post({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, key_auth)
        assert len(json.loads(body)["result"]["tools"]) == 1000
        jwt_broker_session = main_broker.session  # the JWT workload opens its own session below
        main_broker.session = ""
        jwt_session = main_broker.open_session(f"Bearer {jwt}")
        main_broker.session = jwt_broker_session

        backend = f"http://127.0.0.1:{BACKEND_PORT}"
        proxy = f"http://127.0.0.1:{PROXY_PORT}"
        mcp = f"http://127.0.0.1:{main_broker.port}/mcp"
        emp = "21000001"
        workloads = [
            ("rest_small", "REST tool call, small JSON", [
                ("direct", lambda c: wrk(f"{backend}/account.json", "get.lua", c, a.seconds, {"BENCH_EXPECT": "acc-0001"})),
                ("nginx_proxy", lambda c: wrk(f"{proxy}/account.json", "get.lua", c, a.seconds, {"BENCH_EXPECT": "acc-0001"})),
                ("broker", lambda c: wrk(mcp, "mcp.lua", c, a.seconds, {"BENCH_BODY": str(call_body("api__get_account", {})), "BENCH_SESSION": session,
                                                                       "BENCH_AUTH": key_auth, "BENCH_EXPECT": "acc-0001"})),
                ("broker_no_metrics", lambda c: wrk(f"http://127.0.0.1:{plain_broker.port}/mcp", "mcp.lua", c, a.seconds, {
                    "BENCH_BODY": str(call_body("api__get_account", {})), "BENCH_SESSION": plain_session, "BENCH_AUTH": key_auth,
                    "BENCH_EXPECT": "acc-0001"})),
                # Tenant and tenant x tool limits checked locally, then the same limits through Redis (`server.shared_state`):
                # the difference is the cost of the shared-state round trip.
                ("broker_limits", lambda c: wrk(f"http://127.0.0.1:{limits_broker.port}/mcp", "mcp.lua", c, a.seconds, {
                    "BENCH_BODY": str(call_body("api__get_account", {})), "BENCH_SESSION": limits_session, "BENCH_AUTH": key_auth,
                    "BENCH_EXPECT": "acc-0001"})),
                ("broker_shared", lambda c: wrk(f"http://127.0.0.1:{shared_broker.port}/mcp", "mcp.lua", c, a.seconds, {
                    "BENCH_BODY": str(call_body("api__get_account", {})), "BENCH_SESSION": shared_session, "BENCH_AUTH": key_auth,
                    "BENCH_EXPECT": "acc-0001"})),
                # The same call as an MCP 2026-07-28 client makes it: no session, the envelope in every request.
                ("broker_2026", lambda c: wrk(mcp, "mcp.lua", c, a.seconds, {
                    "BENCH_BODY": str(call_body("api__get_account", {}, era="2026")), "BENCH_ERA": "2026", "BENCH_NAME": "api__get_account",
                    "BENCH_AUTH": key_auth, "BENCH_EXPECT": "acc-0001"}))]),
            ("rest_100k", "REST tool call, ~100 KB document", [
                ("direct", lambda c: wrk(f"{backend}/document.json", "get.lua", c, a.seconds, {"BENCH_EXPECT": "ord-00899"})),
                ("nginx_proxy", lambda c: wrk(f"{proxy}/document.json", "get.lua", c, a.seconds, {"BENCH_EXPECT": "ord-00899"})),
                ("broker", lambda c: wrk(mcp, "mcp.lua", c, a.seconds, {"BENCH_BODY": str(call_body("api__get_document", {})), "BENCH_SESSION": session,
                                                                       "BENCH_AUTH": key_auth, "BENCH_EXPECT": "ord-00899"}))]),
            ("rest_jwt", "REST tool call, bearer JWT", [
                ("broker", lambda c: wrk(mcp, "mcp.lua", c, a.seconds, {"BENCH_BODY": str(call_body("api__get_account", {})), "BENCH_SESSION": jwt_session,
                                                                       "BENCH_AUTH": f"Bearer {jwt}", "BENCH_EXPECT": "acc-0001"}))]),
            ("tools_list_1000", "tools/list, 1,000 tools", [
                ("broker", lambda c: wrk(f"http://127.0.0.1:{list_broker.port}/mcp", "mcp.lua", c, a.seconds, {
                    "BENCH_BODY": str(write_body("list", {"jsonrpc": "2.0", "id": 1, "method": "tools/list"})), "BENCH_SESSION": list_session,
                    "BENCH_AUTH": key_auth, "BENCH_EXPECT": "cat__t0999", "BENCH_EXPECT_TAIL": "4096", "BENCH_REJECT": "",
                    "BENCH_PREFIX": '{"jsonrpc":"2.0","id":1,"result":{"tools":[{'}))]),
            ("warehouse", "warehouse named query", [
                ("direct", lambda c: pgbench(c, a.seconds)),
                ("broker", lambda c: wrk(mcp, "mcp.lua", c, a.seconds, {"BENCH_BODY": str(call_body("warehouse__revenue_by_month", {
                    "region": "EMEA", "from_date": "2024-01-01", "to_date": "2025-01-01"})), "BENCH_SESSION": session, "BENCH_AUTH": key_auth,
                    "BENCH_EXPECT": "2024-12-01"}))]),
            ("hr_lookup", "mock HR lookup", [
                ("broker", lambda c: wrk(mcp, "mcp.lua", c, a.seconds, {"BENCH_BODY": str(call_body("hr__get_employee", {"employee_id": emp})),
                                                                       "BENCH_SESSION": session, "BENCH_AUTH": key_auth, "BENCH_EXPECT": emp}))]),
            ("policy_denial", "call refused by policy", [
                ("broker", lambda c: wrk(mcp, "mcp.lua", c, a.seconds, {"BENCH_BODY": str(call_body("hr__get_compensation", {"employee_id": emp})),
                                                                       "BENCH_SESSION": session, "BENCH_AUTH": key_auth,
                                                                       "BENCH_EXPECT": "Unknown tool: hr__get_compensation", "BENCH_REJECT": '"result"'}))]),
        ]
        brokers = {"bench": main_broker, "list1000": list_broker, "nometrics": plain_broker, "limits": limits_broker, "shared": shared_broker}
        by_target = {"broker_no_metrics": plain_broker, "broker_limits": limits_broker, "broker_shared": shared_broker}
        if a.only:
            workloads = [w for w in workloads if w[0] in a.only.split(",")]
        if a.targets:
            workloads = [(wid, title, [t for t in targets if t[0] in a.targets.split(",")]) for wid, title, targets in workloads]
        for wid, title, targets in workloads:
            step(f"{title}")
            for conns in conns_list:
                # Rounds interleave the targets, so a slow spell of the machine does not land on one target alone.
                for rnd, (target, run) in ((r, t) for r in range(a.rounds) for t in targets):
                    b = list_broker if wid == "tools_list_1000" else by_target.get(target, main_broker)
                    cpu0 = b.cpu_seconds() if target.startswith("broker") else None
                    r = run(conns)
                    row = {"workload": wid, "title": title, "target": target, "connections": conns, "round": rnd + 1, **r}
                    if cpu0 is not None:
                        row["broker_cpu_ms_per_call"] = (b.cpu_seconds() - cpu0) * 1000 / max(1, r["requests"])
                        row["broker_rss_mb"] = b.rss_mb()
                        # RSS = private memory + touched pages of the shared code (binary, Swift runtime,
                        # Foundation, ICU); the private part is what load and leaks move.
                        row["broker_anon_mb"] = b.rss_mb("RssAnon")
                    rows.append(row)
                    info(f"{conns:>3} conns  {target:<12} round {rnd + 1}: {r['rps']:>9.0f} req/s  p50 {r['p50_us'] / 1000:6.2f} ms  "
                         + (f"p99 {r['p99_us'] / 1000:6.2f} ms  " if r.get("p99_us") else "")
                         + f"failures {r['failures']}"
                         + (f"  cpu {row['broker_cpu_ms_per_call']:.3f} ms/call  rss {row['broker_rss_mb']:.1f} MB"
                            f" (anon {row['broker_anon_mb']:.1f})" if cpu0 is not None else ""))
        peak = {name: b.rss_mb("VmHWM") for name, b in brokers.items()}
        if a.profile:
            step(f"Profiles (perf, cpu-clock sampling of the broker at {a.profile_connections} connections)")
            for wid, _, targets in workloads:
                for target, run in targets:
                    if target == "broker":
                        b = list_broker if wid == "tools_list_1000" else main_broker
                        profile(b, wid, lambda: run(a.profile_connections), a.seconds)
    finally:
        for b in [v for v in locals().get("brokers", {}).values()]:
            b.stop()
        nginx.send_signal(signal.SIGQUIT)
        nginx.wait(10)
        redis.terminate()
        redis.wait(10)
    report(rows, cold, peak, a)
    return 1 if any(r["failures"] for r in rows) else 0


def profile(b: Broker, wid: str, run, seconds: int) -> None:
    data = WORK / f"perf-{wid}.data"
    rec = subprocess.Popen(["perf", "record", "-e", "cpu-clock", "-F", "1999", "-g", "-o", str(data), "-p", str(b.proc.pid), "--", "sleep", str(seconds)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    run()
    rec.wait(seconds + 30)
    out = subprocess.run(["perf", "report", "-i", str(data), "--stdio", "--no-children", "-g", "none", "--sort", "dso,symbol", "--percent-limit", "0.7"],
                         capture_output=True, text=True).stdout
    lines = [l for l in out.splitlines() if l.strip() and not l.startswith("#") and "%" in l.split()[0]]
    (RESULTS / f"profile-{wid}.txt").write_text("\n".join(l.rstrip() for l in lines[:40]) + "\n")
    info(f"{wid}: top of profile")
    for l in lines[:8]:
        info("  " + l.strip()[:150])


def write_body(name: str, message: dict) -> Path:
    p = WORK / f"body-{name}.json"
    p.write_text(json.dumps(message))
    return p


def best(rows: list[dict], wid: str, target: str, conns: int) -> dict | None:
    """The median round (by req/s) of one cell."""
    cell = sorted((r for r in rows if r["workload"] == wid and r["target"] == target and r["connections"] == conns), key=lambda r: r["rps"])
    return cell[len(cell) // 2] if cell else None


def metrics_cost(rows: list[dict]) -> list[tuple[int, float]]:
    """Throughput change of the small REST call with metrics on, per connection count (median rounds)."""
    out = []
    for conns in dict.fromkeys(r["connections"] for r in rows):
        on, off = best(rows, "rest_small", "broker", conns), best(rows, "rest_small", "broker_no_metrics", conns)
        if on and off:
            out.append((conns, on["rps"] / off["rps"] - 1))
    return out


def shared_state_cost(rows: list[dict]) -> list[tuple[int, float, float, float]]:
    """Per connection count: extra broker CPU ms, extra p50 ms and throughput change of the Redis-backed limits."""
    out = []
    for conns in dict.fromkeys(r["connections"] for r in rows):
        local, shared = best(rows, "rest_small", "broker_limits", conns), best(rows, "rest_small", "broker_shared", conns)
        if local and shared:
            out.append((conns, shared["broker_cpu_ms_per_call"] - local["broker_cpu_ms_per_call"], (shared["p50_us"] - local["p50_us"]) / 1000,
                        shared["rps"] / local["rps"] - 1))
    return out


def report(rows: list[dict], cold: float, peak: dict, a) -> None:
    cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"], capture_output=True, text=True).stdout.strip()
    lines = [f"# mcp-broker benchmark", "",
             f"Machine: {os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}; load generator on core {LOAD_CORE}, "
             f"broker + nginx + PostgreSQL on core {SERVER_CORE}. {a.seconds} s per round, {a.rounds} rounds (median shown). "
             f"Release build. Every reply checked.", "",
             f"Cold start (process start to first answered tools/call, median of 5): **{cold:.1f} ms**. "
             f"Peak RSS: " + ", ".join(f"{k} {v:.1f} MB" for k, v in peak.items()) + ".", "",
             "RSS counts the touched pages of shared code (binary, Swift runtime, Foundation) as well as private memory; "
             "anon MB is the private part alone.", "",
             "| workload | conns | target | req/s | p50 ms | p99 ms | ratio to direct | ratio to nginx proxy | broker CPU ms/call | RSS MB | anon MB | failures |",
             "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for wid in dict.fromkeys(r["workload"] for r in rows):
        for conns in dict.fromkeys(r["connections"] for r in rows):
            direct, proxy = best(rows, wid, "direct", conns), best(rows, wid, "nginx_proxy", conns)
            for target in ["direct", "nginx_proxy", "broker", "broker_2026", "broker_no_metrics", "broker_limits", "broker_shared"]:
                r = best(rows, wid, target, conns)
                if not r:
                    continue
                rd = f"{r['rps'] / direct['rps']:.2f}" if direct and target != "direct" else ""
                rp = f"{r['rps'] / proxy['rps']:.2f}" if proxy and target.startswith("broker") else ""
                p99 = f"{r['p99_us'] / 1000:.2f}" if r.get("p99_us") else "–"
                cpu_ms = f"{r['broker_cpu_ms_per_call']:.3f}" if "broker_cpu_ms_per_call" in r else ""
                rss = f"{r['broker_rss_mb']:.1f}" if "broker_rss_mb" in r else ""
                anon = f"{r['broker_anon_mb']:.1f}" if "broker_anon_mb" in r else ""
                lines.append(f"| {r['title']} | {conns} | {target} | {r['rps']:.0f} | {r['p50_us'] / 1000:.2f} | {p99} | {rd} | {rp} | {cpu_ms} | {rss} | {anon} | {sum(x['failures'] for x in rows if x['workload'] == wid and x['target'] == target and x['connections'] == conns)} |")
    cost = metrics_cost(rows)
    if cost:
        lines += ["", "Metrics cost (small REST call, broker with `server.metrics` vs the same config without it, same run): "
                  + ", ".join(f"{c} connections {v:+.1%} req/s" for c, v in cost) + " (target: no worse than -5 %)."]
    shared = shared_state_cost(rows)
    if shared:
        lines += ["", "Shared state (small REST call, tenant and tenant x tool limits in Redis vs the same limits in the process, same run): "
                  + ", ".join(f"{c} connections {cpu * 1000:+.0f} µs broker CPU and {p50 * 1000:+.0f} µs p50 per call, {v:+.1%} req/s"
                              for c, cpu, p50, v in shared) + "."]
    text = "\n".join(lines) + "\n"
    (RESULTS / "latest.md").write_text(text)
    with open(RESULTS / "latest.jsonl", "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
        f.write(json.dumps({"cold_start_ms": cold, "peak_rss_mb": peak}) + "\n")
    print("\n" + text)
    print(f"written: {RESULTS / 'latest.md'} and {RESULTS / 'latest.jsonl'}")


if __name__ == "__main__":
    sys.exit(main())
