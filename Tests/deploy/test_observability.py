"""The Grafana dashboard, the Prometheus alert rules and the chart's metrics objects, checked against the metric list.

- deploy/prometheus/alerts.yaml: `promtool check rules`, and `promtool test rules alerts.test.yaml` with a firing and a
  not-firing case for every alert (promtool: Debian's `prometheus` package, binary only, see scripts/common.sh).
- Every metric name in any alert, dashboard query, variable or annotation is one of deploy/metrics.md's, with only
  the labels that metric has; every documented metric is on the dashboard; every dashboard query is valid PromQL.
- deploy/grafana/mcp-broker.json: every panel has the ${DS_PROMETHEUS} datasource and queries; backend/tool/tenant
  variables from label_values; no overlapping panels.
- The chart: the PrometheusRule carries exactly alerts.yaml's rules, the ServiceMonitor scrapes the Service's
  `metrics` port, and the metrics port, scrape annotations, NetworkPolicy and rendered server.metrics agree.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy_support import CHART, ROOT, by_kind, objects, render

DEPLOY = ROOT / "deploy"
ALERTS = DEPLOY / "prometheus" / "alerts.yaml"
ALERT_TESTS = DEPLOY / "prometheus" / "alerts.test.yaml"
CHART_ALERTS = CHART / "files" / "prometheus-alerts.yaml"
DASHBOARD = DEPLOY / "grafana" / "mcp-broker.json"
METRICS_DOC = DEPLOY / "metrics.md"
RUNBOOK = DEPLOY / "README.md"
BROKER_ERROR = ROOT / "Sources" / "BrokerCore" / "Errors" / "BrokerError.swift"

# The documented metrics (deploy/metrics.md) and their labels. Histograms also appear as NAME_bucket (with `le`),
# NAME_sum and NAME_count. test_the_allowed_names_are_the_documented_list keeps this in step with the document.
HISTOGRAMS: dict[str, set[str]] = {
    "mcp_server_operation_duration_seconds": {"mcp_method_name", "gen_ai_tool_name", "error_type", "mcp_protocol_version",
                                              "network_transport"},
    "mcp_server_session_duration_seconds": {"mcp_protocol_version", "network_transport"},
    "mcp_broker_backend_duration_seconds": {"backend", "tool"},
    "mcp_broker_overhead_seconds": {"backend"},
}
SERIES: dict[str, set[str]] = {
    "mcp_broker_tool_calls_total": {"backend", "tool", "tenant", "outcome"},
    "mcp_broker_rate_limited_total": {"scope", "tenant"},
    "mcp_broker_breaker_state": {"backend"},
    "mcp_broker_breaker_transitions_total": {"backend", "to"},
    "mcp_broker_bulkhead_in_flight": {"backend"},
    "mcp_broker_bulkhead_queued": {"backend"},
    "mcp_broker_bulkhead_rejected_total": {"backend"},
    "mcp_broker_pg_pool_connections": {"backend", "state"},
    "mcp_broker_pg_pool_waiting": {"backend"},
    "mcp_broker_pg_pool_connect_failures_total": {"backend"},
    "mcp_broker_rest_requests_total": {"backend", "connection"},
    "mcp_broker_cache_lookups_total": {"backend", "result"},
    "mcp_broker_sessions_open": {"transport"},
    "mcp_broker_in_flight_requests": set(),
    "mcp_broker_http_refusals_total": {"status", "reason"},
    "mcp_broker_audit_write_failures_total": set(),
    "mcp_broker_config_reloads_total": {"result"},
    "mcp_broker_config_info": {"hash"},
    "mcp_broker_config_last_reload_failed": set(),
    "mcp_broker_build_info": {"version"},
    "mcp_broker_memory_watermark_bytes": set(),
    "mcp_broker_shared_state_fallbacks_total": {"operation"},
    "mcp_broker_shared_state_available": set(),
    "process_resident_memory_bytes": set(),
    "process_cpu_seconds_total": set(),
    "process_start_time_seconds": set(),
    "process_open_fds": set(),
}
# Labels Prometheus adds to every scraped series.
TARGET_LABELS = {"job", "instance"}


def allowed_series() -> dict[str, set[str]]:
    """Every series name a query may use, with its labels."""
    names = {name: labels | TARGET_LABELS for name, labels in SERIES.items()}
    for name, labels in HISTOGRAMS.items():
        names[f"{name}_bucket"] = labels | TARGET_LABELS | {"le"}
        names[f"{name}_sum"] = labels | TARGET_LABELS
        names[f"{name}_count"] = labels | TARGET_LABELS
    return names


# --- A small PromQL reader: enough to find metric names, their matchers and the grouping labels ----------------

FUNCTIONS_AND_KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "offset",
                          "bool", "inf", "nan"}
GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")
SELECTOR = re.compile(r"(?<![\w.:$])([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{[^}]*\})?\s*(\()?")


def grafana_to_promql(expr: str) -> str:
    """Grafana's variables replaced by values Prometheus accepts (`$job` etc. occur only inside label values)."""
    expr = re.sub(r"\$__(rate_interval|interval|range)\b", "5m", expr)
    return re.sub(r"\$\{?(\w+)\}?", r"\1", expr)


