"""Fixtures for the mcp-broker end-to-end suite.

The suite drives the real binary (env MCP_BROKER_BIN, default .build/debug/mcp-broker) with the official Python
MCP SDK and with the standard library. One HTTP server serves the whole session; stdio servers are per client.
Every process is started on 127.0.0.1, and is terminated (SIGTERM, then SIGKILL) when its fixture ends.
"""

from __future__ import annotations

import signal
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from e2e_helpers import BROKER_BIN, LIVE_PROCESSES, HTTPBroker, stop_process
from sdk_support import Connected, open_client, stdio_server

DEFAULT_TEST_TIMEOUT_S = 60.0


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "time_limit(seconds): per-test wall-clock limit (default 60 s)")


def pytest_unconfigure(config: pytest.Config) -> None:
    # A fixture that never reached its teardown (Ctrl-C, internal error) must not leave a broker running.
    for proc in list(LIVE_PROCESSES):
        stop_process(proc, grace=2)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """A wall-clock backstop for every test (the tests also bound their own waits)."""
    marker = item.get_closest_marker("time_limit")
    limit = float(marker.args[0]) if marker else DEFAULT_TEST_TIMEOUT_S
    use_alarm = threading.current_thread() is threading.main_thread()

    def on_alarm(signum: int, frame: Any) -> None:
        raise TimeoutError(f"{item.nodeid} exceeded its {limit:.0f} s time limit")

    previous = signal.signal(signal.SIGALRM, on_alarm) if use_alarm else None
    if use_alarm:
        signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        yield
    finally:
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def broker_bin() -> str:
    if not BROKER_BIN.exists():
        pytest.fail(f"mcp-broker binary not found at {BROKER_BIN}: run `swift build` or set MCP_BROKER_BIN", pytrace=False)
    return str(BROKER_BIN)


@pytest.fixture(scope="session")
def run_id() -> str:
    """Unique per pytest run, so idempotency keys never collide with an earlier run's."""
    return uuid.uuid4().hex[:12]


@pytest.fixture(scope="session")
def http_broker(broker_bin: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HTTPBroker]:
    """The session's HTTP server (port 0, port file, /livez polled)."""
    broker = HTTPBroker(tmp_path_factory.mktemp("http"), name="session").start()
    try:
        yield broker
    finally:
        # SIGTERM, then SIGKILL after 5 s. Prompt, clean shutdown is asserted by test_http_shutdown.py.
        broker.stop()


@pytest.fixture
def connect_stdio(broker_bin: str, tmp_path: Path) -> Any:
    """Factory for extra short-lived stdio clients inside a test: `async with connect_stdio(...) as c`."""

    @asynccontextmanager
    async def factory(mode: str = "legacy", env: dict[str, str] | None = None, name: str = "extra") -> AsyncIterator[Connected]:
        transport, errlog = stdio_server(tmp_path, name, env)
        try:
            async with AsyncExitStack() as stack:
                yield await open_client(stack, transport, "stdio", mode)
        finally:
            errlog.close()

    return factory
