#!/usr/bin/env python3
"""Instruction counts per call: the broker under valgrind's callgrind, N calls of each workload, grouped by component.

Usage: bench/callgrind.sh [--calls 2000] [--only rest_small,hr_lookup,policy_denial,rest_100k]
       (bench/callgrind.sh builds the release broker and starts the demo warehouse first, like bench/run.sh)

Why: wall-clock profiles on a shared 2-core machine are noisy and async Swift fragments perf's call stacks.
Callgrind counts the instructions the broker's own threads execute (no kernel time), exactly and repeatably, so
"instructions per call" per component says where the per-call cost is and what the next lever should be.
The same configuration as bench.py (metrics, audit, policy and resilience on); one keep-alive client connection.
Counting starts after a warm-up (callgrind_control -z) and the dump is divided by the number of calls.
Writes bench/results/callgrind.md.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402

# (component, pattern on the demangled-or-mangled symbol). First match wins; order matters.
COMPONENTS = [
    ("libcurl", re.compile(r"^(curl_|Curl_|Curl|ccurl_)")),
    ("memory (malloc/free)", re.compile(r"^(malloc|free|cfree|_int_malloc|_int_free|calloc|realloc|__libc_malloc|__libc_free|"
                                        r"malloc_consolidate|unlink_chunk|_int_realloc|__malloc_usable_size|tcache|aligned_alloc|"
                                        r"posix_memalign|_mid_memalign|_int_memalign)")),
    ("memcpy/memmove/memset", re.compile(r"^(__)?mem(cpy|move|set|cmp|chr)|^__memcmp|^__memchr|^__strlen|^strlen|^__strchr")),
    ("Swift runtime: retain/release", re.compile(r"^swift_(retain|release|bridgeObject(Retain|Release)|unknownObject|nonatomic)")),
    ("HTTP parser (llhttp)", re.compile(r"^c_nio_llhttp")),
    ("OpenSSL / crypto", re.compile(r"^(EVP_|SHA|sha|OPENSSL|CRYPTO_|ossl_|BN_|AES|aes|gcm|CCryptoBoringSSL)")),
    ("libpq", re.compile(r"^(PQ|pq|pqsecure|pg_)")),
    ("dispatch / pthread / locks", re.compile(r"^(pthread_|__pthread|futex|__lll|___pthread|lll_)")),
    ("libc other", re.compile(r"^(__|_IO|_dl|clock_gettime|epoll|read|write|send|recv|poll|__vdso)")),
]
MODULE = re.compile(r"^\$s(\d+)([A-Za-z_][A-Za-z0-9_]*)")


# The shared object decides for everything else: the Swift runtime's C and C++ functions (metadata caches, the task
# allocator) are told apart by the library they live in, not by name.
OBJECTS = [("libcurl", "libcurl"), ("libpq", "libpq"), ("libcrypto", "OpenSSL / crypto"), ("libssl", "OpenSSL / crypto"),
           ("libswift_Concurrency", "Swift runtime: concurrency"), ("libdispatch", "dispatch / pthread / locks"), ("libFoundation", "Foundation"),
           ("libswiftCore", "Swift runtime: other"), ("libz", "zlib"), ("libpg_query", "libpg_query"), ("libhiredis", "hiredis")]


def component(key: str) -> str:
    symbol, _, obj = key.partition("\t")
    m = MODULE.match(symbol)
    if m:
        name = m.group(2)[: int(m.group(1))]
        if name.startswith("NIO") or name in ("_NIODataStructures", "_NIOBase64"):
            return "SwiftNIO"
        if name.startswith("Hummingbird"):
            return "Hummingbird"
        if name in ("Swift", "_Concurrency", "Synchronization", "_StringProcessing"):
            return f"Swift stdlib ({name})"
        if name.startswith("Foundation") or name == "Foundation":
            return "Foundation"
        return name
    for label, pattern in COMPONENTS:
        if pattern.match(symbol):
            return label
    for prefix, label in OBJECTS:
        if obj.startswith(prefix):
            return label
    if obj.startswith("libc.so") or obj.startswith("ld-linux"):
        return "libc other"
    return f"other ({obj})" if obj else "other"


def self_costs(out_file: Path) -> dict[str, int]:
    """Exclusive instruction counts per function, read from the callgrind file itself.

    callgrind_annotate 3.19 charges the whole run to the thread-start frames that were on the stack when the counters
    were zeroed, so the file is parsed directly: a cost line belongs to the current `fn=` unless it follows a
    `calls=` line (then it is the callee's inclusive cost, which is not this function's own)."""
    names: dict[str, str] = {}
    objects: dict[str, str] = {}
    costs: dict[str, int] = defaultdict(int)
    current, obj = "", ""
    after_call = False

    def name_of(spec: str, table: dict[str, str]) -> str:
        m = re.match(r"\((\d+)\)(?:\s+(.*))?", spec)
        if not m:
            return spec
        if m.group(2):
            table[m.group(1)] = m.group(2)
        return table.get(m.group(1), spec)

    with open(out_file) as f:
        for line in f:
            if line.startswith("ob="):
                obj = Path(name_of(line[3:].strip(), objects)).name
            elif line.startswith("fn="):
                current = f"{name_of(line[3:].strip(), names)}\t{obj}"
                after_call = False
            elif line.startswith("cob="):
                name_of(line[4:].strip(), objects)
            elif line.startswith("cfn="):
                name_of(line[4:].strip(), names)
            elif line.startswith("calls="):
                after_call = True
            elif line[:1].isdigit() or line[:1] in "+-*":
                parts = line.split()
                if after_call:
                    after_call = False
                elif len(parts) >= 2 and parts[1].isdigit():
                    costs[current] += int(parts[1])
    return costs


def stripped_broker() -> Path:
    """The broker without its DWARF 5 debug info, which valgrind 3.19 cannot read; the symbol table stays, so
    functions keep their names. Beside the original, so its `$ORIGIN` run path still finds the same libraries."""
    copy = bench.BROKER.with_name(bench.BROKER.name + ".callgrind")
    if not copy.exists() or copy.stat().st_mtime < bench.BROKER.stat().st_mtime:
        subprocess.run(["objcopy", "--strip-debug", str(bench.BROKER), str(copy)], check=True)
    return copy


def run_workload(wid: str, body: dict, expect: str, calls: int, auth: str, config: str) -> tuple[int, dict[str, int], dict[str, int]]:
    out = bench.WORK / f"callgrind-{wid}.out"
    port_file = bench.WORK / f"cg-{wid}.port"
    port_file.unlink(missing_ok=True)
    cfg = bench.WORK / f"cg-{wid}.yaml"
    cfg.write_text(config)
    log = open(bench.WORK / f"cg-{wid}.log", "w")
    proc = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--dump-instr=no", "--collect-atstart=yes",
                             str(stripped_broker()), "serve", "--config", str(cfg), "--port", "0", "--port-file", str(port_file)],
                            stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 180
        while not (port_file.exists() and port_file.read_text().strip()):
            if proc.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"broker under valgrind did not start: see {bench.WORK}/cg-{wid}.log")
            time.sleep(0.2)
        port = int(port_file.read_text())
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream", "Authorization": auth,
                   "MCP-Protocol-Version": "2025-11-25"}
        conn.request("POST", "/mcp", body=json.dumps({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "callgrind", "version": "1"}}}), headers=headers)
        r = conn.getresponse()
        r.read()
        headers["Mcp-Session-Id"] = r.getheader("mcp-session-id") or ""
        payload = json.dumps(body)

        def call() -> None:
            conn.request("POST", "/mcp", body=payload, headers=headers)
            reply = conn.getresponse()
            data = reply.read()
            if reply.status != 200 or expect.encode() not in data:
                sys.exit(f"{wid}: unexpected reply {reply.status}: {data[:300]!r}")

        for _ in range(200):  # warm-up: connections, caches, lazily built tables
            call()
        subprocess.run(["callgrind_control", "-z", str(proc.pid)], capture_output=True, check=True)
        started = time.monotonic()
        for i in range(calls):
            call()
            if (i + 1) % 500 == 0:
                bench.info(f"{wid}: {i + 1}/{calls} calls ({time.monotonic() - started:.0f} s)")
        for old in bench.WORK.glob(f"callgrind-{wid}.out*"):
            old.unlink()
        subprocess.run(["callgrind_control", "-d", str(proc.pid)], capture_output=True, check=True)
        conn.close()
    finally:
        proc.terminate()
        proc.wait(120)
    # Only the numbered dumps written by `callgrind_control -d`: the unnumbered file is the shutdown after it.
    dumps = sorted(p for p in bench.WORK.glob(f"callgrind-{wid}.out.*") if p.stat().st_size > 0)
    by_component: dict[str, int] = defaultdict(int)
    by_function: dict[str, int] = defaultdict(int)
    for d in dumps:
        for fn, n in self_costs(d).items():
            by_component[component(fn)] += n
            by_function[fn] += n
    total = sum(by_component.values())
    return total, by_component, by_function


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--only", default="rest_small,rest_100k,hr_lookup,policy_denial")
    a = ap.parse_args()
    bench.WORK.mkdir(parents=True, exist_ok=True)
    bench.step("Fixtures, identities, nginx backend")
    bench.write_fixtures()
    bench.identities.generate(str(bench.WORK / "auth"), str(bench.BROKER))
    printed = subprocess.run([str(bench.BROKER), "hash-key"], capture_output=True, text=True, check=True).stdout
    fields = dict(line.split(":", 1) for line in printed.strip().splitlines())
    os.environ["BENCH_KEY"], os.environ["BENCH_KEY_HASH"] = fields["key"].strip(), fields["hash"].strip()
    os.environ.setdefault("HR_API_KEY", "bench-hr-key")
    os.environ["HR_SYSTEM_API_KEY"] = os.environ["HR_API_KEY"]
    os.environ.setdefault("BENCH_STATE_KEY", os.urandom(24).hex())
    nginx = bench.start_nginx()
    auth = f"Bearer {os.environ['BENCH_KEY']}"
    emp = "21000001"
    workloads = {
        "rest_small": ("REST tool call, small JSON", {"name": "api__get_account", "arguments": {}}, "acc-0001"),
        "rest_100k": ("REST tool call, ~100 KB document", {"name": "api__get_document", "arguments": {}}, "ord-00899"),
        "hr_lookup": ("mock HR lookup", {"name": "hr__get_employee", "arguments": {"employee_id": emp}}, emp),
        "policy_denial": ("call refused by policy", {"name": "hr__get_compensation", "arguments": {"employee_id": emp}}, "Unknown tool"),
    }
    results = []
    try:
        for wid in [w for w in a.only.split(",") if w in workloads]:
            title, params, expect = workloads[wid]
            bench.step(f"{title}: {a.calls} calls under callgrind")
            total, comps, fns = run_workload(wid, {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}, expect, a.calls, auth,
                                             bench.broker_config())
            results.append((wid, title, total, comps, fns))
            bench.info(f"{wid}: {total / a.calls:,.0f} instructions per call")
    finally:
        nginx.send_signal(bench.signal.SIGQUIT)
        nginx.wait(10)
    lines = ["# Instructions per call (callgrind)", "",
             f"The release broker under `valgrind --tool=callgrind`, bench configuration (metrics, audit, policy, resilience on), one keep-alive "
             f"connection, {a.calls} calls after 200 warm-up calls; user-space instructions of every broker thread (no kernel), "
             "grouped by the component of the function that executed them (self cost). Written by `bench/callgrind.sh`.", ""]
    for wid, title, total, comps, fns in results:
        lines += [f"## {title} (`{wid}`): {total / a.calls:,.0f} instructions per call", "",
                  "| component | instructions per call | share |", "|---|---:|---:|"]
        for name, n in sorted(comps.items(), key=lambda kv: -kv[1]):
            if n / total < 0.005:
                continue
            lines.append(f"| {name} | {n / a.calls:,.0f} | {100 * n / total:.1f} % |")
        lines += ["", "Top functions (self):", "", "| function | instructions per call |", "|---|---:|"]
        for key, n in sorted(fns.items(), key=lambda kv: -kv[1])[:15]:
            fn, _, obj = key.partition("\t")
            fn = fn if not fn.startswith("0x") else f"{fn} ({obj})"
            short = fn if len(fn) < 110 else fn[:107] + "..."
            lines.append(f"| `{short}` | {n / a.calls:,.0f} |")
        lines.append("")
    (bench.RESULTS / "callgrind.md").write_text("\n".join(lines) + "\n")
    print(f"written: {bench.RESULTS / 'callgrind.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
