"""Raw wire helpers for MCP 2026-07-28 ("modern" era), standard library only.

A modern request carries its own envelope in `params._meta` and, over HTTP, routing headers that must agree with
the body (`MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name`). These helpers build such requests exactly, and let a
test break any single part of them: drop or replace a header, send a header twice, or drop envelope keys.
"""

from __future__ import annotations

import base64
import copy
import http.client
import json
import socket
import time
from typing import Any

from e2e_helpers import HTTPReply, RawStdio, parse_sse

MODERN_VERSION = "2026-07-28"
HANDSHAKE_VERSIONS = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"]
SUPPORTED_VERSIONS = [MODERN_VERSION, *HANDSHAKE_VERSIONS]
ACCEPT_BOTH = "application/json, text/event-stream"

PROTOCOL_VERSION_KEY = "io.modelcontextprotocol/protocolVersion"
CLIENT_CAPABILITIES_KEY = "io.modelcontextprotocol/clientCapabilities"
CLIENT_INFO_KEY = "io.modelcontextprotocol/clientInfo"
LOG_LEVEL_KEY = "io.modelcontextprotocol/logLevel"
SERVER_INFO_KEY = "io.modelcontextprotocol/serverInfo"
SUBSCRIPTION_ID_KEY = "io.modelcontextprotocol/subscriptionId"
BROKER_ERROR_KEY = "mcp-broker/error"

HEADER_MISMATCH = -32020
MISSING_CLIENT_CAPABILITY = -32021
UNSUPPORTED_VERSION = -32022

# Which params field the Mcp-Name header mirrors, per method (spec §2.8).
NAME_FIELD = {"tools/call": "name", "prompts/get": "name", "resources/read": "uri"}

ELICITATION_CAPS: dict[str, Any] = {"elicitation": {"form": {}}}


# ------------------------------------------------------------------------------------------------ messages


def envelope(capabilities: dict[str, Any] | None = None, *, version: Any = MODERN_VERSION, log_level: str | None = None,
             progress_token: str | int | None = None, client_info: bool = True) -> dict[str, Any]:
    """The `_meta` of a modern request."""
    meta: dict[str, Any] = {PROTOCOL_VERSION_KEY: version, CLIENT_CAPABILITIES_KEY: capabilities or {}}
    if client_info:
        meta[CLIENT_INFO_KEY] = {"name": "e2e-raw-2026", "version": "1.0"}
    if log_level is not None:
        meta[LOG_LEVEL_KEY] = log_level
    if progress_token is not None:
        meta["progressToken"] = progress_token
    return meta


def modern(method: str, params: dict[str, Any] | None = None, id: int | str | None = 1, **envelope_kw: Any) -> dict[str, Any]:
    """A JSON-RPC request (or notification, id=None) with the 2026 envelope merged into `params._meta`."""
    p = copy.deepcopy(params) if params else {}
    meta = envelope(**envelope_kw)
    meta.update(p.get("_meta") or {})
    p["_meta"] = meta
    msg: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": p}
    if id is not None:
        msg["id"] = id
    return msg


def without_meta_keys(message: dict[str, Any], *keys: str) -> dict[str, Any]:
    """A copy of `message` whose envelope lacks `keys`."""
    m = copy.deepcopy(message)
    for k in keys:
        m["params"]["_meta"].pop(k, None)
    return m


def header_value(value: str) -> str:
    """The header form of a value: verbatim when it is plain printable ASCII, else the base64 sentinel."""
    if all(0x20 <= ord(c) <= 0x7E for c in value) and value == value.strip() and not value.startswith("=?base64?"):
        return value
    return sentinel(value)


def sentinel(value: str) -> str:
    """`=?base64?<b64 of UTF-8>?=` (spec §2.8)."""
    return "=?base64?" + base64.b64encode(value.encode("utf-8")).decode("ascii") + "?="


def routing_headers(message: dict[str, Any]) -> dict[str, str]:
    """The routing headers a conforming client sends for `message`."""
    params = message.get("params") if isinstance(message.get("params"), dict) else {}
    meta = params.get("_meta") if isinstance(params.get("_meta"), dict) else {}
    version = meta.get(PROTOCOL_VERSION_KEY, MODERN_VERSION)
    h = {"MCP-Protocol-Version": str(version), "Mcp-Method": message["method"]}
    field = NAME_FIELD.get(message["method"])
    if field is not None and isinstance(params.get(field), str):
        h["Mcp-Name"] = header_value(params[field])
    return h


# ------------------------------------------------------------------------------------------------ HTTP


