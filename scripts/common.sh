# Shared helpers for the scripts (sourced, not run).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
step() { printf '\n\033[1m==> %s\033[0m\n' "$*" >&2; }
info() { printf '    %s\n' "$*" >&2; }

# Installs what a fresh Debian machine lacks: Python packages for the MCP client and the deployment checks (Swift
# is preinstalled).
ensure_python_deps() {
  if python3 -c 'import mcp, pytest, jwt, cryptography, helm_python, kubernetes_validate, yaml' 2>/dev/null \
     && command -v checkov >/dev/null && command -v hadolint >/dev/null; then info "python deps present"; return; fi
  step "Installing Python test/demo dependencies (official MCP SDK, pytest)"
  python3 -m pip install --quiet --disable-pip-version-check -r "$ROOT/requirements-test.txt"
}

# promtool (`promtool check rules` / `test rules` on deploy/prometheus in Tests/deploy) from Debian's `prometheus`
# package, the binary only: installing the package would run its postinst, which starts a Prometheus server through
# the package's init.d script (no systemd here). So the .deb is downloaded and /usr/bin/promtool extracted from it.
ensure_promtool() {
  if command -v promtool >/dev/null; then info "promtool present"; return; fi
  step "Installing promtool from Debian's prometheus package (binary only: no server installed or started)"
  local dir
  dir="$(mktemp -d)"
  if ! apt-cache policy prometheus 2>/dev/null | grep -q 'Candidate: [0-9]'; then apt-get update -qq; fi
  (cd "$dir" && apt-get download -qq -o APT::Sandbox::User=root prometheus >/dev/null)
  dpkg-deb -x "$dir"/prometheus_*.deb "$dir/root"
  install -m 0755 "$dir/root/usr/bin/promtool" /usr/local/bin/promtool
  rm -rf "$dir"
  info "$(promtool --version 2>&1 | head -1)"
}

# redis-server (and redis-cli) for BrokerRedisTests, which start their own servers on free loopback ports, and the
# hiredis headers the build needs. Debian's package may also start a default service on 6379; no test uses it.
ensure_redis() {
  if command -v redis-server >/dev/null && command -v redis-cli >/dev/null && pkg-config --exists hiredis 2>/dev/null; then
    info "redis-server present"; return
  fi
  step "Installing redis-server and libhiredis-dev (apt)"
  if ! apt-cache policy redis-server 2>/dev/null | grep -q 'Candidate: [0-9]'; then apt-get update -qq; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server redis-tools libhiredis-dev pkg-config >/dev/null
}

# Builds the broker (debug), printing SwiftPM's progress lines so a first build (minutes) shows it is moving.
build_broker() {
  step "Building mcp-broker (the first build compiles Hummingbird and friends: a few minutes)"
  local start=$SECONDS
  # pipefail makes a failed `swift build` fail this function; awk only thins out the [n/m] progress lines.
  if ! (cd "$ROOT" && swift build "$@" 2>&1 | tee /tmp/mcp-broker-build.log \
        | awk '/^\[[0-9]+\/[0-9]+\]/ { n++; if (n % 40 == 1) print "    " $0; next } /error:|Build complete|Compiling|Linking/ { print "    " $0 }'); then
    echo "build failed; full log: /tmp/mcp-broker-build.log" >&2
    return 1
  fi
  info "built in $((SECONDS - start)) s"
}

# Demo secrets: random per run, exported as the env vars the config references (never written to the config).
export_demo_secrets() {
  local erp hr
  erp="$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 24)"
  hr="$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 24)"
  export ERP_PASSWORD="$erp" ERP_SYSTEM_PASSWORD="$erp" HR_API_KEY="$hr" HR_SYSTEM_API_KEY="$hr"
}

# Generates the demo identities into .run/auth (API keys via `mcp-broker hash-key`, a JWT signing key and its JWKS)
# and loads the keys into the environment. Regenerated each run: nothing long-lived lies around.
prepare_identities() {
  step "Generating demo identities (API keys for machine tenants, a JWT signing key) in .run/auth"
  python3 "$ROOT/scripts/identities.py" generate "$ROOT/.run/auth" "$ROOT/.build/debug/mcp-broker"
  # shellcheck disable=SC1091
  source "$ROOT/.run/auth/keys.env"
  info "keys: ops-admin@acme, bi-dashboard@acme, globex-etl@globex; hashes in .run/auth/api-keys.yaml"
}

# GET a URL and print the body (no curl on a minimal Debian machine; Python is there).
http_get() {
  python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=3).read().decode())' "$1"
}

# Starts the private PostgreSQL cluster with the demo warehouse (installing PostgreSQL, libpq-dev and
# libpg-query-dev with apt when missing: the build needs the last two) and exports its credentials.
start_warehouse() {
  "$ROOT/scripts/pg.sh" start
  # shellcheck disable=SC1091
  source "$ROOT/.run/pg/credentials.env"
}

# Starts the demo CRM REST service (built with the broker) on 127.0.0.1:18931 and exports its credentials.
start_crm() {
  "$ROOT/scripts/crm.sh" start
  # shellcheck disable=SC1091
  source "$ROOT/.run/crm/credentials.env"
}

# Prints "PASSED FAILED" from a pytest log and its exit code: a non-zero exit with no failure counted (a crash, a
# collection error) counts as one failure.
pytest_counts() {
  local log=$1 rc=$2 passed failed
  # (grep finds nothing on a clean run: `|| true` keeps pipefail + set -e from ending the script there.)
  passed=$( { grep -oE '[0-9]+ passed' "$log" || true; } | tail -1 | grep -oE '[0-9]+' || true)
  failed=$( { grep -oE '[0-9]+ (failed|errors?)' "$log" || true; } | awk '{s+=$1} END {print s+0}')
  if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
  echo "${passed:-0} $failed"
}
