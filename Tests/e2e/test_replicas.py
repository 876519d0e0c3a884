"""Scale-out end to end (issue 15 "Done when"): one `redis-server`, three `mcp-broker serve` replicas sharing it, nginx
round-robin in front with no affinity and no upstream keep-alive, and the official MCP client through nginx.

- test_harness_*: the harness itself (round-robin, `X-Upstream`, SIGKILL of a replica, Redis down and back).
- test_1_*: a whole 2025-11-25 session whose consecutive requests land on different replicas.
- test_2_*: 50 calls/s for 10 s against a tenant × tool limit of 10/s burst 20: 120 ± 5 accepted in total, not 360.
- test_3_*: SIGKILL of one replica during a stream of idempotent CRM writes: nothing lost or duplicated.
- test_4_*: Redis killed for 5 s: calls keep working, /readyz says degraded, shared limits resume after.

The mock ERP and HR keep their data inside each broker process, so their results are checked per call only; the
writes that must agree across replicas go to the demo CRM (one external system), which is read back directly.
Run: MCP_BROKER_BIN=$PWD/.build/debug/mcp-broker python3 -m pytest -q Tests/e2e/test_replicas.py
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from typing import Any, Iterator

import anyio
import mcp_types as types
import pytest
from mcp.shared.exceptions import MCPError

from e2e_helpers import http_request
from sdk_support import MODERN_VERSION
from replicas_support import (RATE_LIMITED, SHARED_STATE_DOWN, Cluster, HopRecorder, answering_upstream, list_all_tools,
                              result_code, shared_state_degraded, start_cluster)

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def cluster(broker_bin: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    c = start_cluster(tmp_path_factory.mktemp("replicas"))
    try:
        yield c
    finally:
        c.stop()


@pytest.fixture
def healthy(cluster: Cluster) -> Iterator[Cluster]:
    """Every scenario starts with Redis and three replicas up (a failed scenario may have left one down)."""
    cluster.ensure_all_up()
    yield cluster
    cluster.ensure_all_up()


def upstream_of_get(cluster: Cluster, path: str = "/livez") -> str | None:
    status, headers, _ = http_request(cluster.nginx.port, "GET", path, timeout=5)
    assert status == 200, (path, status)
    return answering_upstream(headers.get("x-upstream"))


# --------------------------------------------------------------------------------------------------------------
# The harness itself
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.time_limit(40)
def test_harness_round_robin_header_sigkill_and_redis_restart(healthy: Cluster) -> None:
    c = healthy
    addresses = [r.address for r in c.replicas]
    seen = [upstream_of_get(c) for _ in range(9)]
    assert set(seen) == set(addresses), seen
    assert all(a != b for a, b in zip(seen, seen[1:])), f"consecutive requests must change replica: {seen}"
    assert any(f"upstream={addresses[0]}" in line for line in c.nginx.access_log())

    # initialize holds no earlier state, so it succeeds on every replica through nginx.
    for _ in range(3):
        status, headers, body = http_request(c.nginx.port, "POST", "/mcp", body=(
            b'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25",'
            b'"capabilities":{},"clientInfo":{"name":"harness","version":"1"}}}'),
            headers={"Content-Type": "application/json", "Accept": "application/json, text/event-stream",
                     "Authorization": f"Bearer {c.keys['acme']}"})
        assert status == 200 and headers.get("mcp-session-id"), (status, body[:200])

    # A SIGKILLed replica: nginx's refused connect moves on, so GETs keep answering from the other two.
    victim = c.replicas[1]
    victim.sigkill()
    after = [upstream_of_get(c) for _ in range(6)]
    assert victim.address not in after and set(after) == set(addresses) - {victim.address}, after
    victim.start()
    c.wait_rotation()  # nginx takes it back after fail_timeout (2 s)
    back = [upstream_of_get(c) for _ in range(3)]
    assert set(back) == set(addresses), back

    # Redis killed is gone (not paused), and comes back empty on the same port.
    assert c.redis.ping()
    c.redis.kill()
    assert not c.redis.ping()
    c.redis.start()
    assert c.redis.ping()


# --------------------------------------------------------------------------------------------------------------
# 1. A whole session across replicas
# --------------------------------------------------------------------------------------------------------------


def ok_result(result: types.CallToolResult, what: str) -> dict[str, Any]:
    text = result.content[0].text if result.content else ""
    assert not result.is_error, f"{what}: {text}"
    return result.structured_content or {}


@pytest.mark.time_limit(60)
@pytest.mark.parametrize("mode", ["legacy", MODERN_VERSION])
async def test_1_whole_session_moves_between_replicas(healthy: Cluster, mode: str) -> None:
    """legacy: a 2025-11-25 session (initialize, Mcp-Session-Id) whose confirmation is an elicitation/create on the
    call's stream answered by a separate POST. 2026-07-28: no session; the confirmation is input_required and a
    second tools/call carrying the sealed requestState."""
    c = healthy
    rec = HopRecorder()
    asked: list[str] = []
    marker = round(100_000 + uuid.uuid4().int % 800_000 + 0.25, 2)

    async def confirm(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        asked.append(params.message)
        return types.ElicitResult(action="accept", content={"approve": True})

    # The opportunity the confirmed write changes, and its amount before, read from the CRM itself.
    opportunities = c.crm.list_all("opportunities")
    assert opportunities, "the demo CRM has no opportunities"
    opp = opportunities[-1]
    before = opp.get("amount")
    try:
        async with c.client("acme", rec, elicitation_callback=confirm, mode=mode) as client:
            assert client.protocol_version == ("2025-11-25" if mode == "legacy" else MODERN_VERSION)
            tools = await list_all_tools(client)
            names = {t.name for t in tools}
            assert {"erp__list_cost_centers", "hr__search_employees", "warehouse__run_sql", "crm__create_account",
                    "crm__update_opportunity"} <= names, sorted(names)

            # One call per backend.
            assert ok_result(await client.call_tool("erp__list_cost_centers", {}), "erp")
            assert ok_result(await client.call_tool("hr__list_departments", {}), "hr")
            rev = ok_result(await client.call_tool("warehouse__revenue_by_month", {
                "region": "EMEA", "from_date": "2025-01-01", "to_date": "2025-04-01"}), "warehouse")
            assert rev["rows"] and {row[1] for row in rev["rows"]} == {"EMEA"}
            accounts = ok_result(await client.call_tool("crm__search_accounts", {"limit": 3}), "crm")
            assert accounts

            # HR search continued with its cursor (the next page is served by another replica).
            first = ok_result(await client.call_tool("hr__search_employees", {"page_size": 2}), "hr page 1")
            assert len(first["items"]) == 2 and first["next_cursor"], first
            second = ok_result(await client.call_tool("hr__search_employees", {"page_size": 2, "cursor": first["next_cursor"]}),
                               "hr page 2 (cursor)")
            ids1 = [e["employee_id"] for e in first["items"]]
            ids2 = [e["employee_id"] for e in second["items"]]
            assert len(ids2) == 2 and not set(ids1) & set(ids2) and ids2[0] > ids1[-1], (ids1, ids2)

            # Warehouse run_sql truncated at max_rows 5, continued with its cursor.
            sql = "SELECT order_id, total FROM analytics.orders ORDER BY order_id"
            page1 = ok_result(await client.call_tool("warehouse__run_sql", {"sql": sql}), "run_sql page 1")
            assert page1["truncated"] is True and len(page1["rows"]) == 5 and page1["next_cursor"], page1
            page2 = ok_result(await client.call_tool("warehouse__run_sql", {"cursor": page1["next_cursor"]}),
                              "run_sql page 2 (cursor)")
            assert page2["rows"] and page2["rows"][0][0] > page1["rows"][-1][0], (page1["rows"], page2["rows"])

            # A confirmed write: the broker asks (elicitation/create on the call's stream), the answer is a new POST.
            updated = ok_result(await client.call_tool("crm__update_opportunity", {
                "id": opp["id"], "body": {"amount": {"value": marker, "currency": "EUR"}}}), "confirmed update")
            assert len(asked) == 1 and "crm__update_opportunity" in asked[0], asked
            assert updated.get("id", opp["id"]) == opp["id"]
        status, now = c.crm.request("GET", f"/api/v1/opportunities?limit=100&account_id={opp['account_id']}")
        assert status == 200, now
        [after] = [o for o in now["data"] if o["id"] == opp["id"]]
        assert after["amount"]["value"] == marker, after
    finally:
        if before is not None:
            c.crm.request("PATCH", f"/api/v1/opportunities/{opp['id']}", {"amount": before})

    # Which replica answered what: every hop named one, all three took part, and consecutive requests moved.
    hops = [h for h in rec.hops if h.upstream is not None]
    assert len(hops) == len(rec.hops), [(h.label, h.status) for h in rec.hops if h.upstream is None]
    replicas = [c.replica_of(h.upstream) for h in hops]
    assert None not in replicas, [h.upstream for h in hops]
    trace = [(h.label, r, h.status) for h, r in zip(hops, replicas)]
    assert len(set(replicas)) == 3, trace
    changes = sum(1 for a, b in zip(replicas, replicas[1:]) if a != b)
    assert changes >= 0.8 * (len(replicas) - 1), f"only {changes} replica changes in {len(replicas)} requests: {trace}"

    def replica_of_call(tool: str, arg: str | None = None, present: bool = True) -> list[int]:
        return [r for h, r in zip(hops, replicas) if h.label == f"tools/call {tool}" and (arg is None or (arg in h.arguments) == present)]

    # The continuations really were served by another replica than the first page (the point of the scenario).
    [hr1], [hr2] = replica_of_call("hr__search_employees", "cursor", False), replica_of_call("hr__search_employees", "cursor")
    [wh1], [wh2] = replica_of_call("warehouse__run_sql", "sql"), replica_of_call("warehouse__run_sql", "cursor")
    assert hr1 != hr2 and wh1 != wh2, trace
    if mode == "legacy":
        [asking] = replica_of_call("crm__update_opportunity")
        answers = [r for h, r in zip(hops, replicas) if h.label == "response"]
        assert answers and answers[0] != asking, f"the confirmation answer should land on another replica: {trace}"
    else:
        asking, answered = replica_of_call("crm__update_opportunity")
        assert asking != answered, f"the confirmed round should land on another replica: {trace}"
    assert all(h.status in (200, 202) for h in hops if h.method == "POST"), trace


# --------------------------------------------------------------------------------------------------------------
# 2. A global tenant × tool limit
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.time_limit(45)
async def test_2_tenant_tool_limit_holds_across_replicas(healthy: Cluster) -> None:
    """globex × hr__list_departments is used by no other scenario: a fresh 10/s burst 20 bucket."""
    c = healthy
    rec = HopRecorder()
    outcomes: list[str] = []
    tool, rate, seconds = "hr__list_departments", 50, 10
    async with c.client("globex", rec) as client:
        await list_all_tools(client)
        t0 = time.monotonic()

        async def one(i: int) -> None:
            await anyio.sleep(max(0.0, t0 + i / rate - time.monotonic()))
            try:
                r = await client.call_tool(tool, {}, read_timeout_seconds=10)
            except MCPError as e:
                outcomes.append(f"mcp error {e.error.code}: {e.error.message}")
                return
            code = result_code(r)
            outcomes.append("accepted" if code is None else code)

        async with anyio.create_task_group() as tg:
            for i in range(rate * seconds):
                tg.start_soon(one, i)
        elapsed = time.monotonic() - t0
    counts = Counter(outcomes)
    per_replica = Counter(c.replica_of(h.upstream) for h in rec.hops if h.label == f"tools/call {tool}")
    print(f"limit across replicas: {dict(counts)} in {elapsed:.2f} s; calls per replica {dict(per_replica)}")
    assert elapsed < seconds + 2.5, f"the client could not offer 50/s ({elapsed:.1f} s): the count would mean nothing"
    assert set(counts) <= {"accepted", RATE_LIMITED}, counts
    assert len(per_replica) == 3, per_replica
    assert 115 <= counts["accepted"] <= 125, f"{counts['accepted']} accepted (one bucket: 120; three local buckets: ~360)"


# --------------------------------------------------------------------------------------------------------------
# 3. SIGKILL of a replica during idempotent writes
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.time_limit(60)
@pytest.mark.parametrize("mode", ["legacy", MODERN_VERSION])
async def test_3_sigkill_of_a_replica_loses_and_duplicates_no_write(healthy: Cluster, mode: str) -> None:
    """In both eras: a 2025-11-25 session (its id must open on the surviving replicas) and 2026-07-28 requests."""
    c = healthy
    run = uuid.uuid4().hex[:10]
    prefix = f"e2e-replicas-{run}-"
    rate, total, kill_at = 8, 48, 2.5  # ~8 writes/s (under the 10/s tool limit) for 6 s, the kill at 2.5 s
    victim = c.replicas[2]
    attempts: list[dict[str, Any]] = []  # per attempt: i, key, start, end, ok, error
    acked: dict[int, str] = {}
    kill_time: list[float] = []
    rec = HopRecorder()

    async with c.client("acme", rec, mode=mode) as client:
        await list_all_tools(client)
        t0 = time.monotonic()

        async def write(i: int) -> None:
            await anyio.sleep(max(0.0, t0 + i / rate - time.monotonic()))
            key = f"rep-{run}-{i:04d}"
            args = {"Idempotency-Key": key, "body": {"name": f"{prefix}{i:04d}", "industry": "media", "country": "IS"}}
            for attempt in range(4):
                start = time.monotonic()
                error = None
                try:
                    r = await client.call_tool("crm__create_account", args, read_timeout_seconds=10)
                    if r.is_error:
                        error = f"{result_code(r)}: {r.content[0].text if r.content else ''}"
                except MCPError as e:
                    error = f"mcp error {e.error.code}: {e.error.message}"
                attempts.append({"i": i, "key": key, "attempt": attempt, "start": start - t0, "end": time.monotonic() - t0,
                                 "error": error})
                if error is None:
                    acked[i] = key
                    return
                await anyio.sleep(0.3)  # then the SAME key again

        async def killer() -> None:
            await anyio.sleep(kill_at)
            kill_time.append(time.monotonic() - t0)
            await anyio.to_thread.run_sync(victim.sigkill)

        async with anyio.create_task_group() as tg:
            tg.start_soon(killer)
            for i in range(total):
                tg.start_soon(write, i)
    await anyio.to_thread.run_sync(victim.start)

    [k] = kill_time
    failed = [a for a in attempts if a["error"]]
    print(f"writes: {len(acked)}/{total} acknowledged, {len(failed)} failed attempts, kill at {k:.2f} s: "
          f"{[(a['i'], round(a['start'], 2), round(a['end'], 2), a['error'][:60]) for a in failed]}")
    assert sorted(acked) == list(range(total)), f"unacknowledged writes: {sorted(set(range(total)) - set(acked))}"
    assert victim.address in {h.upstream for h in rec.hops if h.at - t0 < k}, "the killed replica served nothing before"
    # Errors only for requests in flight on the killed replica at the kill: started before it, ended after it.
    for a in failed:
        assert a["start"] <= k + 0.05 and a["end"] >= k - 0.05, f"an error away from the kill: {a}"
        served_by = {h.upstream for h in rec.hops if h.arguments.get("Idempotency-Key") == a["key"]
                     and a["start"] - 0.01 <= h.at - t0 <= a["end"] + 0.01}
        assert served_by <= {victim.address}, f"a failed write was answered by a surviving replica: {a} {served_by}"
    in_flight = [a for a in attempts if a["start"] <= k <= a["end"]]
    assert len(failed) <= len(in_flight), (failed, in_flight)
    # After the kill the two others take every call.
    later = [a for a in attempts if a["start"] > k + 0.05]
    assert later and all(a["error"] is None for a in later), later
    assert victim.address not in {h.upstream for h in rec.hops if h.at - t0 > k + 0.05}

    # The CRM holds every acknowledged write exactly once.
    names = Counter(a["name"] for a in c.crm.list_all("accounts", industry="media", country="IS") if a["name"].startswith(prefix))
    expected = {f"{prefix}{i:04d}" for i in acked}
    assert set(names) == expected, f"missing {sorted(expected - set(names))}, unexpected {sorted(set(names) - expected)}"
    assert all(n == 1 for n in names.values()), {name: n for name, n in names.items() if n != 1}


# --------------------------------------------------------------------------------------------------------------
# 4. Redis down for 5 s
# --------------------------------------------------------------------------------------------------------------

@pytest.mark.time_limit(60)
async def test_4_redis_outage_degrades_and_recovers(healthy: Cluster) -> None:
    c = healthy
    # Before: no replica blames shared state.
    for r in c.replicas:
        status, body = r.readyz()
        assert not shared_state_degraded(status, body), (r.name, body)

    calls: list[tuple[float, str | None]] = []
    readyz: dict[int, list[tuple[float, int, Any]]] = {r.index: [] for r in c.replicas}
    outage = 5.0
    async with c.client("acme") as client:
        await list_all_tools(client)
        t0 = time.monotonic()
        await anyio.to_thread.run_sync(c.redis.kill)

        async def caller() -> None:
            while time.monotonic() - t0 < outage:
                try:
                    r = await client.call_tool("hr__get_employee", {"employee_id": "21000001"}, read_timeout_seconds=10)
                    calls.append((time.monotonic() - t0, result_code(r) if r.is_error else None))
                except MCPError as e:
                    calls.append((time.monotonic() - t0, f"mcp error {e.error.code}: {e.error.message}"))
                await anyio.sleep(0.25)

        async def prober() -> None:
            while time.monotonic() - t0 < outage:
                for r in c.replicas:
                    status, body = await anyio.to_thread.run_sync(r.readyz)
                    readyz[r.index].append((time.monotonic() - t0, status, body))
                await anyio.sleep(0.3)

        async with anyio.create_task_group() as tg:
            tg.start_soon(caller)
            tg.start_soon(prober)
        await anyio.to_thread.run_sync(c.redis.start)
        back = time.monotonic()

        # Calls kept working under the local fallback.
        failures = [x for x in calls if x[1] is not None]
        print(f"during the outage: {len(calls)} calls, failures {failures}")
        assert len(calls) >= 10 and not failures, failures
        # Each replica said so on its own /readyz (200, degraded, shared state named).
        for index, seen in readyz.items():
            assert any(shared_state_degraded(s, b) for _, s, b in seen), \
                f"replica{index} never reported '{SHARED_STATE_DOWN}': {[(round(t, 1), s, b) for t, s, b in seen[-3:]]}"

        # Redis back: within a few seconds every replica is off the fallback.
        deadline = back + 8
        while True:
            states = [await anyio.to_thread.run_sync(r.readyz) for r in c.replicas]
            if not any(shared_state_degraded(s, b) for s, b in states):
                break
            assert time.monotonic() < deadline, f"still degraded 8 s after Redis returned: {states}"
            await anyio.sleep(0.2)
        print(f"recovered {time.monotonic() - back:.2f} s after Redis returned")

    # The shared limit holds again: 60 calls at once through nginx (20 per replica) on a fresh key, globex ×
    # erp__list_cost_centers (10/s burst 20). One shared bucket accepts its burst plus what refills meanwhile (~20
    # + 10/s × the burst's duration); three buckets of their own would accept all 60.
    tool = "erp__list_cost_centers"
    rec = HopRecorder()
    results: list[str | None] = []
    async with c.client("globex", rec) as client:
        await list_all_tools(client)
        started = time.monotonic()

        async def one() -> None:
            results.append(result_code(await client.call_tool(tool, {}, read_timeout_seconds=10)))

        async with anyio.create_task_group() as tg:
            for _ in range(60):
                tg.start_soon(one)
        span = time.monotonic() - started
    accepted = results.count(None)
    spread = Counter(c.replica_of(h.upstream) for h in rec.hops if h.label == f"tools/call {tool}")
    print(f"after recovery: {accepted}/60 accepted in {span:.2f} s, calls per replica {dict(spread)}")
    assert set(results) <= {None, RATE_LIMITED}, Counter(results)
    assert len(spread) == 3, spread
    assert 18 <= accepted <= 20 + 10 * span + 2, f"{accepted} of 60 accepted (one shared bucket: ~{20 + 10 * span:.0f})"
