#!/usr/bin/env bash
# The demo CRM REST service (product `crm-demo`) on 127.0.0.1:$CRM_PORT (default 18931), for the demo and the tests.
#   scripts/crm.sh start    (build first) start it in the background with per-machine random credentials
#   scripts/crm.sh stop
#   scripts/crm.sh env      print the credentials (source it)
source "$(dirname "$0")/common.sh"
CRM_PORT="${CRM_PORT:-18931}"
RUN="$ROOT/.run/crm"
CREDS="$RUN/credentials.env"

start() {
  mkdir -p "$RUN"
  if [ ! -f "$CREDS" ]; then
    r() { head -c 18 /dev/urandom | base64 | tr -dc A-Za-z0-9; }
    {
      echo "export CRM_BEARER_TOKEN=$(r)"; echo "export CRM_BASIC_USER=broker"; echo "export CRM_BASIC_PASSWORD=$(r)"
      echo "export CRM_API_KEY=$(r)"; echo "export CRM_CLIENT_ID=mcp-broker"; echo "export CRM_CLIENT_SECRET=$(r)"
      echo "export CRM_CONTROL_KEY=$(r)"; echo "export CRM_PORT=$CRM_PORT"
    } > "$CREDS"
    chmod 600 "$CREDS"
  fi
  # shellcheck disable=SC1090
  source "$CREDS"
  stop
  rm -f "$RUN/port"
  "$ROOT/.build/debug/crm-demo" --host 127.0.0.1 --port "$CRM_PORT" --port-file "$RUN/port" >"$RUN/crm.log" 2>&1 &
  echo $! > "$RUN/pid"
  for _ in $(seq 1 100); do
    [ -s "$RUN/port" ] && break
    kill -0 "$(cat "$RUN/pid")" 2>/dev/null || { echo "crm-demo exited; see $RUN/crm.log" >&2; tail -5 "$RUN/crm.log" >&2; exit 1; }
    sleep 0.1
  done
  info "demo CRM listening on http://127.0.0.1:$CRM_PORT"
}

stop() {
  if [ -f "$RUN/pid" ]; then kill "$(cat "$RUN/pid")" 2>/dev/null || true; rm -f "$RUN/pid"; fi
  # Another checkout's demo CRM on the same port would hold it (as pg.sh does for clusters, it is stopped too).
  pkill -f "crm-demo --host 127.0.0.1 --port $CRM_PORT " 2>/dev/null || true
  for _ in $(seq 1 50); do pgrep -f "crm-demo --host 127.0.0.1 --port $CRM_PORT " >/dev/null || break; sleep 0.1; done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env) cat "$CREDS" ;;
  *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
