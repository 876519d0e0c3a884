"""Shared helpers for the mcp-broker end-to-end suite: process control, raw HTTP, SSE parsing, raw stdio.

Everything here uses the standard library only, so the raw checks do not depend on the SDK's behaviour.
"""

from __future__ import annotations

import http.client
import json
import os
import queue
import re
import secrets
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

E2E_DIR = Path(__file__).resolve().parent
REPO_ROOT = E2E_DIR.parents[1]
BROKER_BIN = Path(os.environ.get("MCP_BROKER_BIN") or REPO_ROOT / ".build" / "debug" / "mcp-broker")
TEST_CONFIG = E2E_DIR / "broker-test.yaml"

PROTOCOL_VERSION = "2025-11-25"
SERVER_NAME = "mcp-broker"
TOOL_NAME_RE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
SESSION_ID_RE = re.compile(r"^[0-9a-f]{32}$")
ACCEPT_BOTH = "application/json, text/event-stream"

# One set of backend secrets for the whole run: the plugin and the simulated system agree on each.
_ERP_SECRET = "erp-" + secrets.token_hex(12)
_HR_SECRET = "hr-" + secrets.token_hex(12)
SECRETS = {
    "ERP_PASSWORD": _ERP_SECRET,
    "ERP_SYSTEM_PASSWORD": _ERP_SECRET,
    "HR_API_KEY": _HR_SECRET,
    "HR_SYSTEM_API_KEY": _HR_SECRET,
}

# Every process this suite starts, so a crashed run still cleans up (see conftest.pytest_unconfigure).
LIVE_PROCESSES: list[subprocess.Popen] = []


def broker_env(**overrides: str) -> dict[str, str]:
    """The environment for a broker process: ours, minus config overrides, plus the backend secrets."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCP_BROKER")}
    env.update(SECRETS)
    env.update(overrides)
    return env


def stop_process(proc: subprocess.Popen | None, grace: float = 5.0) -> int | None:
    """SIGTERM, wait up to `grace` seconds, then SIGKILL. Returns the exit code."""
    if proc is None:
        return None
    if proc.poll() is None:
        try:
            proc.send_signal(signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    if proc in LIVE_PROCESSES:
        LIVE_PROCESSES.remove(proc)
    return proc.returncode


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 30) -> subprocess.CompletedProcess:
    """Runs `mcp-broker ARGS...` to completion (bounded)."""
    return subprocess.run(
        [str(BROKER_BIN), *args],
        env=env if env is not None else broker_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=str(E2E_DIR),
    )


# --------------------------------------------------------------------------------------------------------------
# HTTP server process
# --------------------------------------------------------------------------------------------------------------


class HTTPBroker:
    """One `mcp-broker serve` process on 127.0.0.1 with an OS-chosen port."""

    def __init__(self, workdir: Path, name: str = "broker", env: dict[str, str] | None = None, config: Path = TEST_CONFIG):
        self.workdir = workdir
        self.name = name
        self.env = env if env is not None else broker_env()
        self.config = config
        self.port_file = workdir / f"{name}.port"
        self.stderr_path = workdir / f"{name}.stderr.log"
        self.stdout_path = workdir / f"{name}.stdout.log"
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base}/mcp"

    def start(self, timeout: float = 60.0) -> "HTTPBroker":
        if not BROKER_BIN.exists():
            raise RuntimeError(f"mcp-broker binary not found at {BROKER_BIN} (build it, or set MCP_BROKER_BIN)")
        self.port_file.unlink(missing_ok=True)
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                [str(BROKER_BIN), "serve", "--config", str(self.config), "--host", "127.0.0.1", "--port", "0",
                 "--port-file", str(self.port_file)],
                stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=self.env, cwd=str(self.workdir),
                start_new_session=True,
            )
        LIVE_PROCESSES.append(self.proc)
        deadline = time.monotonic() + timeout
        try:
            while self.port is None:
                self._check_alive()
                if self.port_file.exists():
                    text = self.port_file.read_text().strip()
                    if text.isdigit():
                        self.port = int(text)
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.name}: no port file after {timeout} s\n{self.stderr_tail()}")
                time.sleep(0.05)
            while True:
                self._check_alive()
                try:
                    status, _, _ = http_request(self.port, "GET", "/livez", timeout=2)
                    if status == 200:
                        return self
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.name}: /livez not 200 after {timeout} s\n{self.stderr_tail()}")
                time.sleep(0.05)
        except BaseException:
            self.stop()
            raise

    def _check_alive(self) -> None:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise RuntimeError(f"{self.name}: exited with {self.proc.returncode} during startup\n{self.stderr_tail()}")

    def stop(self, grace: float = 5.0) -> int | None:
        return stop_process(self.proc, grace=grace)

    def stderr_text(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stderr_tail(self, lines: int = 30) -> str:
        return "\n".join(self.stderr_text().splitlines()[-lines:])


# --------------------------------------------------------------------------------------------------------------
# Raw HTTP
# --------------------------------------------------------------------------------------------------------------


@dataclass
class HTTPReply:
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


def http_request(
    port: int, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None,
    timeout: float = 10.0,
) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 exchange; returns (status, lower-cased headers, body).

    A server may answer (e.g. 413) and close before it has read a large body; a send error is then ignored
    and the response is still read.
    """
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        try:
            conn.request(method, path, body=body, headers=headers or {})
        except (BrokenPipeError, ConnectionResetError):
            pass
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
    finally:
        conn.close()


