"""No trap reachable from input, proven generally.

Every tool of the demo catalogue (erp, hr, warehouse, crm) is called with boundary arguments derived from its own
inputSchema: one property at a time varied from a valid baseline (huge and tiny numbers, the schema's bounds and
just beyond them, long and odd Unicode strings, format-like text, enum and non-enum values, empty and 1000-element
arrays, nulls, wrong types), plus one call with every property at a dangerous extreme and one with every property
at the edge the schema still allows. A trap in the daemon (a Double-to-Int conversion, an overflowing sum) would
end every tenant's calls, so after every call the process must still be the same one; every answer must be a
tool result or a JSON-RPC error with no backend or runtime internals in it.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import anyio
import mcp_types as types
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.shared.exceptions import MCPError
from mcp_types import CONNECTION_CLOSED, REQUEST_TIMEOUT

from e2e_helpers import BROKER_BIN, RawStdio, broker_env, http_request, rpc
from hostile_support import DemoBroker, assert_clean_text, decline, prepare_demo_root

pytestmark = pytest.mark.anyio

MIN_TOOLS = 31
MAX_CALLS_PER_TOOL = 30
CALL_TIMEOUT_S = 10.0

# Ordered most dangerous first: the per-tool cap keeps the head of every list.
HUGE_NUMBERS: list[Any] = [
    1e17, 1.7976931348623157e308, -1.7976931348623157e308, 9223372036854775807, 18446744073709551616,
    -9223372036854775808, 1e308, -1e308, -1e17, 0, -0.0, 1e-308, 5e-324,
]
# RTL override and marks, a ZWJ emoji sequence, stacked combining accents. NUL gets its own value: the broker's
# parser refuses the whole message for it, so inside ODD_TEXT it would hide everything else from the backends.
ODD_TEXT = "\u202eevil\u202c \u200f\u200e 👩\u200d👩\u200d👧 e\u0301\u0301\u0301"
STRINGS: list[Any] = [ODD_TEXT, "x" * 65536, "", "9999-99-99", "0000-01-01", "-1", "a\u0000b", "../admin", "%2e%2e%2fadmin", "' OR '1'='1"]
DATES: list[Any] = ["9999-12-31", "0001-01-01", "2024-02-30"]
NOT_IN_ENUM = "not-an-enum-value"
# Records in these states refuse most operations; baselines name usable ones so calls get past business checks.
UNUSABLE = {"blocked", "inactive", "terminated", "closed", "rejected", "cancelled"}
# Errors the SDK makes up itself when no JSON-RPC answer arrived (an HTTP error status without a JSON-RPC body, a
# stream that ended early): they mean the broker failed to answer, not that it answered with an error.
SDK_STAND_INS = re.compile(r"Server returned an error response|Session terminated|Failed to parse|SSE stream|Unexpected content type|server answered a request with 202")


# --- Values from a schema -------------------------------------------------------------------------------------

def json_types(schema: dict[str, Any]) -> list[str]:
    t = schema.get("type", "string" if "enum" not in schema else type_of(schema["enum"][0]))
    return [t] if isinstance(t, str) else list(t)


def type_of(value: Any) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object"}.get(type(value), "null")


def main_type(schema: dict[str, Any]) -> str:
    return next((t for t in json_types(schema) if t != "null"), "null")


def pattern_example(pattern: str, high: bool = False) -> str | None:
    """A string matching a simple anchored pattern (classes, escapes, literals, quantifiers), using the lowest or
    highest characters and the fewest or most repetitions; None for patterns beyond that."""
    p, out, i = pattern.removeprefix("^").removesuffix("$"), [], 0
    while i < len(p):
        if p[i] == "[":
            end = p.index("]", i + 1)
            chars, i = class_chars(p[i + 1:end]), end + 1
            if chars is None:
                return None
        elif p[i] == "\\":
            chars, i = {"d": "0123456789", "w": "09AZaz_"}.get(p[i + 1], p[i + 1]), i + 2
        elif p[i] in "()|.^$":
            return None
        else:
            chars, i = p[i], i + 1
        low, most = 1, 1
        if i < len(p) and p[i] == "{":
            end = p.index("}", i)
            lo, comma, hi = p[i + 1:end].partition(",")
            low, most, i = int(lo), int(hi) if hi else (int(lo) + 8 if comma else int(lo)), end + 1
        elif i < len(p) and p[i] in "?+*":
            low, most = {"?": (0, 1), "+": (1, 8), "*": (0, 8)}[p[i]]
            i += 1
        out.append((max(chars) if high else min(chars)) * (most if high else max(low, 1)))
    return "".join(out)


def class_chars(body: str) -> str | None:
    """The characters of a bracket expression's body (`A-Za-z0-9_-`); None for a negated one."""
    if body.startswith("^"):
        return None
    chars, i = "", 0
    while i < len(body):
        if i + 2 < len(body) and body[i + 1] == "-":
            chars += "".join(chr(c) for c in range(ord(body[i]), ord(body[i + 2]) + 1))
            i += 3
        else:
            chars += body[i + 1] if body[i] == "\\" and i + 1 < len(body) else body[i]
            i += 2 if body[i] == "\\" else 1
    return chars


