"""The scale-out harness for test_replicas.py: one `redis-server`, three `mcp-broker serve` replicas with the same
configuration (shared state in that Redis), and nginx round-robin in front of them with no affinity and no upstream
keep-alive, so consecutive requests really change replica. Every response through nginx carries `X-Upstream`
(nginx's `$upstream_addr`), which names the replica that answered.

Processes are started on loopback on free ports chosen here (fixed per run, so a killed replica or Redis can be
restarted on the same port and nginx's upstream list stays valid) and are registered in LIVE_PROCESSES so a crashed
run still cleans them up.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcp import Client
from mcp.client.streamable_http import create_mcp_http_client, streamable_http_client

from e2e_helpers import BROKER_BIN, LIVE_PROCESSES, REPO_ROOT, broker_env, http_request, stop_process

REPLICAS = 3
TENANTS = ["acme", "globex"]
CRM_HOST = "127.0.0.1"
# The tenant × tool limit every scenario runs under (the probe tool of scenario 2: 10/s burst 20).
TOOL_RATE = "10/s burst 20"
RATE_LIMITED = "rate_limited"


# --------------------------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------------------------


def free_port() -> int:
    """A port the OS just gave us and took back: free now, and kept by this run for restarts."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.05, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not reached within {timeout} s")
        time.sleep(interval)


def new_api_key() -> tuple[str, str]:
    """(key, `sha256:` hash) as `mcp-broker hash-key` makes them."""
    key = "mcpb_" + base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()
    return key, "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def service_env() -> dict[str, str]:
    """The warehouse and CRM credentials: from the environment (scripts/test.sh sources them), else from the
    .run/{pg,crm}/credentials.env files of this checkout."""
    needed = ["WH_ACME_PASSWORD", "WH_GLOBEX_PASSWORD", "CRM_CLIENT_SECRET", "CRM_API_KEY"]
    found = {k: os.environ[k] for k in needed + ["CRM_PORT", "WH_PORT"] if os.environ.get(k)}
    for path in [REPO_ROOT / ".run" / "pg" / "credentials.env", REPO_ROOT / ".run" / "crm" / "credentials.env"]:
        if path.exists():
            for line in path.read_text().splitlines():
                name, sep, value = line.removeprefix("export ").partition("=")
                if sep and name.strip() not in found:
                    found[name.strip()] = value.strip().strip("'\"")
    missing = [k for k in needed if k not in found]
    if missing:
        raise RuntimeError(f"missing {missing}: source .run/pg/credentials.env and .run/crm/credentials.env first")
    return found


SHARED_STATE_DOWN = "shared state unavailable"


def shared_state_degraded(status: int, body: Any) -> bool:
    """/readyz says the replica runs on its local fallback: 200, `degraded`, naming the shared state."""
    return status == 200 and isinstance(body, dict) and body.get("status") == "degraded" and SHARED_STATE_DOWN in json.dumps(body)


def result_code(result: Any) -> str | None:
    """The broker's business error code of an SDK CallToolResult (None when it succeeded)."""
    if not result.is_error:
        return None
    return ((result.meta or {}).get("mcp-broker/error") or {}).get("code")


# --------------------------------------------------------------------------------------------------------------
# Redis
# --------------------------------------------------------------------------------------------------------------