def post_raw(port: int, body: bytes | str, *, session: str | None = None, headers: dict[str, str] | None = None,
             content_type: str = "application/json", protocol_version: str | None = PROTOCOL_VERSION,
             timeout: float = 10.0, path: str = "/mcp") -> HTTPReply:
    """POSTs a raw body to the MCP endpoint with the headers a 2025-11-25 client sends."""
    h = {"Content-Type": content_type, "Accept": ACCEPT_BOTH}
    if session is not None:
        h["Mcp-Session-Id"] = session
    if protocol_version is not None:
        h["MCP-Protocol-Version"] = protocol_version
    h.update(headers or {})
    if isinstance(body, str):
        body = body.encode()
    status, hdrs, data = http_request(port, "POST", path, body=body, headers=h, timeout=timeout)
    return HTTPReply(status, hdrs, data)


def rpc(method: str, params: dict | None = None, id: int | str | None = 1) -> dict:
    msg: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if id is not None:
        msg["id"] = id
    if params is not None:
        msg["params"] = params
    return msg


def post_rpc(port: int, message: dict, **kw: Any) -> HTTPReply:
    return post_raw(port, json.dumps(message), **kw)


def open_raw_session(port: int) -> str:
    """initialize + notifications/initialized over raw HTTP; returns the session id."""
    r = post_rpc(port, rpc("initialize", {
        "protocolVersion": PROTOCOL_VERSION, "capabilities": {},
        "clientInfo": {"name": "e2e-raw", "version": "1.0"},
    }), protocol_version=None)
    assert r.status == 200, (r.status, r.body)
    sid = r.headers.get("mcp-session-id")
    assert sid, f"no Mcp-Session-Id header on the initialize response: {r.headers}"
    n = post_rpc(port, rpc("notifications/initialized", id=None), session=sid)
    assert n.status == 202, (n.status, n.body)
    return sid


def get_json(url: str, timeout: float = 10.0) -> tuple[int, Any]:
    """GET a JSON document; returns (status, parsed body) for 2xx and for error statuses alike."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def parse_sse(body: bytes) -> list[dict[str, Any]]:
    """Parses an SSE body into its events' JSON payloads (events without data are skipped)."""
    events: list[dict[str, Any]] = []
    text = body.decode("utf-8").replace("\r\n", "\n")
    for block in text.split("\n\n"):
        data_lines = [line[5:].lstrip(" ") if line.startswith("data:") else None for line in block.split("\n")]
        data = "\n".join(d for d in data_lines if d is not None)
        if data.strip():
            events.append(json.loads(data))
    return events


