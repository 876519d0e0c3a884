#!/usr/bin/env bash
# Instructions per call under valgrind's callgrind (bench/callgrind.py): starts the demo warehouse, builds the
# release broker (showing progress), then runs N calls per workload and writes bench/results/callgrind.md.
source "$(dirname "$0")/../scripts/common.sh"
cd "$ROOT"
if ! command -v nginx >/dev/null 2>&1 || ! command -v valgrind >/dev/null 2>&1; then
  step "Installing nginx and valgrind (apt)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx-light valgrind >/dev/null
fi
ensure_python_deps
start_warehouse
build_broker -c release --product mcp-broker
# shellcheck disable=SC1091
source "$ROOT/.run/pg/credentials.env"
export WH_ACME_PASSWORD WH_GLOBEX_PASSWORD WH_PORT
python3 "$ROOT/bench/callgrind.py" "$@"
