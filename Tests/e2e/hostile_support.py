"""Support for the hostile-caller suites (test_schema_sweep.py, test_hostile_tenant.py).

The issue they guard: one caller cannot hurt the daemon or another tenant. A hostile caller may send any JSON,
any SQL and any number of requests; the broker must answer each with a result or a JSON-RPC error, stay up with
the same pid, keep another tenant's latency and data intact, and never show backend internals.

These helpers start the real binary with the demo configuration (config/broker.yaml: erp, hr, warehouse, crm)
next to freshly generated identities, as test_auth.py does, and measure what a bystander tenant sees meanwhile.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest
from mcp import Client
from mcp.client.streamable_http import create_mcp_http_client, streamable_http_client

from e2e_helpers import (
    BROKER_BIN, PROTOCOL_VERSION, REPO_ROOT, HTTPBroker, HTTPReply, broker_env, http_request, post_rpc, reply_messages, rpc,
)

sys.path.insert(0, str(REPO_ROOT / "scripts"))
import identities  # noqa: E402

# What the demo backends need besides the broker's own secrets: scripts/pg.sh and scripts/crm.sh write them.
DEMO_ENV = ("WH_ACME_PASSWORD", "WH_GLOBEX_PASSWORD", "CRM_CLIENT_SECRET", "CRM_API_KEY")

# A debug build idles at well under 100 MB; a broker that buffers a hostile answer grows by hundreds.
RSS_LIMIT_MB = 300.0
# Latency allowance for the bystander: p99 during an attack <= 2 x its baseline p99 + this slack. The slack absorbs
# scheduler noise on a 2-core CI machine running PostgreSQL, the CRM, the broker and pytest side by side (the attacking
# threads themselves take CPU from the broker: measured up to +80 ms at p99 under a parallel build). What the bound
# must catch is still far above it: a drained pool waits its 2 s acquire timeout, an open breaker refuses every call.
LATENCY_SLACK_S = 0.100
# Samples per attack window (at least 20 are required): from 101 on, p99 is no longer simply the slowest call, so
# one scheduler hiccup does not decide the verdict. The baseline's p99 is the slowest of BASELINE_SAMPLES calls.
MIN_SAMPLES = 101
BASELINE_SAMPLES = 20

# Text that means a backend's or the runtime's internals reached the caller.
RAW_MARKERS = ("Fatal error", "Swift runtime failure", ".swift:", "Stack dump", "Traceback (most recent call last)",
               "CURLE_", "libcurl", "libpq", "DETAIL:  ", "HINT:  ", "LINE 1:")


def require_demo_services() -> None:
    """The demo PostgreSQL and CRM must be running (scripts/pg.sh, scripts/crm.sh) with their credentials exported."""
    missing = [name for name in DEMO_ENV if not os.environ.get(name)]
    if missing:
        pytest.fail(f"{', '.join(missing)} not set: source .run/pg/credentials.env and .run/crm/credentials.env", pytrace=False)


def prepare_demo_root(root: Path) -> Path:
    """The demo configuration copied into `root` with generated identities (its relative paths resolve there)."""
    require_demo_services()
    shutil.copytree(REPO_ROOT / "config", root / "config")
    identities.generate(str(root / ".run" / "auth"), str(BROKER_BIN))
    return root


def rss_mb(pid: int) -> float:
    """Resident set size of a process (VmRSS), in MiB; 0 once it has exited (a zombie has no VmRSS line)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return 0.0
    return next((int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmRSS:")), 0.0)


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


def assert_clean_text(text: str, *, allow_sqlstate: bool = False) -> None:
    """A message for the caller: no runtime or backend internals (SQLSTATE codes only from the warehouse)."""
    for marker in RAW_MARKERS + (() if allow_sqlstate else ("SQLSTATE",)):
        assert marker not in text, f"raw backend/runtime text {marker!r} in the answer: {text[:400]}"


async def decline(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
    """An elicitation callback that always declines, so a confirmed write never runs."""
    return types.ElicitResult(action="decline")


class DemoBroker:
    """One `mcp-broker serve` with a demo configuration from a prepared root; restartable after a crash."""

    def __init__(self, root: Path, name: str = "demo", config: Path | None = None) -> None:
        self.root = root
        self.name = name
        self.config = config or root / "config" / "broker.yaml"
        self.auth_dir = root / ".run" / "auth"
        self.keys = dict(line.removeprefix("export ").split("=", 1) for line in (self.auth_dir / "keys.env").read_text().splitlines())
        self.http: HTTPBroker | None = None
        self.starts = 0

    def start(self) -> "DemoBroker":
        self.starts += 1
        self.http = HTTPBroker(self.root, name=f"{self.name}-{self.starts}", config=self.config, env=broker_env()).start()
        return self

    def restart(self) -> None:
        """A fresh process after a crash (the crashed one's stderr stays in its own log file)."""
        self.stop()
        self.start()

    def stop(self) -> None:
        if self.http is not None:
            self.http.stop()

    @property
    def port(self) -> int:
        assert self.http is not None and self.http.port is not None
        return self.http.port

    @property
    def url(self) -> str:
        assert self.http is not None
        return self.http.url

    @property
    def pid(self) -> int:
        assert self.http is not None and self.http.proc is not None
        return self.http.proc.pid

    def alive(self) -> bool:
        return self.http is not None and self.http.proc is not None and self.http.proc.poll() is None

    def rss_mb(self) -> float:
        return rss_mb(self.pid)

    def stderr_text(self) -> str:
        return self.http.stderr_text() if self.http is not None else ""

    def crash_reason(self) -> str:
        """The runtime's last words (e.g. "Fatal error: Double value cannot be converted to Int64"), if any."""
        lines = [line for line in self.stderr_text().splitlines() if "Fatal error" in line or "runtime failure" in line]
        code = self.http.proc.poll() if self.http is not None and self.http.proc is not None else None
        return f"exit {code}: " + (lines[-1].strip()[:300] if lines else "no fatal error line on stderr")

    def responsive(self, timeout: float = 5.0) -> bool:
        """Whether /livez answers: a trapped Swift process stays alive for seconds while it prints a backtrace."""
        try:
            return http_request(self.port, "GET", "/livez", timeout=timeout)[0] == 200
        except OSError:
            return False

    def settle(self, timeout: float = 15.0) -> bool:
        """After a call got no answer: True if the broker still serves; False if it died or hung (then stopped)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                return False
            if self.responsive(timeout=2):
                return True
            time.sleep(0.2)
        self.stop()
        return False

    def assert_same_process(self, pid: int) -> None:
        assert self.alive() and self.pid == pid and self.responsive(), f"the broker (pid {pid}) died or hangs: {self.crash_reason()}"

    def token(self, sub: str = "alice", tenant: str | None = "acme", roles=("analyst",), attrs=None, **kw: Any) -> str:
        return identities.mint(str(self.auth_dir), sub, tenant, roles, attrs, **kw)

    def client(self, bearer: str, **kw: Any) -> Client:
        """The official SDK over Streamable HTTP with `Authorization: Bearer`."""
        http = create_mcp_http_client(headers={"Authorization": f"Bearer {bearer}"})
        kw.setdefault("read_timeout_seconds", 30)
        return Client(streamable_http_client(self.url, http_client=http), **kw)

    def session(self, bearer: str, capabilities: dict | None = None) -> "RawSession":
        return RawSession(self.port, bearer, capabilities)


class RawSession:
    """One MCP session over raw HTTP for one bearer credential. Each request uses its own connection, so threads
    may share a session; the SDK is kept out of the bystander's measurements."""

    def __init__(self, port: int, bearer: str, capabilities: dict | None = None) -> None:
        self.port = port
        self.bearer = bearer
        r = post_rpc(port, rpc("initialize", {"protocolVersion": PROTOCOL_VERSION, "capabilities": capabilities or {},
                                              "clientInfo": {"name": "hostile-raw", "version": "1"}}),
                     protocol_version=None, headers=self.auth)
        assert r.status == 200, (r.status, r.body[:300])
        self.sid = r.headers["mcp-session-id"]
        assert post_rpc(port, rpc("notifications/initialized", id=None), session=self.sid, headers=self.auth).status == 202

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.bearer}"}

    def post(self, message: dict, timeout: float = 30) -> HTTPReply:
        return post_rpc(self.port, message, session=self.sid, headers=self.auth, timeout=timeout)

    def request(self, method: str, params: dict | None = None, timeout: float = 30) -> dict[str, Any]:
        """The JSON-RPC response (with `result` or `error`) to one request, whether it came as JSON or SSE."""
        r = self.post(rpc(method, params, id=1), timeout=timeout)
        assert r.status == 200, (method, r.status, r.body[:300])
        return next(m for m in reply_messages(r) if m.get("id") == 1)

    def call_tool(self, name: str, arguments: dict | None = None, timeout: float = 30) -> dict[str, Any]:
        return self.request("tools/call", {"name": name, "arguments": arguments or {}}, timeout=timeout)


def result_text(message: dict[str, Any]) -> str:
    """The text of a raw tools/call answer: the result's text content, or the JSON-RPC error's message."""
    if "error" in message:
        return message["error"].get("message", "")
    return "\n".join(c.get("text", "") for c in message["result"].get("content", []))


@dataclass
class Sample:
    seconds: float
    ok: bool
    detail: str


@dataclass
class Bystander:
    """Another tenant's steady, read-only calls from a child process while an attack runs.

    `baseline()` measures the same calls first, with no attack; the window then records every answer, its latency
    and the broker's RSS, so a test can assert the bystander was neither failed, slowed nor shown other data.
    The calls run in their own process so the attacker's threads in this one (and the GIL) do not distort them.
    """

    session: RawSession
    tool: str
    arguments: dict[str, Any]
    pid: int
    interval_s: float = 0.025  # ~30 calls/s: well inside the demo's per-tenant and per-backend-share limits
    baseline_p99: float = 0.0
    expected: Any = None
    samples: list[Sample] = field(default_factory=list)
    peak_rss_mb: float = 0.0
    _stop: Any = None
    _results: Any = None
    _process: Any = None

    def _once(self) -> Sample:
        started = time.monotonic()
        try:
            message = self.session.call_tool(self.tool, self.arguments, timeout=5)
        except (OSError, AssertionError) as e:
            return Sample(time.monotonic() - started, False, f"transport: {e!r}"[:300])
        seconds = time.monotonic() - started
        result = message.get("result")
        if result is None or result.get("isError"):
            return Sample(seconds, False, result_text(message)[:300])
        if self.expected is not None and result.get("structuredContent") != self.expected:
            return Sample(seconds, False, f"different data: {json.dumps(result.get('structuredContent'))[:300]}")
        return Sample(seconds, True, "")

    def baseline(self) -> "Bystander":
        """The answer the bystander must keep getting, and its p99 with no attack, measured the same way."""
        first = self.session.call_tool(self.tool, self.arguments)
        assert "result" in first and not first["result"].get("isError"), f"bystander baseline call failed: {result_text(first)}"
        self.expected = first["result"].get("structuredContent")
        self._start(BASELINE_SAMPLES)
        self._finish()
        assert all(s.ok for s in self.samples), [s.detail for s in self.samples if not s.ok][:3]
        self.baseline_p99 = p99([s.seconds for s in self.samples])
        return self

    def _loop(self, stop: Any, results: Any, minimum: int) -> None:
        """The child process: call until told to stop and, while all goes well, until `minimum` samples are in (so
        a short attack's window includes the moments right after it), bounded in time; then hand them back."""
        samples: list[Sample] = []
        peak, deadline = rss_mb(self.pid), time.monotonic() + 60
        while (not stop.is_set() or (len(samples) < minimum and all(s.ok for s in samples))) and time.monotonic() < deadline:
            samples.append(self._once())
            peak = max(peak, rss_mb(self.pid))
            time.sleep(self.interval_s)  # not stop.wait: once stopped it would no longer pace the top-up
        results.send((samples, peak))

    def _start(self, minimum: int) -> None:
        ctx = multiprocessing.get_context("fork")
        self._stop = ctx.Event()
        self._results, child_end = ctx.Pipe(duplex=False)
        self._process = ctx.Process(target=self._loop, args=(self._stop, child_end, minimum), name=f"bystander-{self.tool}", daemon=True)
        self._process.start()

    def _finish(self) -> None:
        self._stop.set()
        self.samples = []
        try:
            if self._results.poll(40):
                self.samples, self.peak_rss_mb = self._results.recv()
        except EOFError:
            pass  # the child failed; no samples, so assert_unharmed says so
        finally:
            self._process.join(timeout=5)
            if self._process.is_alive():
                self._process.kill()

    def __enter__(self) -> "Bystander":
        self._start(MIN_SAMPLES)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._finish()

    def assert_unharmed(self, rss_limit_mb: float = RSS_LIMIT_MB) -> None:
        failed = [s.detail for s in self.samples if not s.ok]
        assert not failed, f"{len(failed)}/{len(self.samples)} of the other tenant's {self.tool} calls failed, e.g. {failed[:3]}"
        assert len(self.samples) >= MIN_SAMPLES, f"only {len(self.samples)} bystander samples"
        during = p99([s.seconds for s in self.samples])
        bound = 2 * self.baseline_p99 + LATENCY_SLACK_S
        print(f"bystander {self.tool}: {len(self.samples)} calls, p99 {during * 1000:.1f} ms "
              f"(baseline {self.baseline_p99 * 1000:.1f} ms, bound {bound * 1000:.1f} ms), peak RSS {self.peak_rss_mb:.0f} MB")
        assert self.peak_rss_mb < rss_limit_mb, f"broker RSS reached {self.peak_rss_mb:.0f} MB (bound {rss_limit_mb:.0f} MB)"
        assert during <= bound, f"the other tenant's p99 rose to {during * 1000:.0f} ms (bound {bound * 1000:.0f} ms)"


@contextmanager
def attack_window(demo: DemoBroker, bystander: Bystander) -> Iterator[Bystander]:
    """Runs the body while the bystander calls; afterwards the broker must be the same process and the bystander
    unharmed. These come first, so a crash or a starved tenant is the failure reported, not a symptom of it."""
    pid = demo.pid
    with bystander:
        yield bystander
    demo.assert_same_process(pid)
    bystander.assert_unharmed()