class Values:
    """Valid and boundary values for tool schemas. `run` keeps idempotency keys unique to this test run; `known`
    holds identifiers seen in search results, so baselines name records that exist and calls reach deeper."""

    def __init__(self, run: str, known: dict[str, list[Any]] | None = None) -> None:
        self.run = run
        self.known = known or {}

    def valid(self, schema: dict[str, Any], name: str = "") -> Any:
        """A plausible value the schema accepts: a known identifier, enum, default, minimum, date, pattern example."""
        if "const" in schema:
            return schema["const"]
        if schema.get("enum"):
            return schema["enum"][0]
        if "default" in schema and schema["default"] is not None:
            return schema["default"]
        t = main_type(schema)
        known = self.known_value(schema, name)
        if known is not None:
            return known
        if t in ("integer", "number"):
            low = schema.get("minimum", schema.get("exclusiveMinimum", 0) + (1 if t == "integer" else 0.5))
            return max(low, 1) if schema.get("maximum", 1) >= 1 else low
        if t == "string":
            return self.valid_string(schema, name)
        if t == "boolean":
            return False
        if t == "array":
            return [self.valid(schema.get("items", {}), name)]
        if t == "object":
            return self.baseline(schema)
        return None

    def known_value(self, schema: dict[str, Any], name: str) -> Any:
        """A value seen in a search result under this property's name that fits its type and pattern."""
        for seen in self.known.get(name, []):
            if type_of(seen) == main_type(schema) and re.search(schema.get("pattern", ""), str(seen)):
                return seen
        return None

    def valid_string(self, schema: dict[str, Any], name: str) -> str:
        if "idempotency" in name.lower():
            return f"sweep-{self.run}"
        fmt = schema.get("format")
        if fmt == "date":
            return "2025-06-30" if name.startswith(("to", "end")) or name.endswith(("_to", "end_date")) else "2025-01-01"
        if fmt == "date-time":
            return "2025-01-01T00:00:00Z"
        if "pattern" in schema:
            return pattern_example(schema["pattern"]) or "x"
        return "a" * max(1, schema.get("minLength", 1))

    def baseline(self, schema: dict[str, Any]) -> dict[str, Any]:
        """Required properties filled with valid values (optional ones left out)."""
        props = schema.get("properties", {})
        return {name: self.valid(props[name], name) for name in schema.get("required", []) if name in props}

    def at_edge(self, schema: dict[str, Any], name: str = "") -> Any:
        """The largest value the schema still accepts (maximum, maxLength, maxItems, last enum value)."""
        if schema.get("enum"):
            return schema["enum"][-1]
        t = main_type(schema)
        if t in ("integer", "number"):
            return schema.get("maximum", 2**53 if t == "integer" else 1.7976931348623157e308)
        if t == "string":
            if schema.get("format") == "date":
                return "9999-12-31"
            if "pattern" in schema:  # an identifier: a real one gets the call past the lookup to the sums
                return self.known_value(schema, name) or pattern_example(schema["pattern"], high=True) or self.valid_string(schema, name)
            return "x" * min(schema.get("maxLength", 4096), 4096)
        if t == "array":
            return [self.at_edge(schema.get("items", {}), name)] * min(schema.get("maxItems", 50), 50)
        if t == "object":
            return {k: self.at_edge(v, k) for k, v in schema.get("properties", {}).items()}
        return self.valid(schema, name)

    def boundary(self, schema: dict[str, Any], name: str, required: bool) -> list[Any]:
        """Boundary values for one property, most dangerous first, without the baseline value."""
        t, out = main_type(schema), []
        if t in ("integer", "number"):
            out += HUGE_NUMBERS[:2] + bounds(schema, t) + HUGE_NUMBERS[2:] + ["1e17"]
        elif t == "string":
            out += STRINGS[:1] + (DATES if schema.get("format") == "date" else []) + STRINGS[1:] + [1e17]
            if "pattern" in schema:
                out += [v for v in (pattern_example(schema["pattern"], high=True),) if v]
            if "maxLength" in schema:
                out.append("x" * (schema["maxLength"] + 1))
        elif t == "boolean":
            out += [True, "true", 1]
        elif t == "array":
            item = self.valid(schema.get("items", {}), name)
            out += [[item] * 1000, [], [None], {}]
        elif t == "object":
            out += [{}, nested(48), []]
        if schema.get("enum"):
            out = schema["enum"][1:4] + [NOT_IN_ENUM] + out
        if not required:
            out.append(None)
        return dedupe(out, skip=self.valid(schema, name))

    def dangerous(self, schema: dict[str, Any], name: str) -> Any:
        """One extreme per type for the all-at-once call (kept small enough for the 256 KiB body limit)."""
        t = main_type(schema)
        if t == "array":
            return [self.dangerous(schema.get("items", {}), name) if main_type(schema.get("items", {})) == "object"
                    else self.valid(schema.get("items", {}), name)] * 1000
        if t == "object":
            return {k: self.dangerous(v, k) for k, v in schema.get("properties", {}).items()}
        return {"integer": 1e17, "number": 1.7976931348623157e308, "string": ODD_TEXT, "boolean": True}.get(t)