class RedisServer:
    """`redis-server` in the foreground on a fixed loopback port, no persistence (a restart starts empty)."""

    def __init__(self, workdir: Path, port: int) -> None:
        self.workdir = workdir
        self.port = port
        self.proc: subprocess.Popen | None = None
        self.log_path = workdir / "redis.log"

    def start(self, timeout: float = 10.0) -> "RedisServer":
        exe = shutil.which("redis-server")
        if exe is None:
            raise RuntimeError("redis-server not installed (apt-get install redis-server)")
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--daemonize", "no", "--dir", str(self.workdir), "--protected-mode", "yes"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=str(self.workdir), start_new_session=True)
        LIVE_PROCESSES.append(self.proc)
        wait_until(lambda: self.ping() or self._died(), timeout, what=f"redis PONG on {self.port}")
        if not self.ping():
            raise RuntimeError(f"redis-server exited with {self.proc.returncode}: {self.log_path.read_text()[-2000:]}")
        return self

    def _died(self) -> bool:
        return self.proc is not None and self.proc.poll() is not None

    def ping(self) -> bool:
        """One RESP PING on a fresh connection."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"*1\r\n$4\r\nPING\r\n")
                return s.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL: the service is gone (connections reset, new ones refused), not merely paused."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)
        if self.proc in LIVE_PROCESSES:
            LIVE_PROCESSES.remove(self.proc)

    def stop(self) -> None:
        stop_process(self.proc, grace=3)


# --------------------------------------------------------------------------------------------------------------
# Broker replicas
# --------------------------------------------------------------------------------------------------------------


class Replica:
    """One `mcp-broker serve` process on a fixed loopback port (restartable on the same port)."""

    def __init__(self, workdir: Path, index: int, port: int, config: Path, env: dict[str, str]) -> None:
        self.workdir = workdir
        self.index = index
        self.name = f"replica{index}"
        self.port = port
        self.config = config
        self.env = env
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.address}/mcp"

    @property
    def stderr_path(self) -> Path:
        return self.workdir / f"{self.name}.{self.starts}.stderr.log"

    def start(self, timeout: float = 60.0) -> "Replica":
        self.starts += 1
        port_file = self.workdir / f"{self.name}.port"
        port_file.unlink(missing_ok=True)
        with open(self.workdir / f"{self.name}.{self.starts}.stdout.log", "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                [str(BROKER_BIN), "serve", "--config", str(self.config), "--host", "127.0.0.1", "--port", str(self.port),
                 "--port-file", str(port_file)],
                stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=self.env, cwd=str(self.workdir),
                start_new_session=True)
        LIVE_PROCESSES.append(self.proc)
        try:
            wait_until(lambda: self._alive() and self.livez(), timeout, what=f"{self.name} /livez")
        except BaseException:
            self.stop()
            raise
        return self

    def _alive(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.proc.returncode} during startup:\n{self.stderr_tail()}")
        return True

    def livez(self) -> bool:
        try:
            return http_request(self.port, "GET", "/livez", timeout=2)[0] == 200
        except OSError:
            return False

    def readyz(self) -> tuple[int, Any]:
        """(status, body) of this replica's own /readyz (not through nginx)."""
        status, _, body = http_request(self.port, "GET", "/readyz", timeout=3)
        try:
            return status, json.loads(body)
        except ValueError:
            return status, body.decode(errors="replace")

    def sigkill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=5)
        if self.proc in LIVE_PROCESSES:
            LIVE_PROCESSES.remove(self.proc)

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        stop_process(self.proc, grace=5)

    def stderr_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.stderr_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""


# --------------------------------------------------------------------------------------------------------------
# nginx
# --------------------------------------------------------------------------------------------------------------

NGINX_CONF = """\
# Round-robin over the replicas with no affinity. No `keepalive` in the upstream and the default
# proxy_http_version 1.0: every proxied request is a new upstream connection, so round-robin really alternates.
{user}
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log notice;
events {{ worker_connections 1024; }}
http {{
    log_format upstreams '$msec $request_method $status upstream=$upstream_addr upstream_status=$upstream_status';
    access_log {dir}/access.log upstreams;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    upstream brokers {{
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://brokers;
            proxy_set_header Host $http_host;
            proxy_buffering off;                  # SSE answers stream through
            proxy_read_timeout 60s;
            # A refused connection (a dead replica) moves on; a request already sent is never replayed
            # (no non_idempotent), so a write in flight on a killed replica fails to the client instead.
            proxy_next_upstream error timeout;
            proxy_next_upstream_tries {tries};
            add_header X-Upstream $upstream_addr always;
        }}
    }}
}}
"""


class Nginx:
    """nginx in the foreground (`daemon off`) with its own prefix, pid and logs under `workdir`."""

    def __init__(self, workdir: Path, port: int, upstreams: list[str]) -> None:
        self.dir = workdir
        self.port = port
        self.upstreams = upstreams
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    def start(self, timeout: float = 10.0) -> "Nginx":
        exe = shutil.which("nginx") or "/usr/sbin/nginx"
        if not Path(exe).exists():
            raise RuntimeError("nginx not installed (apt-get install nginx-light)")
        self.dir.mkdir(parents=True, exist_ok=True)
        # Run as root (the test's user), the workers would drop to nobody and not reach this private temp dir.
        user = "user root;" if os.geteuid() == 0 else ""
        # fail_timeout 2s: a killed replica is skipped for 2 s after a refused connect, then tried again.
        servers = "\n".join(f"        server {u} max_fails=1 fail_timeout=2s;" for u in self.upstreams)
        conf = self.dir / "nginx.conf"
        conf.write_text(NGINX_CONF.format(user=user, dir=self.dir, servers=servers, port=self.port, tries=len(self.upstreams)))
        with open(self.dir / "nginx.stderr.log", "wb") as err:
            self.proc = subprocess.Popen([exe, "-c", str(conf), "-p", str(self.dir)], stdin=subprocess.DEVNULL,
                                         stdout=err, stderr=err, cwd=str(self.dir), start_new_session=True)
        LIVE_PROCESSES.append(self.proc)
        wait_until(lambda: port_open(self.port) or self.proc.poll() is not None, timeout, what="nginx listening")
        if self.proc.poll() is not None:
            raise RuntimeError(f"nginx exited with {self.proc.returncode}: {(self.dir / 'nginx.stderr.log').read_text()}"
                               f"{(self.dir / 'error.log').read_text() if (self.dir / 'error.log').exists() else ''}")
        return self

    def stop(self) -> None:
        stop_process(self.proc, grace=3)

    def access_log(self) -> list[str]:
        path = self.dir / "access.log"
        return path.read_text().splitlines() if path.exists() else []