def send_http(port: int, method: str, path: str, body: bytes | None, header_lines: list[tuple[str, str]],
              timeout: float = 10.0) -> HTTPReply:
    """One exchange with headers sent exactly as listed (so a header can appear twice)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for name, value in header_lines:
            conn.putheader(name, value)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        data = resp.read()
        return HTTPReply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
    finally:
        conn.close()


def modern_header_lines(message: dict[str, Any] | None, *, headers: dict[str, str | None] | None = None,
                        token: str | None = None, accept: str | None = ACCEPT_BOTH,
                        extra_lines: list[tuple[str, str]] | None = None) -> list[tuple[str, str]]:
    """Content-Type, Accept, routing headers derived from `message`, Authorization; then `headers` replaces
    (or, with None, removes) any of them by case-insensitive name; `extra_lines` are appended verbatim."""
    base: dict[str, str] = {"Content-Type": "application/json"}
    if accept is not None:
        base["Accept"] = accept
    if message is not None and "method" in message:
        base.update(routing_headers(message))
    if token is not None:
        base["Authorization"] = f"Bearer {token}"
    for name, value in (headers or {}).items():
        for existing in [k for k in base if k.lower() == name.lower()]:
            del base[existing]
        if value is not None:
            base[name] = value
    return list(base.items()) + list(extra_lines or [])


def post_modern(port: int, message: dict[str, Any] | list | bytes, *, headers: dict[str, str | None] | None = None,
                token: str | None = None, accept: str | None = ACCEPT_BOTH, extra_lines: list[tuple[str, str]] | None = None,
                route_from: dict[str, Any] | None = None, timeout: float = 10.0, path: str = "/mcp") -> HTTPReply:
    """POSTs a modern request with the headers a conforming 2026 client sends (see `modern_header_lines`).
    `message` may be raw bytes (then `route_from` gives the message the routing headers are derived from)."""
    if isinstance(message, (bytes, bytearray)):
        body = bytes(message)
        source = route_from
    else:
        body = json.dumps(message).encode()
        source = route_from if route_from is not None else (message if isinstance(message, dict) else None)
    lines = modern_header_lines(source, headers=headers, token=token, accept=accept, extra_lines=extra_lines)
    return send_http(port, "POST", path, body, lines, timeout=timeout)


def messages_of(reply: HTTPReply) -> list[dict[str, Any]]:
    if reply.content_type.startswith("text/event-stream"):
        return parse_sse(reply.body)
    return [json.loads(reply.body)]


def assert_rpc_error(reply: HTTPReply, status: int, code: int, id: Any = "any") -> dict[str, Any]:
    """The reply is HTTP `status` with a JSON-RPC error `code` (and the given id unless "any"); returns the error."""
    assert reply.status == status, f"expected HTTP {status} / {code}, got {reply.status}: {reply.body[:500]!r}"
    assert reply.content_type.startswith("application/json"), reply.headers
    doc = json.loads(reply.body)
    assert doc.get("jsonrpc") == "2.0" and "result" not in doc, doc
    assert doc["error"]["code"] == code, f"expected code {code}, got {doc}"
    assert isinstance(doc["error"].get("message"), str) and doc["error"]["message"], doc
    if id != "any":
        assert doc.get("id") == id, f"expected id {id!r}: {doc}"
    assert_no_session(reply)
    return doc["error"]


def assert_no_session(reply: HTTPReply) -> None:
    assert "mcp-session-id" not in reply.headers, f"a modern response carries Mcp-Session-Id: {reply.headers}"


def assert_server_info(result: dict[str, Any]) -> None:
    info = (result.get("_meta") or {}).get(SERVER_INFO_KEY)
    assert isinstance(info, dict), f"no _meta[{SERVER_INFO_KEY}] in {result}"
    assert info.get("name") == "mcp-broker" and info.get("title") == "MCP Broker", info
    assert isinstance(info.get("version"), str) and info["version"], info


def ok_result(reply: HTTPReply, id: Any) -> dict[str, Any]:
    """The result of a successful JSON (not SSE) modern reply, after the checks every modern result must pass."""
    assert reply.status == 200, (reply.status, reply.body[:500])
    assert reply.content_type.startswith("application/json"), reply.headers
    assert_no_session(reply)
    doc = json.loads(reply.body)
    assert doc.get("id") == id and "error" not in doc, doc
    result = doc["result"]
    assert result.get("resultType") in ("complete", "input_required"), result
    assert_server_info(result)
    return result


def tool_text(result: dict[str, Any]) -> str:
    return "\n".join(b.get("text", "") for b in result.get("content", []) if b.get("type") == "text")


def broker_error_code(result: dict[str, Any]) -> str | None:
    return ((result.get("_meta") or {}).get(BROKER_ERROR_KEY) or {}).get("code")


class SSEStream:
    """A POST whose response stays open (subscriptions/listen): read its events one by one, then close it."""

    def __init__(self, port: int, message: dict[str, Any], *, token: str | None = None, timeout: float = 10.0) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        body = json.dumps(message).encode()
        self.conn.putrequest("POST", "/mcp", skip_accept_encoding=True)
        for name, value in modern_header_lines(message, token=token):
            self.conn.putheader(name, value)
        self.conn.putheader("Content-Length", str(len(body)))
        self.conn.endheaders(body)
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        self.headers = {k.lower(): v for k, v in self.resp.getheaders()}
        self._buffer = b""
        self.comments: list[str] = []

    def next_message(self, timeout: float = 10.0) -> dict[str, Any]:
        """The next event's JSON payload (comment lines are recorded, not returned); fails after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            self._buffer = self._buffer.replace(b"\r\n", b"\n")
            if b"\n\n" in self._buffer:
                block, self._buffer = self._buffer.split(b"\n\n", 1)
                data: list[str] = []
                for line in block.decode("utf-8").split("\n"):
                    if line.startswith(":"):
                        self.comments.append(line)
                    elif line.startswith("data:"):
                        data.append(line[5:].lstrip(" "))
                if data:
                    return json.loads("\n".join(data))
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no SSE event within {timeout} s (buffer {self._buffer[:200]!r})")
            assert self.conn.sock is not None
            self.conn.sock.settimeout(remaining)
            try:
                chunk = self.resp.read1(65536)
            except (socket.timeout, TimeoutError):
                raise AssertionError(f"no SSE event within {timeout} s (buffer {self._buffer[:200]!r})") from None
            if not chunk:
                raise AssertionError(f"the SSE stream ended (buffer {self._buffer[:200]!r})")
            self._buffer += chunk

    def close(self) -> None:
        try:
            if self.conn.sock is not None:
                self.conn.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.conn.close()


# ------------------------------------------------------------------------------------------------ stdio


def stdio_request(raw: RawStdio, message: dict[str, Any], timeout: float = 10.0) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Sends `message` and returns its response and the messages before it."""
    raw.send(message)
    return raw.recv_response(message["id"], timeout=timeout)