def bounds(schema: dict[str, Any], t: str) -> list[Any]:
    """The schema's own limits and the nearest values beyond them."""
    out: list[Any] = []
    step = (lambda v, d: v + d) if t == "integer" else (lambda v, d: math.nextafter(v, d * math.inf))
    for key, direction in (("minimum", -1), ("exclusiveMinimum", -1), ("maximum", 1), ("exclusiveMaximum", 1)):
        if key in schema:
            out += [schema[key], step(schema[key], direction)]
    return out


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth):
        value = {"k": value}
    return value


def dedupe(values: list[Any], skip: Any) -> list[Any]:
    seen, out = {json.dumps(skip)}, []
    for v in values:
        key = json.dumps(v)
        if key not in seen:
            seen.add(key)
            out.append(v)
    return out


def argument_sets(tool: types.Tool, values: Values) -> list[tuple[str, dict[str, Any]]]:
    """At most MAX_CALLS_PER_TOOL labelled argument sets: two all-properties calls, then single-property variations
    taken round-robin (numeric properties twice per round: that is where conversions trap)."""
    schema = tool.input_schema
    props, required = schema.get("properties", {}), set(schema.get("required", []))
    base = values.baseline(schema)
    sets = [("all at the schema's edge", {k: values.at_edge(v, k) for k, v in props.items()}),
            ("all dangerous", {k: values.dangerous(v, k) for k, v in props.items()})]
    lanes: list[tuple[str, Iterator[tuple[str, dict[str, Any]]], int]] = []
    for name, prop in props.items():
        lanes.append((name, variations(base, [name], values.boundary(prop, name, name in required)), 2 if main_type(prop) in ("integer", "number") else 1))
        items = prop.get("items", {})
        if main_type(prop) == "array" and main_type(items) == "object":
            item_required, with_item = set(items.get("required", [])), {**base, name: [values.valid(items, name)]}
            for sub, sub_schema in items.get("properties", {}).items():
                lanes.append((f"{name}[0].{sub}", variations(with_item, [name, 0, sub], values.boundary(sub_schema, sub, sub in item_required)),
                              2 if main_type(sub_schema) in ("integer", "number") else 1))
    while lanes and len(sets) < MAX_CALLS_PER_TOOL:
        for lane in list(lanes):
            for _ in range(lane[2]):
                nxt = next(lane[1], None)
                if nxt is None:
                    lanes.remove(lane)
                    break
                if len(sets) < MAX_CALLS_PER_TOOL:
                    sets.append(nxt)
    return sets


