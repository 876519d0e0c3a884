"""Shared helpers for the deployment checks: paths, podman (in scripts/image.sh's storage), chart rendering."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "mcp-broker"
DOCKERFILE = ROOT / "Dockerfile"
IMAGE_SCRIPT = ROOT / "scripts" / "image.sh"
KUBE_VERSION = "1.30.0"


def chart_app_version() -> str:
    match = re.search(r'^appVersion:\s*"?([^"\n]+)"?', (CHART / "Chart.yaml").read_text(), re.M)
    assert match, "Chart.yaml has no appVersion"
    return match.group(1)


IMAGE = f"{os.environ.get('MCP_BROKER_IMAGE', 'localhost/mcp-broker')}:{chart_app_version()}"


def podman_env() -> dict[str, str]:
    """The environment that points podman at scripts/image.sh's storage and containers.conf (runc, ulimits)."""
    out = subprocess.run([str(IMAGE_SCRIPT), "env"], check=True, capture_output=True, text=True).stdout
    env = dict(os.environ)
    for assignment in shlex.split(out.strip().removeprefix("export ")):
        key, _, value = assignment.partition("=")
        env[key] = value
    return env


def podman(*args: str, check: bool = True, timeout: float = 120, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout, env=env or podman_env())
    if check and result.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)} -> {result.returncode}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


# Values every render needs: the Secret's name is required.
BASE_VALUES: dict[str, Any] = {"existingSecret": "mcp-broker-credentials"}


def render(values: dict[str, Any] | None = None, name: str = "mcp-broker", namespace: str = "mcp") -> dict[str, str]:
    """Renders the chart with the real Helm library (helm-python-sdk: Helm v4's Go code, offline)."""
    import helm_python

    merged = dict(BASE_VALUES)
    merged.update(values or {})
    chart = helm_python.Chart.load(str(CHART))
    try:
        return chart.render(merged, name=name, namespace=namespace, is_install=True)
    finally:
        chart.close()


def objects(rendered: dict[str, str], include_tests: bool = True) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path, text in sorted(rendered.items()):
        if path.endswith("NOTES.txt") or (not include_tests and "/tests/" in path):
            continue
        docs.extend(d for d in yaml.safe_load_all(text) if d)
    return docs


def by_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d.get("kind") == kind]


# prometheus-operator's custom resources (ServiceMonitor, PrometheusRule): kubernetes-validate has no schema for
# them; Tests/deploy/test_observability.py checks them instead (the endpoint port exists, the rules pass promtool).
OPERATOR_API_VERSION = "monitoring.coreos.com/v1"


def has_kubernetes_schema(doc: dict[str, Any]) -> bool:
    return doc.get("apiVersion") != OPERATOR_API_VERSION
