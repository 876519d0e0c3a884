"""SDK-side support: connecting the official MCP client to a broker over stdio or HTTP, in every connect mode."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mcp_types as types
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client

from e2e_helpers import BROKER_BIN, E2E_DIR, TEST_CONFIG, broker_env

MODERN_VERSION = "2026-07-28"
# The SDK's connect modes: the 2025 initialize handshake, the 2026 revision pinned (no probe), and the SDK default
# (probe server/discover, fall back to initialize). The broker speaks both eras, so `auto` must land on 2026.
MODES = ["legacy", MODERN_VERSION, "auto"]
# Every version the broker advertises in server/discover, newest first (i16-behaviour.md).
SUPPORTED_VERSIONS = [MODERN_VERSION, "2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"]

# Builds a fresh `server` argument for `Client` (a URL, or a new stdio transport whose cleanup goes on the stack).
ServerFactory = Callable[[AsyncExitStack], Any]


def stdio_params(env: dict[str, str] | None = None, config: Path = TEST_CONFIG) -> StdioServerParameters:
    return StdioServerParameters(
        command=str(BROKER_BIN),
        args=["serve", "--config", str(config), "--stdio"],
        env=env if env is not None else broker_env(),
        cwd=str(E2E_DIR),
    )


@dataclass
class Connected:
    """An SDK client plus what the suite observed while connecting and since."""

    client: Client
    transport: str  # "stdio" | "http"
    mode: str  # the SDK connect mode: "legacy" | "2026-07-28" | "auto"
    connect_seconds: float
    logs: list[types.LoggingMessageNotificationParams] = field(default_factory=list)
    all_tools: list[types.Tool] = field(default_factory=list)
    # How to reach the same broker again (siblings with other client options); None when not reopenable.
    server_factory: ServerFactory | None = None
    # The broker's stderr (its JSON logs) so far, when the suite can read it.
    server_log: Callable[[], str] | None = None

    @property
    def modern(self) -> bool:
        """True when the connection speaks the 2026 era (a pinned 2026 mode, or `auto` after a successful probe)."""
        return self.client.protocol_version == MODERN_VERSION

    def tool(self, name: str) -> types.Tool:
        for t in self.all_tools:
            if t.name == name:
                return t
        raise KeyError(name)


async def open_client(stack: AsyncExitStack, server: Any, transport: str, mode: str, *, log_level: str | None = None,
                      server_factory: ServerFactory | None = None, server_log: Callable[[], str] | None = None,
                      **client_kwargs: Any) -> Connected:
    """Connects an SDK client and lists every tool page (so the SDK validates outputs against outputSchema).

    `log_level` is the 2026 per-request log opt-in (stamped into every request's `_meta`; no effect in legacy mode).
    `server_factory` lets `open_sibling` reach the same broker again; `server_log` reads the broker's stderr.
    Other keyword arguments go to `Client`.
    """
    holder: dict[str, Connected] = {}

    async def on_log(params: types.LoggingMessageNotificationParams) -> None:
        holder["c"].logs.append(params)

    client_kwargs.setdefault("read_timeout_seconds", 30)
    client_kwargs.setdefault("client_info", types.Implementation(name=f"e2e-{transport}-{mode}", version="1.0"))
    started = time.monotonic()
    client = Client(server, mode=mode, logging_callback=on_log, log_level=log_level, **client_kwargs)
    await stack.enter_async_context(client)
    connected = Connected(client=client, transport=transport, mode=mode, connect_seconds=time.monotonic() - started,
                          server_factory=server_factory, server_log=server_log)
    holder["c"] = connected
    cursor: str | None = None
    for _ in range(50):
        page = await client.list_tools(cursor=cursor, cache_mode="refresh")
        connected.all_tools.extend(page.tools)
        cursor = page.next_cursor
        if cursor is None:
            break
    return connected


async def open_sibling(stack: AsyncExitStack, c: Connected, **kwargs: Any) -> Connected:
    """Another client of the same transport and mode on the same broker (over stdio: a new broker process)."""
    assert c.server_factory is not None, "this connection cannot be reopened"
    return await open_client(stack, c.server_factory(stack), c.transport, c.mode, server_factory=c.server_factory, **kwargs)


def http_factory(url: str) -> ServerFactory:
    return lambda stack: url


def stdio_factory(tmp_dir: Path, name: str, env: dict[str, str] | None = None) -> ServerFactory:
    """A new stdio broker per call; each one's stderr goes to its own file in `tmp_dir`, closed with the stack."""
    counter = iter(range(1, 1_000_000))

    def make(stack: AsyncExitStack) -> Any:
        transport, errlog = stdio_server(tmp_dir, f"{name}-sibling-{next(counter)}", env)
        stack.callback(errlog.close)
        return transport

    return make


def stdio_server(tmp_dir: Any, name: str, env: dict[str, str] | None = None) -> tuple[Any, Any]:
    """A stdio transport whose server stderr (the JSON logs) goes to a file; returns (transport, log file)."""
    errlog = open(tmp_dir / f"{name}.stderr.log", "w+")
    return stdio_client(stdio_params(env), errlog=errlog), errlog