def variations(base: dict[str, Any], path: list[Any], candidates: list[Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The baseline with the property at `path` set to each candidate in turn. Idempotency keys not under test
    get a fresh value per call, so each write is new and reaches the backend instead of replaying the first."""
    for n, value in enumerate(candidates):
        args = json.loads(json.dumps(base))
        for key in args:
            if "idempotency" in key.lower() and key != path[0]:
                args[key] = f"{args[key]}-{'.'.join(map(str, path))}-{n}"[-64:].replace(".", "_")
        target = args
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value
        yield f"{'.'.join(map(str, path))} = {json.dumps(value)[:40]}", args


# --- Calling ---------------------------------------------------------------------------------------------------

@dataclass
class ToolReport:
    tool: str
    outcomes: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (f"{self.tool:30} calls {sum(self.outcomes.values()):3}  ok {self.outcomes['ok']:3}  isError {self.outcomes['isError']:3}"
                f"  rpc-error {self.outcomes['rpc-error']:3}  problems {len(self.problems)}")


async def call_once(client: Client, tool: str, label: str, args: dict[str, Any], report: ToolReport) -> bool:
    """One call, classified; False when the transport failed (the caller then checks the process)."""
    allow_sqlstate = tool.startswith("warehouse__")
    try:
        with anyio.fail_after(CALL_TIMEOUT_S + 2):
            result = await client.call_tool(tool, args, read_timeout_seconds=CALL_TIMEOUT_S)
    except MCPError as e:
        if e.code in (CONNECTION_CLOSED, REQUEST_TIMEOUT) or SDK_STAND_INS.match(e.message):
            report.outcomes["transport"] += 1
            report.problems.append(f"{label}: no answer from the broker (the SDK reports {e.code}: {e.message[:120]})")
            return False
        report.outcomes["rpc-error"] += 1
        check_text(report, label, e.message, allow_sqlstate)
        return True
    except RuntimeError as e:
        if "structured content" not in str(e):
            raise
        report.outcomes["output-schema"] += 1
        report.problems.append(f"{label}: a success result violates the tool's outputSchema: {str(e)[:200]}")
        return True
    except TimeoutError as e:
        if "time limit" in str(e):
            raise  # the test's own backstop (conftest), not this call's
        report.outcomes["transport"] += 1
        report.problems.append(f"{label}: no answer within {CALL_TIMEOUT_S + 2:.0f} s")
        return False
    except (Exception, BaseExceptionGroup) as e:  # noqa: BLE001 - any other failure means no answer arrived
        report.outcomes["transport"] += 1
        report.problems.append(f"{label}: no answer: {e!r}"[:300])
        return False
    report.outcomes["isError" if result.is_error else "ok"] += 1
    check_text(report, label, "\n".join(getattr(c, "text", "") for c in result.content), allow_sqlstate)
    return True


def check_text(report: ToolReport, label: str, text: str, allow_sqlstate: bool) -> None:
    try:
        assert_clean_text(text, allow_sqlstate=allow_sqlstate)
    except AssertionError as e:
        report.problems.append(f"{label}: {e}")


async def sweep_tool(demo: DemoBroker, bearer: str, tool: types.Tool, sets: list[tuple[str, dict[str, Any]]]) -> ToolReport:
    """Runs every argument set over HTTP; a crash is recorded with its cause, the broker restarted, the rest run."""
    report, pending = ToolReport(tool.name), list(sets)
    while pending:
        label, died = "connecting", False
        try:
            async with demo.client(bearer, elicitation_callback=decline) as client:
                while pending:
                    label, args = pending.pop(0)
                    answered = await call_once(client, tool.name, label, args, report)
                    if (not answered or not demo.alive()) and not demo.settle():
                        died = True
                        break
                    if not answered:
                        break  # a fresh client for the rest
        except (Exception, BaseExceptionGroup):
            # A server dying mid-call can take the client's task group down with it; anything else is ours.
            if demo.settle():
                raise
            died = True
        if died:
            report.problems.append(f"{label}: the broker died or hung ({demo.crash_reason()})")
            demo.restart()
    return report


async def harvest_identifiers(client: Client, tools: list[types.Tool], values: Values) -> dict[str, list[Any]]:
    """Values of the scalar fields in the answers of the read-only tools called with their baselines, by name."""
    known: dict[str, list[Any]] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("status") in UNUSABLE:
                return
            for k, v in node.items():
                if isinstance(v, (str, int)) and not isinstance(v, bool) and v not in known.setdefault(k, []):
                    known[k].append(v)
                walk(v)
        elif isinstance(node, list):
            for v in node[:3]:
                walk(v)

    for tool in tools:
        if tool.annotations and tool.annotations.read_only_hint:
            with anyio.fail_after(CALL_TIMEOUT_S):
                result = await client.call_tool(tool.name, values.baseline(tool.input_schema))
            if not result.is_error:
                walk(result.structured_content)
    return known


async def list_all_tools(client: Client) -> list[types.Tool]:
    tools, cursor = [], None
    for _ in range(20):
        page = await client.list_tools(cursor=cursor, cache_mode="refresh")
        tools += page.tools
        cursor = page.next_cursor
        if cursor is None:
            break
    return tools


# --- Tests -----------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sweep_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoBroker]:
    demo = DemoBroker(prepare_demo_root(tmp_path_factory.mktemp("sweep")), name="sweep").start()
    try:
        yield demo
    finally:
        demo.stop()


@pytest.mark.time_limit(150)
async def test_every_tool_survives_boundary_arguments_over_http(sweep_demo: DemoBroker, run_id: str) -> None:
    admin = sweep_demo.keys["DEMO_ADMIN_KEY"]  # ops-admin: analyst, hr, buyer, sales; sees every tool
    async with sweep_demo.client(admin) as c:
        tools = await list_all_tools(c)
        assert len(tools) >= MIN_TOOLS, f"ops-admin sees {len(tools)} tools, expected the full catalogue ({MIN_TOOLS})"
        values = Values(run_id)
        values.known = await harvest_identifiers(c, tools, values)
    first_pid, started = sweep_demo.pid, time.monotonic()
    reports = [await sweep_tool(sweep_demo, admin, tool, argument_sets(tool, values)) for tool in tools]
    print(f"\nschema sweep over HTTP: {sum(sum(r.outcomes.values()) for r in reports)} calls in {time.monotonic() - started:.1f} s")
    for r in reports:
        print(r.line())
    problems = [f"{r.tool}: {p}" for r in reports for p in r.problems]
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:40])
    assert sweep_demo.pid == first_pid, "the broker was restarted after a crash (see problems)"
    status, _, _ = http_request(sweep_demo.port, "GET", "/livez", timeout=5)
    assert status == 200
    assert "Fatal error" not in sweep_demo.stderr_text()


@pytest.mark.time_limit(90)
async def test_boundary_sample_over_stdio(sweep_demo: DemoBroker, run_id: str, tmp_path: Path) -> None:
    """The same daemon code behind the stdio transport: the two all-properties calls of every tool."""
    params = StdioServerParameters(command=str(BROKER_BIN), args=["serve", "--stdio", "--config", str(sweep_demo.config)],
                                   env=broker_env(), cwd=str(sweep_demo.root))
    values, reports = Values(run_id + "s"), []
    errlog_path = tmp_path / "stdio.stderr.log"
    with open(errlog_path, "w+") as errlog:
        async with Client(stdio_client(params, errlog=errlog), elicitation_callback=decline, read_timeout_seconds=30) as c:
            tools = await list_all_tools(c)
            assert len(tools) >= MIN_TOOLS, "the stdio principal (analyst, hr, buyer, sales) sees every tool"
            for tool in tools:
                report = ToolReport(tool.name)
                reports.append(report)
                for label, args in argument_sets(tool, values)[:2]:
                    if not await call_once(c, tool.name, label, args, report):
                        break
                if report.outcomes["transport"]:
                    break  # the server process is gone; what follows would only repeat it
    for r in reports:
        print(r.line())
    log = errlog_path.read_text(errors="replace")
    problems = [f"{r.tool}: {p}" for r in reports for p in r.problems]
    fatal = [line for line in log.splitlines() if "Fatal error" in line]
    assert not problems and not fatal, "\n".join(problems[:20] + fatal[:3])


@pytest.mark.time_limit(30)
def test_nul_in_an_argument_gets_an_answer_the_client_can_match_over_stdio() -> None:
    """A NUL is valid JSON ("\\u0000") that the broker refuses (it would cut C strings short further down). The refusal
    must name the request's id: over stdio an error with `id: null` would leave the client waiting for its call."""
    raw = RawStdio().start()
    try:
        raw.initialize()
        raw.send(rpc("tools/call", {"name": "erp__search_suppliers", "arguments": {"query": "a\u0000b"}}, id=41))
        reply = raw.recv(timeout=5)
        assert reply.get("id") == 41 and "error" in reply, f"the answer names no request: {reply}"
        raw.send(rpc("tools/list", id=42))
        assert raw.recv_response(42, timeout=5)[0].get("result"), "serving continues"
    finally:
        raw.stop()
