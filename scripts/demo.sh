#!/usr/bin/env bash
# The complete local demo: builds mcp-broker, starts it over Streamable HTTP in front of the simulated ERP and
# HR systems and the PostgreSQL warehouse (two tenants, random per-run credentials), then drives EVERY tool with the official MCP Python
# client, showing progress as it goes. The broker keeps running afterwards so you can point Claude Code at it;
# Ctrl-C stops it. `scripts/demo.sh --once` exits after the client run (used by CI-style checks).
source "$(dirname "$0")/common.sh"
cd "$ROOT"
ONCE=0; [ "${1:-}" = "--once" ] && ONCE=1
PORT="${MCP_BROKER_PORT:-8080}"
METRICS_PORT="${MCP_BROKER_METRICS_PORT:-9464}"

ensure_python_deps
start_warehouse
build_broker
start_crm

prepare_identities
step "Checking the configuration"
export_demo_secrets
.build/debug/mcp-broker validate config/broker.yaml

step "Starting mcp-broker on http://127.0.0.1:$PORT/mcp (logs: /tmp/mcp-broker-demo.log)"
.build/debug/mcp-broker serve --config config/broker.yaml --port "$PORT" --metrics-port "$METRICS_PORT" 2>/tmp/mcp-broker-demo.log &
BROKER=$!
trap 'kill $BROKER 2>/dev/null; wait $BROKER 2>/dev/null; "$ROOT/scripts/crm.sh" stop' EXIT
for i in $(seq 1 100); do
  if http_get "http://127.0.0.1:$PORT/livez" >/dev/null 2>&1; then break; fi
  if ! kill -0 $BROKER 2>/dev/null; then echo "broker exited; see /tmp/mcp-broker-demo.log" >&2; tail -5 /tmp/mcp-broker-demo.log >&2; exit 1; fi
  sleep 0.1
done
info "readiness: $(http_get "http://127.0.0.1:$PORT/readyz")"

step "Driving every tool with the official MCP client"
python3 scripts/demo_client.py "http://127.0.0.1:$PORT/mcp"

step "Operating it: metrics and a hot reload"
metrics=$(http_get "http://127.0.0.1:$METRICS_PORT/metrics")
info "http://127.0.0.1:$METRICS_PORT/metrics: $(grep -c '^mcp_' <<<"$metrics") series; tool calls by backend:"
grep '^mcp_broker_tool_calls_total' <<<"$metrics" | sed -E 's/.*backend="([^"]*)".*\} ([0-9.e+]+)$/\1|\2/' \
  | awk -F'|' '{ n[$1 == "" ? "(unknown tool names)" : $1] += $2 } END { for (b in n) printf "      %-22s %d\n", b, n[b] }' | sort
kill -HUP $BROKER
for i in $(seq 1 50); do
  ready=$(http_get "http://127.0.0.1:$PORT/readyz")
  if grep -q '"reloads_applied":1' <<<"$ready"; then break; fi
  sleep 0.1
done
if grep -q '"reloads_applied":1' <<<"$ready"; then info "SIGHUP: configuration re-read and swapped in place (same pid $BROKER; sessions kept)"
else echo "the SIGHUP reload did not apply; see /tmp/mcp-broker-demo.log" >&2; exit 1; fi

if [ "$ONCE" -eq 1 ]; then exit 0; fi
step "The broker is running at http://127.0.0.1:$PORT/mcp"
info "Claude Code:  claude mcp add --transport http enterprise http://127.0.0.1:$PORT/mcp"
info "Metrics:      http://127.0.0.1:$METRICS_PORT/metrics   (edit config/broker.yaml: the broker reloads it in place)"
info "Ctrl-C to stop."
wait $BROKER
