"""Runs last (file order): it restarts the shared PostgreSQL cluster.

PostgreSQL restarted twice under steady write load: no acknowledged write is lost, the broker recovers by
itself, and errors appear only in short windows around the restarts. The writes go through a named query declared
`write: true` (INSERT … ON CONFLICT DO NOTHING on a per-tenant idempotency key), retried with the same key."""

from __future__ import annotations

import os
import subprocess
import threading
import time
import uuid

import pytest

from e2e_helpers import REPO_ROOT, get_json
from test_resilience import Session, code, config, start  # noqa: F401 (start is a fixture)

WAREHOUSE = f"""
  warehouse:
    kind: postgres
    connection: {{ host: 127.0.0.1, port: {os.environ.get("WH_PORT", "55432")}, database: warehouse, sslmode: disable, connect_timeout_ms: 1000 }}
    tenants:
      acme: {{ user: wh_acme, password: env:WH_ACME_PASSWORD }}
      globex: {{ user: wh_globex, password: env:WH_GLOBEX_PASSWORD }}
    pool: {{ min: 1, max: 4, acquire_timeout_ms: 1000 }}
    schema: analytics
    resilience: {{ max_concurrent: 8, breaker: {{ failures: 20, open_ms: 200, open_max_ms: 1000 }} }}
    queries:
      record_event:
        description: Records one ingest event; the same idempotency key always lands once.
        write: true
        sql: >-
          INSERT INTO analytics.ingest_events (tenant, idempotency_key, note) VALUES ($1, $2, $3)
          ON CONFLICT (tenant, idempotency_key) DO NOTHING RETURNING idempotency_key
        parameters:
          tenant: {{ bind: tenant }}
          key: {{ type: string, required: true, pattern: "^[a-z0-9-]{{8,64}}$" }}
          note: {{ type: string, max_length: 200 }}
        timeout_ms: 2000
"""

RUN_SECONDS = 60
RESTARTS_AT = (15, 35)


def stored_keys() -> set[str]:
    env = dict(os.environ, PGPASSWORD=os.environ["WH_ACME_PASSWORD"])
    out = subprocess.run(["psql", "-h", "127.0.0.1", "-p", os.environ.get("WH_PORT", "55432"), "-U", "wh_acme", "-d", "warehouse",
                          "-tAc", "SELECT idempotency_key FROM analytics.ingest_events"], env=env, capture_output=True, text=True, check=True)
    return set(out.stdout.split())


@pytest.mark.time_limit(150)
def test_postgres_restarted_twice_under_load_loses_no_acknowledged_write(start) -> None:
    broker = start(config(backends=WAREHOUSE))
    acked: list[str] = []
    errors: list[tuple[float, str]] = []
    lock = threading.Lock()
    stop = threading.Event()
    t0 = time.monotonic()

    def worker() -> None:
        s = Session(broker)
        while not stop.is_set():
            key = uuid.uuid4().hex
            while True:  # the client's side of idempotency: retry the same key until it is acknowledged
                r = s.call("warehouse__record_event", {"key": key, "note": "load"})
                if not r.get("isError"):
                    with lock:
                        acked.append(key)
                    break
                with lock:
                    errors.append((time.monotonic() - t0, code(r) or "?"))
                assert r["_meta"]["mcp-broker/error"]["retriable"], r["content"][0]["text"]
                time.sleep(0.1)
            time.sleep(0.01)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    windows = []
    for at in RESTARTS_AT:
        time.sleep(max(0, t0 + at - time.monotonic()))
        began = time.monotonic() - t0
        subprocess.run([str(REPO_ROOT / "scripts" / "pg.sh"), "restart"], check=True, capture_output=True, timeout=60)
        windows.append((began, time.monotonic() - t0))
    time.sleep(max(0, t0 + RUN_SECONDS - time.monotonic()))
    stop.set()
    for t in threads:
        t.join(timeout=30)

    missing = set(acked) - stored_keys()
    print(f"\npg restarts at {windows}: {len(acked)} acknowledged writes, {len(missing)} missing, {len(errors)} errors "
          f"at {sorted({round(t, 1) for t, _ in errors})[:20]}")
    assert len(acked) > 500, len(acked)
    assert not missing, f"{len(missing)} acknowledged writes are not in the database"
    assert len(set(acked)) == len(acked)
    # Errors only inside short recovery windows around each restart.
    for t, c in errors:
        assert any(start - 0.5 <= t <= end + 5 for start, end in windows), (t, c, windows)
    # Recovered without restarting the broker: writes after the last window succeeded, and readiness is green.
    status, ready = get_json(f"{broker.base}/readyz")
    assert ready["backends"]["warehouse"]["status"] == "up", ready