def answering_upstream(header: str | None) -> str | None:
    """The replica that answered: the last address of `$upstream_addr` (earlier ones refused the connection)."""
    if not header:
        return None
    return header.split(",")[-1].strip().split(" : ")[-1].strip()


# --------------------------------------------------------------------------------------------------------------
# The SDK over nginx, recording which replica answered each HTTP request
# --------------------------------------------------------------------------------------------------------------


@dataclass
class Hop:
    """One HTTP exchange of an SDK client: what it was and which replica answered."""

    at: float
    method: str  # HTTP method
    label: str  # JSON-RPC method, "response" for a client's answer to a server request, or the HTTP method
    rpc_id: Any
    arguments: dict[str, Any]
    status: int
    upstream: str | None


@dataclass
class HopRecorder:
    """An httpx response hook: every response's `X-Upstream`, with the JSON-RPC message that asked for it."""

    hops: list[Hop] = field(default_factory=list)

    async def hook(self, response: Any) -> None:
        request = response.request
        label, rpc_id, arguments = request.method, None, {}
        if request.method == "POST":
            try:
                message = json.loads(request.content)
            except ValueError:
                message = {}
            if isinstance(message, dict):
                label = message.get("method") or ("response" if "result" in message or "error" in message else "?")
                rpc_id = message.get("id")
                params = message.get("params") or {}
                if label == "tools/call":
                    label = f"tools/call {params.get('name')}"
                    arguments = params.get("arguments") or {}
        self.hops.append(Hop(time.monotonic(), request.method, label, rpc_id, arguments, response.status_code,
                             answering_upstream(response.headers.get("x-upstream"))))


def sdk_client(url: str, key: str, recorder: HopRecorder | None = None, mode: str = "legacy", **kwargs: Any) -> Client:
    """The official client over streamable HTTP with an API key; its httpx client reports every response to
    `recorder`. `mode` legacy is the 2025-11-25 initialize handshake with an `Mcp-Session-Id`."""
    http = create_mcp_http_client(headers={"Authorization": f"Bearer {key}"})
    if recorder is not None:
        http.event_hooks = {"request": [], "response": [recorder.hook]}
    kwargs.setdefault("read_timeout_seconds", 20)
    return Client(streamable_http_client(url, http_client=http), mode=mode, **kwargs)


async def list_all_tools(client: Client) -> list[Any]:
    """Every page of tools/list. Also fills the SDK's output-schema cache: without it the SDK re-lists tools before
    validating each call's result (doubling the requests and disturbing the round-robin)."""
    tools: list[Any] = []
    cursor: str | None = None
    for _ in range(50):
        page = await client.list_tools(cursor=cursor, cache_mode="refresh")
        tools.extend(page.tools)
        cursor = page.next_cursor
        if cursor is None:
            return tools
    raise AssertionError("tools/list never ended")


# --------------------------------------------------------------------------------------------------------------
# The demo CRM, read directly (the one external system every replica writes to)
# --------------------------------------------------------------------------------------------------------------


class CRM:
    def __init__(self, env: dict[str, str]) -> None:
        self.base = f"http://{CRM_HOST}:{env.get('CRM_PORT', '18931')}"
        self.key = env["CRM_API_KEY"]

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"X-API-Key": self.key, "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def list_all(self, kind: str, **query: str) -> list[dict[str, Any]]:
        """Every item of /api/v1/{kind} matching `query`, following next_cursor (bounded)."""
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        for _ in range(1000):
            q = dict(query, limit="100")
            if cursor:
                q["cursor"] = cursor
            status, page = self.request("GET", f"/api/v1/{kind}?{urllib.parse.urlencode(q)}")
            assert status == 200, (status, page)
            items.extend(page["data"])
            cursor = page.get("next_cursor")
            if not cursor:
                return items
        raise AssertionError(f"/api/v1/{kind} never ended")


