"""The `mcp-broker` command line: validate, tools, call."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from e2e_helpers import SECRETS, TEST_CONFIG, run_cli


@pytest.fixture
def config_copy(tmp_path: Path) -> Path:
    path = tmp_path / "broker.yaml"
    path.write_text(TEST_CONFIG.read_text())
    return path


def test_validate_accepts_the_test_config(broker_bin: str) -> None:
    r = run_cli("validate", str(TEST_CONFIG))
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("OK:"), r.stdout
    assert "4 backends" in r.stdout
    assert "tenants served: acme, globex\n" in r.stdout, r.stdout
    assert "backend crm: shared credentials: no (own credential sets: acme, globex; any other tenant is refused)" in r.stdout


def test_validate_refuses_an_unknown_key(broker_bin: str, config_copy: Path) -> None:
    text = config_copy.read_text()
    assert "    idle_timeout_s: 60\n" in text
    config_copy.write_text(text.replace("    idle_timeout_s: 60\n", "    idle_timeout_s: 60\n    idle_timout_s: 5\n"))
    r = run_cli("validate", str(config_copy))
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert r.stderr.startswith("configuration error: "), r.stderr
    # configuration error: <file>:<line>: <key.path>: <reason>
    m = re.search(r"configuration error: (.+?):(\d+): (\S+): (.+)", r.stderr)
    assert m, r.stderr
    assert m.group(1) == str(config_copy)
    assert m.group(3) == "server.http.idle_timout_s"
    assert "unknown key" in m.group(4)
    line_of_key = config_copy.read_text().splitlines().index("    idle_timout_s: 5") + 1
    assert abs(int(m.group(2)) - line_of_key) <= 1, f"reported line {m.group(2)}, key is on line {line_of_key}"


def test_validate_refuses_an_unknown_backend_key(broker_bin: str, config_copy: Path) -> None:
    text = config_copy.read_text()
    config_copy.write_text(text.replace("      latency_ms: 0\n  hr:", "      latency_ms: 0\n      latncy_ms: 5\n  hr:"))
    r = run_cli("validate", str(config_copy))
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert str(config_copy) in r.stderr and "backends.erp.system.latncy_ms" in r.stderr, r.stderr


def test_validate_refuses_inline_secrets(broker_bin: str, config_copy: Path) -> None:
    text = config_copy.read_text()
    assert "password: env:ERP_PASSWORD" in text
    config_copy.write_text(text.replace("password: env:ERP_PASSWORD", "password: hunter2"))
    r = run_cli("validate", str(config_copy))
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert "inline secrets are refused" in r.stderr, r.stderr
    assert "backends.erp.credentials.password" in r.stderr, r.stderr
    assert "hunter2" not in r.stderr + r.stdout, "the refused secret was echoed"


def test_validate_reports_a_missing_secret(broker_bin: str) -> None:
    from e2e_helpers import broker_env

    env = broker_env()
    del env["HR_API_KEY"]
    r = run_cli("validate", str(TEST_CONFIG), env=env)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "HR_API_KEY" in r.stderr and "backends.hr.credentials.api_key" in r.stderr, r.stderr


def test_tools_lists_the_catalogue(broker_bin: str) -> None:
    r = run_cli("tools", "--config", str(TEST_CONFIG))
    assert r.returncode == 0, r.stderr
    names = re.findall(r"^((?:erp|hr|warehouse|crm)__[a-z_]+)\s", r.stdout, flags=re.M)
    assert len(names) >= 15, r.stdout
    assert len(names) == len(set(names))
    assert "erp__search_purchase_orders" in names and "hr__get_employee" in names
    m = re.search(r"^(\d+) tools from 4 backends$", r.stdout, flags=re.M)
    assert m and int(m.group(1)) == len(names), r.stdout


def test_call_prints_json(broker_bin: str) -> None:
    r = run_cli("call", "--config", str(TEST_CONFIG), "hr__list_departments", "{}")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert isinstance(doc, dict) and doc, r.stdout
    departments = next(v for v in doc.values() if isinstance(v, list))
    assert len(departments) >= 10, doc


def test_call_reports_tool_errors(broker_bin: str) -> None:
    r = run_cli("call", "--config", str(TEST_CONFIG), "erp__get_purchase_order", '{"po_number": "9999999999"}')
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert "not found" in r.stdout.lower()


def test_call_unknown_tool_exits_2(broker_bin: str) -> None:
    r = run_cli("call", "--config", str(TEST_CONFIG), "erp__nope", "{}")
    assert r.returncode == 2 and "erp__nope" in r.stderr, (r.returncode, r.stderr)


def test_cli_output_has_no_secrets(broker_bin: str) -> None:
    r = run_cli("call", "--config", str(TEST_CONFIG), "erp__list_cost_centers", "{}")
    assert r.returncode == 0, r.stderr
    for name, value in SECRETS.items():
        assert value not in r.stdout + r.stderr, name