def read_promql(expr: str) -> tuple[list[tuple[str, set[str]]], set[str]]:
    """(metric name, label names in its matchers) for every selector, and every label named in a grouping clause."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', grafana_to_promql(expr))
    grouping: set[str] = set()
    for _, labels in GROUPING.findall(text):
        grouping |= {label.strip() for label in labels.split(",") if label.strip()}
    text = GROUPING.sub(" ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    selectors = []
    for name, matchers, call in SELECTOR.findall(text):
        if call and not matchers:
            continue  # a function or an aggregation: sum(, rate(, histogram_quantile(
        if name.lower() in FUNCTIONS_AND_KEYWORDS:
            continue
        labels = {m.split("=")[0].rstrip("!~").strip() for m in matchers.strip("{}").split(",") if m.strip()}
        selectors.append((name, labels))
    return selectors, grouping


def test_the_promql_reader_finds_names_labels_and_grouping() -> None:
    selectors, grouping = read_promql(
        'sum by (backend, le) (rate(mcp_broker_backend_duration_seconds_bucket{job=~"$job", tool!="x,y"}[$__rate_interval]))'
        ' / on (job) group_left (version) max(mcp_broker_build_info) > bool 0.9 * process_open_fds offset 5m or vector(1)')
    assert selectors == [("mcp_broker_backend_duration_seconds_bucket", {"job", "tool"}), ("mcp_broker_build_info", set()),
                         ("process_open_fds", set())]
    assert grouping == {"backend", "le", "job", "version"}


def check_expression(expr: str, where: str) -> set[str]:
    """Asserts the expression uses only documented metrics, each with its own labels; returns the names used."""
    series = allowed_series()
    selectors, grouping = read_promql(expr)
    assert selectors, f"{where}: no metric in {expr!r}"
    used = set()
    known_labels: set[str] = set()
    for name, labels in selectors:
        assert name in series, f"{where}: {name} is not in deploy/metrics.md ({expr!r})"
        assert labels <= series[name], f"{where}: {name} has no label {labels - series[name]} ({expr!r})"
        used.add(name)
        known_labels |= series[name]
    assert grouping <= known_labels, f"{where}: grouping by {grouping - known_labels}, which none of {used} has"
    return used


def base_name(series_name: str) -> str:
    for name in HISTOGRAMS:
        if series_name in (f"{name}_bucket", f"{name}_sum", f"{name}_count"):
            return name
    return series_name


# --- promtool --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def promtool() -> str:
    path = shutil.which("promtool")
    assert path, "promtool is not installed (scripts/common.sh ensure_promtool: Debian package prometheus, binary only)"
    return path


def run_promtool(promtool: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([promtool, *args], capture_output=True, text=True, timeout=120, cwd=cwd)


def alert_rules() -> list[dict[str, Any]]:
    (group,) = yaml.safe_load(ALERTS.read_text())["groups"]
    assert group["name"] == "mcp-broker"
    return group["rules"]


def test_the_allowed_names_are_the_documented_list() -> None:
    documented = set(re.findall(r"`((?:mcp_broker|mcp_server|process)_[a-z_]+)", METRICS_DOC.read_text()))
    assert documented == set(SERIES) | set(HISTOGRAMS), documented ^ (set(SERIES) | set(HISTOGRAMS))
    for name, labels in {**SERIES, **HISTOGRAMS}.items():
        line = next(line for line in METRICS_DOC.read_text().splitlines() if f"`{name}" in line)
        for label in labels:
            assert label in METRICS_DOC.read_text(), (name, label, line)


def test_promtool_check_rules(promtool: str) -> None:
    result = run_promtool(promtool, "check", "rules", str(ALERTS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(alert_rules())} rules found" in result.stdout, result.stdout


def test_promtool_test_rules(promtool: str) -> None:
    result = run_promtool(promtool, "test", "rules", ALERT_TESTS.name, cwd=ALERT_TESTS.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout and "FAILED" not in result.stdout + result.stderr, result.stdout + result.stderr


def test_promtool_test_rules_catches_a_wrong_threshold(promtool: str, tmp_path: Path) -> None:
    """The unit tests can fail: with the error-ratio threshold at 0.8 % the 0.9 % backend fires and the test says so."""
    shutil.copy(ALERT_TESTS, tmp_path / ALERT_TESTS.name)
    text = ALERTS.read_text()
    assert text.count(") > 0.01\n") == 1
    (tmp_path / ALERTS.name).write_text(text.replace(") > 0.01\n", ") > 0.008\n"))
    result = run_promtool(promtool, "test", "rules", ALERT_TESTS.name, cwd=tmp_path)
    report = result.stdout + result.stderr
    assert result.returncode != 0 and "FAILED" in report and 'backend="hr"' in report, report


def test_every_alert_has_severity_summary_description_and_a_runbook() -> None:
    runbook = RUNBOOK.read_text()
    names = [rule["alert"] for rule in alert_rules()]
    assert names == ["MCPBrokerBackendErrorRatioHigh", "MCPBrokerOperationLatencyHigh", "MCPBrokerBreakerOpen",
                     "MCPBrokerConfigReloadFailed", "MCPBrokerAuditWriteFailures", "MCPBrokerMemoryNearWatermark",
                     "MCPBrokerSharedStateDegraded"]
    for rule in alert_rules():
        name = rule["alert"]
        assert rule["labels"]["severity"] in {"critical", "warning"}, name
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], name
        anchor = name.lower()
        assert rule["annotations"]["runbook_url"] == f"deploy/README.md#{anchor}", name
        assert re.search(rf"^### {name}$", runbook, re.M), f"deploy/README.md has no runbook section for {name}"
        section = runbook.split(f"### {name}\n", 1)[1].split("\n### ", 1)[0]
        assert "**Check**" in section and "**Act**" in section, f"{name}: the runbook says what to check and what to do"


def test_every_alert_has_a_firing_and_a_not_firing_test() -> None:
    cases = [case for test in yaml.safe_load(ALERT_TESTS.read_text())["tests"] for case in test["alert_rule_test"]]
    for rule in alert_rules():
        mine = [case for case in cases if case["alertname"] == rule["alert"]]
        assert any(case["exp_alerts"] for case in mine), f"{rule['alert']}: no firing case"
        assert any(not case["exp_alerts"] for case in mine), f"{rule['alert']}: no not-firing case"


def test_alerts_use_only_documented_metrics() -> None:
    used = set()
    for rule in alert_rules():
        used |= check_expression(rule["expr"], rule["alert"])
    assert {base_name(name) for name in used} >= {"mcp_broker_tool_calls_total", "mcp_server_operation_duration_seconds",
                                                  "mcp_broker_breaker_state", "mcp_broker_config_last_reload_failed",
                                                  "mcp_broker_audit_write_failures_total", "mcp_broker_memory_watermark_bytes",
                                                  "process_resident_memory_bytes"}


def test_the_error_ratio_classifies_every_broker_error_code() -> None:
    """Fault outcomes are real BrokerError codes, and every code is either a fault or named as a caller outcome."""
    codes = set(re.findall(r'Code\(rawValue: "([a-z_]+)"\)', BROKER_ERROR.read_text()))
    assert {"invalid_arguments", "backend_unavailable", "internal"} <= codes, codes
    (rule,) = [r for r in alert_rules() if r["alert"] == "MCPBrokerBackendErrorRatioHigh"]
    (fault,) = re.findall(r'outcome=~"([^"]+)"', rule["expr"])
    faults = set(fault.split("|"))
    assert faults == {"backend_unavailable", "backend_error", "backend_credentials_rejected", "timeout", "internal"}
    assert faults <= codes, faults - codes
    description = rule["annotations"]["description"]
    caller = set(re.search(r"Caller mistakes and refusals \(([^)]*)\)", description).group(1).replace(" ", "").split(","))
    assert caller | faults == codes, f"unclassified outcomes: {codes - caller - faults}"
    assert not caller & faults


# --- The dashboard ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text())


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    flat = []
    for panel in dashboard["panels"]:
        flat.append(panel)
        flat.extend(panel.get("panels", []))
    return flat


def all_expressions(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    """(where, expr) for every query: panel targets, query variables, annotations."""
    found = [(f"panel {p['title']!r}", t["expr"]) for p in panels(dashboard) for t in p.get("targets", [])]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            query = variable["query"]["query"] if isinstance(variable["query"], dict) else variable["query"]
            match = re.fullmatch(r"label_values\((.*),\s*(\w+)\)", query)
            assert match, (variable["name"], query)
            found.append((f"variable {variable['name']}", match.group(1)))
    found += [(f"annotation {a['name']}", a["expr"]) for a in dashboard["annotations"]["list"] if "expr" in a]
    return found


def test_dashboard_model(dashboard: dict[str, Any]) -> None:
    assert dashboard["schemaVersion"] >= 36 and dashboard["uid"] == "mcp-broker" and dashboard["title"]
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["DS_PROMETHEUS"]["type"] == "datasource" and variables["DS_PROMETHEUS"]["query"] == "prometheus"
    for name, label in [("backend", "backend"), ("tool", "tool"), ("tenant", "tenant")]:
        query = variables[name]["query"]["query"]
        assert re.fullmatch(rf"label_values\(mcp_broker_tool_calls_total(\{{[^}}]*\}})?, {label}\)", query), query
        assert variables[name]["multi"] and variables[name]["includeAll"] and variables[name]["allValue"] == ".*"
        assert variables[name]["datasource"]["uid"] == "${DS_PROMETHEUS}"
    rows = [p["title"] for p in dashboard["panels"] if p["type"] == "row"]
    assert rows == ["Overview", "RED per backend", "RED per tool", "Broker overhead", "Limits", "Circuit breakers",
                    "Bulkheads", "PostgreSQL pools", "REST connection reuse", "Cache", "Sessions and requests",
                    "Configuration reloads", "Audit", "Process", "Shared state"], rows


def test_every_panel_has_the_datasource_and_queries(dashboard: dict[str, Any]) -> None:
    ids = [p["id"] for p in panels(dashboard)]
    assert len(ids) == len(set(ids)), "panel ids are unique"
    visible = [p for p in panels(dashboard) if p["type"] != "row"]
    assert len(visible) >= 40
    for panel in visible:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["expr"].strip() and target["refId"], panel["title"]
            assert target["datasource"]["uid"] == "${DS_PROMETHEUS}", panel["title"]
        assert panel.get("description"), f"{panel['title']}: say what the panel shows"
    for panel in dashboard["panels"]:
        if panel["type"] == "row":
            assert not panel.get("targets") and not panel.get("panels"), "rows are open: their panels follow them"


def test_panels_do_not_overlap(dashboard: dict[str, Any]) -> None:
    cells: dict[tuple[int, int], str] = {}
    for panel in panels(dashboard):
        pos = panel["gridPos"]
        assert pos["x"] >= 0 and pos["x"] + pos["w"] <= 24, panel["title"]
        for x in range(pos["x"], pos["x"] + pos["w"]):
            for y in range(pos["y"], pos["y"] + pos["h"]):
                assert (x, y) not in cells, f"{panel['title']!r} overlaps {cells[(x, y)]!r}"
                cells[(x, y)] = panel["title"]


def test_dashboard_uses_only_documented_metrics_and_shows_all_of_them(dashboard: dict[str, Any]) -> None:
    used = set()
    for where, expr in all_expressions(dashboard):
        used |= check_expression(expr, where)
    shown = {base_name(name) for name in used}
    assert shown == set(SERIES) | set(HISTOGRAMS), f"not on the dashboard: {set(SERIES) | set(HISTOGRAMS) - shown}"


def test_the_dashboard_filters_by_its_variables(dashboard: dict[str, Any]) -> None:
    for panel in panels(dashboard):
        for target in panel.get("targets", []):
            assert 'job=~"$job"' in target["expr"], f"{panel['title']}: every query is scoped to the broker's job"
            if "mcp_broker_tool_calls_total" in target["expr"]:
                for variable in ["backend", "tool", "tenant"]:
                    assert f'{variable}=~"${variable}"' in target["expr"], (panel["title"], variable)


def test_every_dashboard_query_is_valid_promql(promtool: str, dashboard: dict[str, Any], tmp_path: Path) -> None:
    """promtool parses each query (Grafana's variables substituted) as a recording rule."""
    rules = [{"record": f"dashboard:query_{i}", "expr": grafana_to_promql(expr)}
             for i, (_, expr) in enumerate(all_expressions(dashboard))]
    path = tmp_path / "dashboard-queries.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = run_promtool(promtool, "check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules)} rules found" in result.stdout