def reply_messages(r: HTTPReply) -> list[dict[str, Any]]:
    """The JSON-RPC messages of a POST reply, whether it came as JSON or as SSE."""
    if r.content_type.startswith("text/event-stream"):
        return parse_sse(r.body)
    return [r.json()]


# --------------------------------------------------------------------------------------------------------------
# Raw stdio
# --------------------------------------------------------------------------------------------------------------


@dataclass
class RawStdio:
    """`mcp-broker serve --stdio` driven over pipes, without the SDK.

    Reader threads collect stdout lines (each expected to be one JSON-RPC message) and stderr lines (logs).
    """

    env: dict[str, str] = field(default_factory=broker_env)
    proc: subprocess.Popen | None = None
    stdout_lines: list[bytes] = field(default_factory=list)
    stderr_lines: list[bytes] = field(default_factory=list)
    _queue: "queue.Queue[bytes | None]" = field(default_factory=queue.Queue)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> "RawStdio":
        if not BROKER_BIN.exists():
            raise RuntimeError(f"mcp-broker binary not found at {BROKER_BIN} (build it, or set MCP_BROKER_BIN)")
        self.proc = subprocess.Popen(
            [str(BROKER_BIN), "serve", "--config", str(TEST_CONFIG), "--stdio"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.env,
            cwd=str(E2E_DIR), start_new_session=True,
        )
        LIVE_PROCESSES.append(self.proc)
        t1 = threading.Thread(target=self._pump_stdout, daemon=True)
        t2 = threading.Thread(target=self._pump_stderr, daemon=True)
        t1.start()
        t2.start()
        self._threads = [t1, t2]
        return self

    def _pump_stdout(self) -> None:
        assert self.proc and self.proc.stdout
        for line in self.proc.stdout:
            self.stdout_lines.append(line)
            self._queue.put(line)
        self._queue.put(None)

    def _pump_stderr(self) -> None:
        assert self.proc and self.proc.stderr
        for line in self.proc.stderr:
            self.stderr_lines.append(line)

    def write(self, data: bytes) -> None:
        assert self.proc and self.proc.stdin
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send(self, message: dict) -> None:
        self.write(json.dumps(message).encode() + b"\n")

    def recv(self, timeout: float = 10.0) -> dict[str, Any]:
        """The next stdout message (parsed); fails on timeout or EOF."""
        try:
            line = self._queue.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no message on stdout within {timeout} s; stderr tail:\n{self.stderr_tail()}") from None
        if line is None:
            raise AssertionError(f"stdout closed (exit code {self.proc.poll() if self.proc else None})")
        return json.loads(line)

    def recv_response(self, id: Any, timeout: float = 10.0) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Reads until the response for `id`; returns it and the messages that came before it."""
        deadline = time.monotonic() + timeout
        before: list[dict[str, Any]] = []
        while True:
            msg = self.recv(timeout=max(0.05, deadline - time.monotonic()))
            if "method" not in msg and msg.get("id") == id:
                return msg, before
            before.append(msg)

    def initialize(self) -> dict[str, Any]:
        self.send(rpc("initialize", {"protocolVersion": PROTOCOL_VERSION, "capabilities": {},
                                     "clientInfo": {"name": "e2e-raw-stdio", "version": "1.0"}}, id="init"))
        reply, _ = self.recv_response("init")
        self.send(rpc("notifications/initialized", id=None))
        return reply

    def close_stdin(self) -> None:
        assert self.proc and self.proc.stdin
        try:
            self.proc.stdin.close()
        except BrokenPipeError:
            pass

    def wait(self, timeout: float) -> int:
        assert self.proc
        code = self.proc.wait(timeout=timeout)
        for t in self._threads:
            t.join(timeout=2)
        return code

    def stop(self) -> None:
        if self.proc and self.proc.stdin and not self.proc.stdin.closed:
            self.close_stdin()
        stop_process(self.proc, grace=3)

    def stderr_tail(self, lines: int = 20) -> str:
        return b"".join(self.stderr_lines[-lines:]).decode(errors="replace")