# --------------------------------------------------------------------------------------------------------------
# Configuration and the cluster
# --------------------------------------------------------------------------------------------------------------


def replica_config(redis_port: int, crm_port: str, wh_port: str, keys: dict[str, str], state_key_env: str) -> str:
    """The demo's four backends (shape of broker-test.yaml), API keys, shared state, the scenario limits."""
    api_keys = "\n".join(f'        - {{ id: replicas-{t}, tenant: {t}, roles: [ops], hash: "{h}" }}' for t, h in keys.items())
    openapi = REPO_ROOT / "config" / "crm" / "openapi.json"
    return f"""
server:
  name: mcp-broker
  tenants: [acme, globex]
  tool_separator: "__"
  page_size: 5
  default_timeout_ms: 15000
  log_level: info
  http:
    host: 127.0.0.1
    port: 0
    path: /mcp
    idle_timeout_s: 60
    session_idle_timeout_s: 1800
    auth:
      resource: http://127.0.0.1/mcp
      api_keys:
{api_keys}
  shared_state:
    redis: {{ address: "127.0.0.1:{redis_port}" }}
    replicas: 3
    timeout_ms: 100
  request_state:
    key: env:{state_key_env}
  limits:
    tenant_tool_rate: "{TOOL_RATE}"
    max_in_flight: 512
  stdio:
    principal: {{ id: local-user, tenant: acme, roles: [ops] }}

backends:
  erp:
    kind: mock-erp
    description: SAP-like ERP (suppliers, purchase orders, invoices, inventory, cost centres)
    credentials: {{ client: "100", user: BROKER_SVC, password: env:ERP_PASSWORD }}
    system: {{ seed: 42, tenants: [acme, globex], client: "100", user: BROKER_SVC, password: env:ERP_SYSTEM_PASSWORD, latency_ms: 0 }}
  hr:
    kind: mock-hr
    description: Workday-like HR (employees, org chart, leave, compensation)
    credentials: {{ api_key: env:HR_API_KEY }}
    system: {{ seed: 42, tenants: [acme, globex], api_key: env:HR_SYSTEM_API_KEY, latency_ms: 0 }}
  warehouse:
    kind: postgres
    description: PostgreSQL sales warehouse
    connection: {{ host: 127.0.0.1, port: {wh_port}, database: warehouse, sslmode: disable, connect_timeout_ms: 2000 }}
    tenants:
      acme: {{ user: wh_acme, password: env:WH_ACME_PASSWORD }}
      globex: {{ user: wh_globex, password: env:WH_GLOBEX_PASSWORD }}
    pool: {{ min: 0, max: 2, acquire_timeout_ms: 2000 }}
    schema: analytics
    analyst_sql: {{ enabled: true, max_rows: 5, timeout_ms: 5000 }}
    queries:
      revenue_by_month:
        description: Revenue and order count per month for a region (cancelled orders excluded), newest month first.
        sql: >-
          SELECT month, region, revenue, orders FROM analytics.monthly_revenue
          WHERE tenant = $1 AND region = $2 AND month >= $3::date AND month < $4::date ORDER BY month DESC
        parameters:
          tenant: {{ bind: tenant }}
          region: {{ type: string, required: true, enum: [EMEA, AMER, APAC] }}
          from_date: {{ type: date, required: true }}
          to_date: {{ type: date, required: true }}
  crm:
    kind: rest
    description: demo CRM (accounts, contacts, opportunities)
    base_url: http://{CRM_HOST}:{crm_port}
    internal: true
    tenants:
      acme: {{ auth: {{ type: oauth2_client_credentials, token_url: "http://{CRM_HOST}:{crm_port}/oauth/token", client_id: mcp-broker, client_secret: env:CRM_CLIENT_SECRET }} }}
      globex: {{ auth: {{ type: api_key, in: header, name: X-API-Key, value: env:CRM_API_KEY }} }}
    limits: {{ connect_timeout_ms: 2000, timeout_ms: 8000 }}
    retries: {{ max_attempts: 3, base_delay_ms: 100, max_delay_ms: 1000 }}
    openapi:
      file: {openapi}
      operations: [listOpportunities, updateOpportunity]
      rename: {{ listOpportunities: list_opportunities, updateOpportunity: update_opportunity }}
    tools:
      search_accounts:
        description: Search CRM accounts by industry and country.
        method: GET
        path: /api/v1/accounts
        parameters:
          industry: {{ in: query, type: string }}
          country: {{ in: query, type: string, pattern: "^[A-Z]{{2}}$" }}
          limit: {{ in: query, type: integer, minimum: 1, maximum: 100, default: 25 }}
        response: {{ items: /data, fields: {{ id: /id, name: /name, industry: /industry, country: /country }} }}
      create_account:
        description: Create a CRM account. Pass the same Idempotency-Key when retrying so it is created once.
        method: POST
        path: /api/v1/accounts
        parameters:
          Idempotency-Key: {{ in: header, type: string, required: true, pattern: "^[A-Za-z0-9_-]{{8,64}}$" }}
        body:
          schema:
            type: object
            properties:
              name: {{ type: string, minLength: 1, maxLength: 120 }}
              industry: {{ type: string, enum: [software, manufacturing, retail, healthcare, finance, energy, logistics, media] }}
              country: {{ type: string, pattern: "^[A-Z]{{2}}$" }}
            required: [name, industry, country]
            additionalProperties: false

policy:
  roles:
    ops: {{ tools: ["*"], resources: ["*"], prompts: ["*"] }}
  tools:
    erp__approve_invoice: {{ confirm: true, destructive: true }}
    crm__update_opportunity: {{ confirm: true }}
"""


