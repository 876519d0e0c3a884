"""SDK-side support: connecting the official MCP client to a broker over stdio or HTTP."""

from __future__ import annotations

import time
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

import mcp_types as types
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client

from e2e_helpers import BROKER_BIN, E2E_DIR, TEST_CONFIG, broker_env


def stdio_params(env: dict[str, str] | None = None) -> StdioServerParameters:
    return StdioServerParameters(
        command=str(BROKER_BIN),
        args=["serve", "--config", str(TEST_CONFIG), "--stdio"],
        env=env if env is not None else broker_env(),
        cwd=str(E2E_DIR),
    )


@dataclass
class Connected:
    """An SDK client plus what the suite observed while connecting and since."""

    client: Client
    transport: str  # "stdio" | "http"
    mode: str  # "legacy" | "auto"
    connect_seconds: float
    logs: list[types.LoggingMessageNotificationParams] = field(default_factory=list)
    all_tools: list[types.Tool] = field(default_factory=list)

    def tool(self, name: str) -> types.Tool:
        for t in self.all_tools:
            if t.name == name:
                return t
        raise KeyError(name)


async def open_client(stack: AsyncExitStack, server: Any, transport: str, mode: str) -> Connected:
    """Connects an SDK client and lists every tool page (so the SDK validates outputs against outputSchema)."""
    holder: dict[str, Connected] = {}

    async def on_log(params: types.LoggingMessageNotificationParams) -> None:
        holder["c"].logs.append(params)

    started = time.monotonic()
    client = Client(server, mode=mode, logging_callback=on_log, read_timeout_seconds=30,
                    client_info=types.Implementation(name=f"e2e-{transport}-{mode}", version="1.0"))
    await stack.enter_async_context(client)
    connected = Connected(client=client, transport=transport, mode=mode, connect_seconds=time.monotonic() - started)
    holder["c"] = connected
    cursor: str | None = None
    for _ in range(50):
        page = await client.list_tools(cursor=cursor, cache_mode="refresh")
        connected.all_tools.extend(page.tools)
        cursor = page.next_cursor
        if cursor is None:
            break
    return connected


def stdio_server(tmp_dir: Any, name: str, env: dict[str, str] | None = None) -> tuple[Any, Any]:
    """A stdio transport whose server stderr (the JSON logs) goes to a file; returns (transport, log file)."""
    errlog = open(tmp_dir / f"{name}.stderr.log", "w+")
    return stdio_client(stdio_params(env), errlog=errlog), errlog
