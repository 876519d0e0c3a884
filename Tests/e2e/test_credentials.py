"""A misconfigured backend credential: the plugin's ERP password differs from the one the ERP accepts."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from e2e_helpers import SECRETS, HTTPBroker, broker_env, get_json
from sdk_contract import call_error, call_ok

WRONG_PASSWORD = "wrong-" + secrets.token_hex(10)


def wrong_erp_env() -> dict[str, str]:
    return broker_env(ERP_PASSWORD=WRONG_PASSWORD)


@pytest.fixture(scope="module")
def degraded_broker(broker_bin: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HTTPBroker]:
    """A second, short-lived HTTP server started with the wrong ERP password."""
    broker = HTTPBroker(tmp_path_factory.mktemp("degraded"), name="degraded", env=wrong_erp_env()).start()
    try:
        yield broker
    finally:
        broker.stop()


def assert_no_secret(text: str) -> None:
    assert WRONG_PASSWORD not in text, "the presented password leaked"
    for name, value in SECRETS.items():
        assert value not in text, f"the value of {name} leaked"


@pytest.mark.anyio
async def test_erp_call_reports_rejected_credentials(connect_stdio: Any) -> None:
    async with connect_stdio("legacy", env=wrong_erp_env(), name="wrong-erp") as c:
        text, meta = await call_error(c, "erp__search_purchase_orders", {"page_size": 1})
        assert "rejected the broker's credentials" in text, text
        assert meta.get("code") == "backend_credentials_rejected", meta
        assert meta.get("backend") == "erp", meta
        assert_no_secret(text)
        # The other backend is unaffected.
        departments = await call_ok(c, "hr__list_departments", {})
        assert departments


def test_readyz_is_degraded(degraded_broker: HTTPBroker) -> None:
    status, body = get_json(f"{degraded_broker.base}/readyz")
    assert status == 200, (status, body)
    assert body["status"] == "degraded", body
    erp = body["backends"]["erp"]
    assert erp["status"] == "down", body
    # The unauthenticated body says which backend is down, not why (a reason may name hosts or secret references);
    # the reason is in the operators' log.
    assert erp.get("reason") == "health check failed; see the broker log", body
    assert body["backends"]["hr"]["status"] == "up", body
    assert_no_secret(str(body))
    assert "ERP_PASSWORD" not in str(body) and "env:" not in str(body), body
    log = degraded_broker.stderr_text()
    assert any("backend not ready" in line and "credential" in line.lower() and '"erp"' in line for line in log.splitlines()), log[-2000:]


def test_degraded_broker_logs_no_secret(degraded_broker: HTTPBroker) -> None:
    get_json(f"{degraded_broker.base}/readyz")
    assert_no_secret(degraded_broker.stderr_text())