# --- The chart -------------------------------------------------------------------------------------------------

ALL_ON = {"metrics": {"serviceMonitor": {"enabled": True, "labels": {"release": "kps"}},
                      "prometheusRule": {"enabled": True, "labels": {"release": "kps"}}},
          "networkPolicy": {"metricsFrom": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}],
                            "ingressFrom": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}]}}


def broker_config(docs: list[dict[str, Any]]) -> dict[str, Any]:
    (cm,) = by_kind(docs, "ConfigMap")
    return yaml.safe_load(cm["data"]["broker.yaml"])


def pod_template(docs: list[dict[str, Any]]) -> dict[str, Any]:
    (deployment,) = by_kind(docs, "Deployment")
    return deployment["spec"]["template"]


def test_the_chart_copy_of_the_alerts_is_alerts_yaml() -> None:
    assert CHART_ALERTS.read_bytes() == ALERTS.read_bytes(), (
        "helm/mcp-broker/files/prometheus-alerts.yaml differs from deploy/prometheus/alerts.yaml: "
        "cp deploy/prometheus/alerts.yaml helm/mcp-broker/files/prometheus-alerts.yaml")


def test_the_prometheus_rule_carries_the_same_rules(promtool: str, tmp_path: Path) -> None:
    docs = objects(render(ALL_ON))
    (rule,) = by_kind(docs, "PrometheusRule")
    assert rule["apiVersion"] == "monitoring.coreos.com/v1" and rule["metadata"]["labels"]["release"] == "kps"
    assert rule["spec"] == yaml.safe_load(ALERTS.read_text())
    path = tmp_path / "rendered-rules.yaml"
    path.write_text(yaml.safe_dump(rule["spec"]))
    result = run_promtool(promtool, "check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_service_monitor_scrapes_the_metrics_port() -> None:
    docs = objects(render(ALL_ON))
    (monitor,) = by_kind(docs, "ServiceMonitor")
    (service,) = by_kind(docs, "Service")
    assert monitor["metadata"]["labels"]["release"] == "kps"
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["port"] == "metrics" and endpoint["path"] == "/metrics"
    assert re.fullmatch(r"[0-9]+(ms|s|m|h)", endpoint["interval"]) and re.fullmatch(r"[0-9]+(ms|s|m|h)", endpoint["scrapeTimeout"])
    assert monitor["spec"]["namespaceSelector"]["matchNames"] == [service["metadata"]["namespace"]]
    selector = monitor["spec"]["selector"]["matchLabels"]
    assert selector.items() <= service["metadata"]["labels"].items(), "the selector matches the Service"
    ports = {p["name"]: p for p in service["spec"]["ports"]}
    assert ports["metrics"]["port"] == 9464 and ports["metrics"]["targetPort"] == "metrics"


def test_metrics_port_annotations_and_rendered_config() -> None:
    docs = objects(render())
    assert not by_kind(docs, "ServiceMonitor") and not by_kind(docs, "PrometheusRule"), "both off by default"
    template = pod_template(docs)
    (container,) = [c for c in template["spec"]["containers"] if c["name"] == "broker"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"http": 8080, "metrics": 9464}
    annotations = template["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true" and annotations["prometheus.io/port"] == "9464"
    assert annotations["prometheus.io/path"] == "/metrics"
    assert broker_config(docs)["server"]["metrics"] == {"host": "0.0.0.0", "port": 9464, "path": "/metrics"}
    # The image's own configuration exposes the same listener.
    container_config = yaml.safe_load((ROOT / "config" / "container.yaml").read_text())
    assert container_config["server"]["metrics"] == {"host": "0.0.0.0", "port": 9464, "path": "/metrics"}

    moved = objects(render({"metrics": {"port": 9100, "path": "/internal/metrics", "scrapeAnnotations": False}}))
    (container,) = pod_template(moved)["spec"]["containers"]
    assert {p["name"]: p["containerPort"] for p in container["ports"]}["metrics"] == 9100
    assert "prometheus.io/scrape" not in pod_template(moved)["metadata"].get("annotations", {})
    assert broker_config(moved)["server"]["metrics"] == {"host": "0.0.0.0", "port": 9100, "path": "/internal/metrics"}


def test_the_network_policy_admits_scrapers_to_the_metrics_port_only() -> None:
    docs = objects(render(ALL_ON))
    (policy,) = by_kind(docs, "NetworkPolicy")
    rules = {rule["ports"][0]["port"]: rule for rule in policy["spec"]["ingress"]}
    assert set(rules) == {"http", "metrics"}
    assert rules["metrics"]["from"] == ALL_ON["networkPolicy"]["metricsFrom"]
    assert rules["http"]["from"] == ALL_ON["networkPolicy"]["ingressFrom"], "MCP clients' peers do not get /metrics"


def test_metrics_off_removes_the_listener_port_and_rule() -> None:
    docs = objects(render({"metrics": {"enabled": False}}))
    assert "metrics" not in broker_config(docs)["server"]
    (container,) = pod_template(docs)["spec"]["containers"]
    assert [p["name"] for p in container["ports"]] == ["http"]
    assert not pod_template(docs)["metadata"].get("annotations")
    (service,) = by_kind(docs, "Service")
    assert [p["name"] for p in service["spec"]["ports"]] == ["http"]
    (policy,) = by_kind(docs, "NetworkPolicy")
    assert [rule["ports"][0]["port"] for rule in policy["spec"]["ingress"]] == ["http"]


@pytest.mark.parametrize("values", [
    {"metrics": {"enabled": False, "serviceMonitor": {"enabled": True}}},
    {"metrics": {"enabled": False, "prometheusRule": {"enabled": True}}},
], ids=["service-monitor", "prometheus-rule"])
def test_scraping_or_alerting_without_metrics_is_refused(values: dict[str, Any]) -> None:
    import helm_python

    with pytest.raises(helm_python.HelmError) as caught:
        render(values)
    assert "need metrics.enabled" in str(caught.value)


@pytest.mark.parametrize("values", [{"metrics": {"port": 80}}, {"metrics": {"path": "metrics"}},
                                    {"metrics": {"serviceMonitor": {"interval": "often"}}}, {"metrics": {"port": 8080}}],
                         ids=["privileged-port", "relative-path", "bad-interval", "same-port-as-http"])
def test_bad_metrics_values_are_refused(values: dict[str, Any]) -> None:
    import helm_python

    with pytest.raises(helm_python.HelmError):
        render(values)
