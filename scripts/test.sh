#!/usr/bin/env bash
# Runs every test against real services: starts the private PostgreSQL warehouse (scripts/pg.sh), then Swift
# unit, integration (libpq against the real database) and in-process HTTP tests, then the end-to-end suite that drives the real
# mcp-broker binary with the official Python MCP SDK over stdio and HTTP, then the deployment checks: the container
# image built with podman from the Dockerfile (scripts/image.sh) and run --read-only against the same demo services,
# the Helm chart rendered, linted and scanned, and the Prometheus rules (promtool) and Grafana dashboard checked
# (Tests/deploy). Prints a final "N passed, N failed" line (every suite counted) and exits non-zero on any failure.
source "$(dirname "$0")/common.sh"
cd "$ROOT"
ensure_python_deps
ensure_promtool
start_warehouse
ensure_redis
build_broker --build-tests
start_crm
trap '"$ROOT/scripts/crm.sh" stop' EXIT

step "Swift tests (XCTest)"
set +e
swift test --skip-build 2>&1 | tee /tmp/mcp-broker-swift-test.log | grep -E "error:|failed|Executed|Test run with"
swift_rc=${PIPESTATUS[0]}
set -e
swift_summary=$( { grep -E "Executed [0-9]+ tests?" /tmp/mcp-broker-swift-test.log || true; } | tail -1)
swift_total=$(sed -E 's/.*Executed ([0-9]+) tests?.*/\1/' <<<"$swift_summary")
swift_failed=$(sed -E 's/.*with ([0-9]+) failures?.*/\1/' <<<"$swift_summary")
swift_total=${swift_total:-0}; swift_failed=${swift_failed:-0}
if [ "$swift_rc" -ne 0 ] && [ "$swift_failed" -eq 0 ]; then swift_failed=1; fi

step "The OTLP variant (package trait OTLP compiles swift-otel: ~7 min the first time; own scratch path keeps the default build warm)"
build_broker --traits OTLP --scratch-path "$ROOT/.build/otlp" --product mcp-broker

step "End-to-end tests (official MCP Python SDK against the real binary)"
set +e
MCP_BROKER_BIN="$ROOT/.build/debug/mcp-broker" MCP_BROKER_OTLP_BIN="$ROOT/.build/otlp/debug/mcp-broker" python3 -m pytest -q -p no:cacheprovider Tests/e2e 2>&1 | tee /tmp/mcp-broker-e2e.log
py_rc=${PIPESTATUS[0]}
set -e
read -r py_passed py_failed < <(pytest_counts /tmp/mcp-broker-e2e.log "$py_rc")

step "Deployment: container image (podman, from the Dockerfile) and Helm chart (Tests/deploy)"
deploy_start=$SECONDS
set +e
if ! command -v curl >/dev/null; then DEBIAN_FRONTEND=noninteractive apt-get install -y -q curl >/dev/null; fi
# The image build prints its own progress; from empty storage it takes ~10 min on 2 cores (base images ~2 min, release compile ~8 min).
"$ROOT/scripts/image.sh" 2>&1 | tee /tmp/mcp-broker-image.log
image_rc=${PIPESTATUS[0]}
image_seconds=$((SECONDS - deploy_start))
# The container tests use the image just built (they do not start a second build when it failed).
MCP_BROKER_BUILD_IMAGE=0 python3 -m pytest -q -p no:cacheprovider Tests/deploy 2>&1 | tee /tmp/mcp-broker-deploy.log
deploy_rc=${PIPESTATUS[0]}
set -e
read -r deploy_passed deploy_failed < <(pytest_counts /tmp/mcp-broker-deploy.log "$deploy_rc")
# A failed image build is a failure of its own (the container tests then fail too, fast).
if [ "$image_rc" -ne 0 ]; then deploy_failed=$((deploy_failed + 1)); else deploy_passed=$((deploy_passed + 1)); fi
info "deployment checks: image build ${image_seconds} s, total $((SECONDS - deploy_start)) s"

passed=$(( swift_total - swift_failed + py_passed + deploy_passed ))
failed=$(( swift_failed + py_failed + deploy_failed ))
echo
echo "Swift: $(( swift_total - swift_failed )) passed, $swift_failed failed; end-to-end: $py_passed passed, $py_failed failed;" \
  "deployment: $deploy_passed passed, $deploy_failed failed (image build counted as one)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
