#!/usr/bin/env bash
# Runs every test against real services: starts the private PostgreSQL warehouse (scripts/pg.sh), then Swift
# unit, integration (libpq against the real database) and in-process HTTP tests, then the end-to-end suite that drives the real
# mcp-broker binary with the official Python MCP SDK over stdio and HTTP. Prints a final
# "N passed, N failed" line and exits non-zero on any failure.
source "$(dirname "$0")/common.sh"
cd "$ROOT"
ensure_python_deps
start_warehouse
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

step "End-to-end tests (official MCP Python SDK against the real binary)"
set +e
MCP_BROKER_BIN="$ROOT/.build/debug/mcp-broker" python3 -m pytest -q -p no:cacheprovider Tests/e2e 2>&1 | tee /tmp/mcp-broker-e2e.log
py_rc=${PIPESTATUS[0]}
set -e
# (grep finds nothing on a clean run: `|| true` keeps pipefail + set -e from ending the script there.)
py_passed=$( { grep -oE '[0-9]+ passed' /tmp/mcp-broker-e2e.log || true; } | tail -1 | grep -oE '[0-9]+' || true)
py_failed=$( { grep -oE '[0-9]+ (failed|errors?)' /tmp/mcp-broker-e2e.log || true; } | awk '{s+=$1} END {print s+0}')
py_passed=${py_passed:-0}
if [ "$py_rc" -ne 0 ] && [ "$py_failed" -eq 0 ]; then py_failed=1; fi

passed=$(( swift_total - swift_failed + py_passed ))
failed=$(( swift_failed + py_failed ))
echo
echo "Swift: $(( swift_total - swift_failed )) passed, $swift_failed failed; end-to-end: $py_passed passed, $py_failed failed"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