@dataclass
class Cluster:
    workdir: Path
    redis: RedisServer
    replicas: list[Replica]
    nginx: Nginx
    keys: dict[str, str]  # tenant -> API key
    crm: CRM

    @property
    def url(self) -> str:
        return self.nginx.url

    def replica_of(self, upstream: str | None) -> int | None:
        for r in self.replicas:
            if r.address == upstream:
                return r.index
        return None

    def client(self, tenant: str = "acme", recorder: HopRecorder | None = None, url: str | None = None, **kw: Any) -> Client:
        return sdk_client(url or self.url, self.keys[tenant], recorder, **kw)

    def ensure_all_up(self) -> None:
        """Restarts whatever a scenario left dead, so the next one starts from three replicas and Redis in rotation,
        and gives the replicas a bounded moment to leave a shared-state fallback (best effort: the scenarios assert)."""
        if self.redis.proc is None or self.redis.proc.poll() is not None:
            self.redis.start()
        for r in self.replicas:
            if not r.running():
                r.start()
        self.wait_rotation()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(shared_state_degraded(*r.readyz()) for r in self.replicas):
            time.sleep(0.2)

    def wait_rotation(self, timeout: float = 15.0) -> None:
        """Waits until nginx rotates over all replicas again. After a refused connect nginx skips a server for
        fail_timeout and then lets it back in gradually (its effective weight recovers one step per pick)."""
        every = {r.address for r in self.replicas}
        recent: list[str | None] = []

        def rotating() -> bool:
            status, headers, _ = http_request(self.nginx.port, "GET", "/livez", timeout=5)
            recent.append(answering_upstream(headers.get("x-upstream")) if status == 200 else None)
            return set(recent[-len(every):]) == every

        wait_until(rotating, timeout, interval=0.1, what="nginx rotating over every replica")

    def stop(self) -> None:
        self.nginx.stop()
        for r in self.replicas:
            r.stop()
        self.redis.stop()


def start_cluster(workdir: Path) -> Cluster:
    env_services = service_env()
    keys, hashes = {}, {}
    for t in TENANTS:
        keys[t], hashes[t] = new_api_key()
    state_key_env = "REPLICAS_REQUEST_STATE_KEY"
    redis_port = free_port()
    config = workdir / "replicas.yaml"
    config.write_text(replica_config(redis_port, env_services.get("CRM_PORT", "18931"), env_services.get("WH_PORT", "55432"),
                                     hashes, state_key_env))
    env = broker_env(**env_services, **{state_key_env: secrets.token_urlsafe(48)})
    redis = RedisServer(workdir, redis_port)
    replicas = [Replica(workdir, i, free_port(), config, env) for i in range(REPLICAS)]
    nginx = Nginx(workdir / "nginx", free_port(), [r.address for r in replicas])
    cluster = Cluster(workdir, redis, replicas, nginx, keys, CRM(env_services))
    try:
        redis.start()
        for r in replicas:
            r.start()
        nginx.start()
    except BaseException:
        cluster.stop()
        raise
    return cluster
