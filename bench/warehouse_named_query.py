#!/usr/bin/env python3
"""Named query through the broker vs the same query directly over libpq (pgbench), in one run.

Usage: bench/warehouse_named_query.py [--seconds 10] [--clients 4]
Needs the demo warehouse (scripts/pg.sh start) and a built broker (.build/debug or MCP_BROKER_BIN).
Prints both throughputs and the ratio (issue 3 target: broker >= 0.5 x direct). Loopback only; bounded in time.
"""
import argparse, asyncio, json, os, re, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SQL = ("SELECT month, region, revenue, orders FROM analytics.monthly_revenue WHERE tenant = 'acme' AND region = 'EMEA' "
       "AND month >= '2024-01-01'::date AND month < '2025-01-01'::date ORDER BY month DESC;")
ARGS = {"region": "EMEA", "from_date": "2024-01-01", "to_date": "2025-01-01"}


def direct(seconds: int, clients: int) -> float:
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(SQL + "\n")
    env = dict(os.environ, PGPASSWORD=os.environ["WH_ACME_PASSWORD"])
    out = subprocess.run(["pgbench", "-n", "-M", "extended", "-h", "127.0.0.1", "-p", os.environ.get("WH_PORT", "55432"),
                          "-U", "wh_acme", "-c", str(clients), "-j", str(min(clients, 2)), "-T", str(seconds), "-f", f.name, "warehouse"],
                         capture_output=True, text=True, env=env, timeout=seconds + 30)
    m = re.search(r"tps = ([0-9.]+)", out.stdout)
    if not m:
        sys.exit(f"pgbench failed: {out.stderr[-500:]}")
    return float(m.group(1))


async def one_client(port: int, until: float, counts: list) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)

    async def post(body: dict, session: str | None = None) -> tuple[dict, str | None]:
        data = json.dumps(body).encode()
        head = (f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                f"Accept: application/json, text/event-stream\r\nContent-Length: {len(data)}\r\n")
        if session:
            head += f"Mcp-Session-Id: {session}\r\nMCP-Protocol-Version: 2025-11-25\r\n"
        writer.write(head.encode() + b"\r\n" + data)
        await writer.drain()
        status = await reader.readline()
        headers = {}
        while (line := await reader.readline()) not in (b"\r\n", b""):
            k, _, v = line.decode().partition(":")
            headers[k.strip().lower()] = v.strip()
        body_bytes = await reader.readexactly(int(headers.get("content-length", "0")))
        if not status.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(status)
        return json.loads(body_bytes) if body_bytes else {}, headers.get("mcp-session-id")

    _, session = await post({"jsonrpc": "2.0", "id": 0, "method": "initialize",
                             "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}}})
    i = 0
    while time.monotonic() < until:
        i += 1
        r, _ = await post({"jsonrpc": "2.0", "id": i, "method": "tools/call",
                           "params": {"name": "warehouse__revenue_by_month", "arguments": ARGS}}, session)
        result = r.get("result", {})
        if result.get("isError") or len(result.get("structuredContent", {}).get("rows", [])) != 12:
            counts[1] += 1
        else:
            counts[0] += 1
    writer.close()


def broker(seconds: int, clients: int) -> tuple[float, int]:
    binary = os.environ.get("MCP_BROKER_BIN", str(ROOT / ".build" / "debug" / "mcp-broker"))
    port_file = Path(tempfile.mkdtemp()) / "port"
    env = dict(os.environ, ERP_PASSWORD="b", ERP_SYSTEM_PASSWORD="b", HR_API_KEY="b", HR_SYSTEM_API_KEY="b")
    proc = subprocess.Popen([binary, "serve", "--config", str(ROOT / "config" / "broker.yaml"), "--port", "0",
                             "--port-file", str(port_file)], stderr=subprocess.DEVNULL, env=env)
    try:
        for _ in range(200):
            if port_file.exists() and port_file.read_text().strip():
                break
            time.sleep(0.05)
        port = int(port_file.read_text())
        counts = [0, 0]

        async def run() -> None:
            until = time.monotonic() + seconds
            await asyncio.gather(*(one_client(port, until, counts) for _ in range(clients)))

        start = time.monotonic()
        asyncio.run(run())
        return counts[0] / (time.monotonic() - start), counts[1]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--clients", type=int, default=4)
    a = ap.parse_args()
    print(f"[1/2] direct libpq (pgbench, extended protocol, {a.clients} clients, {a.seconds} s)...", flush=True)
    d = direct(a.seconds, a.clients)
    print(f"[2/2] through mcp-broker (HTTP tools/call, {a.clients} keep-alive clients, {a.seconds} s)...", flush=True)
    b, failures = broker(a.seconds, a.clients)
    print(f"| path | calls/s |\n|---|---|\n| direct libpq | {d:.0f} |\n| mcp-broker named query | {b:.0f} |")
    print(f"ratio broker/direct = {b / d:.2f} (failures: {failures}; same machine, both on loopback)")


if __name__ == "__main__":
    main()
