#!/usr/bin/env bash
# The benchmark (README "Benchmarks"): installs nginx and wrk from Debian when missing, starts the demo warehouse,
# builds the release broker (showing progress), then runs bench/bench.py, which prints progress per workload and
# writes bench/results/latest.md and bench/results/latest.jsonl. Loopback only; every run stops by itself.
# Arguments go to bench.py: --seconds N (per round, default 4), --rounds N (default 2), --connections 1,16,64.
source "$(dirname "$0")/../scripts/common.sh"
cd "$ROOT"
if ! command -v nginx >/dev/null 2>&1 || ! command -v wrk >/dev/null 2>&1 || ! command -v redis-server >/dev/null 2>&1; then
  step "Installing nginx, wrk and redis-server (apt)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx-light wrk redis-server >/dev/null
fi
ensure_python_deps
start_warehouse
build_broker -c release --product mcp-broker
# shellcheck disable=SC1091
source "$ROOT/.run/pg/credentials.env"
export WH_ACME_PASSWORD WH_GLOBEX_PASSWORD WH_PORT
python3 "$ROOT/bench/bench.py" "$@"
