"""server.shared_state end to end: `serve` connects ONE store to a real redis-server and logs it; `validate` never
connects; the password never reaches the logs; SIGTERM still ends the process promptly."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from e2e_helpers import HTTPBroker, broker_env, run_cli, stop_process

REDIS_SERVER = shutil.which("redis-server")
REDIS_CLI = shutil.which("redis-cli")
# Replicas seal sessions, cursors and confirmations with one key, so shared_state requires it.
STATE_KEY = "e2e-request-state-key-of-at-least-32-bytes"
PASSWORD = "e2e-redis-" + os.urandom(6).hex()

pytestmark = pytest.mark.skipif(REDIS_SERVER is None or REDIS_CLI is None,
                                reason="redis-server is not installed (scripts/common.sh ensure_redis)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(port: int, *args: str) -> str:
    env = dict(os.environ, REDISCLI_AUTH=PASSWORD)
    return subprocess.run([REDIS_CLI, "-h", "127.0.0.1", "-p", str(port), *args], env=env, capture_output=True,
                          text=True, timeout=10).stdout.strip()


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[int]:
    port = free_port()
    proc = subprocess.Popen([REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--requirepass", PASSWORD], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 15
        while cli(port, "PING") != "PONG":
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
        yield port
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=5)


def write_config(path: Path, redis_port: int) -> Path:
    path.write_text(f"""
server:
  name: mcp-broker
  tenants: [acme]
  log_level: info
  http:
    host: 127.0.0.1
    port: 0
    principal: {{ id: demo-http, tenant: acme, roles: [analyst, hr] }}
  stdio:
    principal: {{ id: local-user, tenant: acme, roles: [analyst] }}
  shared_state:
    redis: {{ address: "127.0.0.1:{redis_port}", password: env:E2E_REDIS_PASSWORD, database: 3 }}
    replicas: 2
    timeout_ms: 500
    key_prefix: "e2e:"
  request_state: {{ key: env:E2E_STATE_KEY }}
backends:
  hr:
    kind: mock-hr
    description: Workday-like HR
    credentials: {{ api_key: env:HR_API_KEY }}
    system: {{ seed: 42, tenants: [acme], api_key: env:HR_SYSTEM_API_KEY, latency_ms: 0 }}
""")
    return path


@pytest.mark.time_limit(60)
def test_validate_and_tools_do_not_connect_to_the_shared_store(tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        config = write_config(tmp_path / "broker.yaml", listener.getsockname()[1])
        for command in (["validate", str(config)], ["tools", "--config", str(config)]):
            result = run_cli(*command, env=broker_env(E2E_REDIS_PASSWORD=PASSWORD, E2E_STATE_KEY=STATE_KEY))
            assert result.returncode == 0, (command, result.stderr)
            assert "shared state" not in result.stderr
        listener.settimeout(0.5)
        with pytest.raises(socket.timeout):
            listener.accept()  # nobody connected


@pytest.mark.time_limit(90)
def test_serve_connects_one_store_logs_it_and_stops_promptly(tmp_path: Path, redis: int) -> None:
    config = write_config(tmp_path / "broker.yaml", redis)
    broker = HTTPBroker(tmp_path, name="shared", env=broker_env(E2E_REDIS_PASSWORD=PASSWORD, E2E_STATE_KEY=STATE_KEY), config=config).start()
    try:
        deadline = time.monotonic() + 20
        while "shared state store connected" not in broker.stderr_text():
            assert time.monotonic() < deadline, broker.stderr_tail()
            time.sleep(0.1)
        log = broker.stderr_text()
        on = [line for line in log.splitlines() if "shared state on" in line]
        assert len(on) == 1, log
        assert f"127.0.0.1:{redis}" in on[0] and "replica_id" in on[0] and '"replicas":"2"' in on[0].replace(" ", ""), on[0]
        assert PASSWORD not in log, "the Redis password is never logged"
        # One store: the broker holds exactly two connections on database 3, one for commands and one subscribed
        # (the session channels: DELETE and setLevel from other replicas, answers relayed to this one).
        deadline = time.monotonic() + 10
        while True:
            clients = [line for line in cli(redis, "CLIENT", "LIST").splitlines() if "cmd=client" not in line]
            if len(clients) == 2 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert len(clients) == 2 and all(" db=3 " in f" {c} " for c in clients), clients
        assert sum(" cmd=subscribe " in f" {c} " for c in clients) == 1, clients
        assert broker.proc is not None
        started = time.monotonic()
        broker.proc.send_signal(signal.SIGTERM)
        broker.proc.wait(timeout=10)
        assert broker.proc.returncode == 0, broker.stderr_tail()
        assert time.monotonic() - started < 10
    finally:
        stop_process(broker.proc)
