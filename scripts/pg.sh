#!/usr/bin/env bash
# A private PostgreSQL cluster for the demo warehouse and the integration tests, on 127.0.0.1 only.
#   scripts/pg.sh start     install (apt) if needed, initdb into .run/pg, start on $PGPORT (default 55432), seed
#   scripts/pg.sh stop      stop the cluster
#   scripts/pg.sh env       print the environment the broker config references (source it)
# Credentials are random per cluster and stored in .run/pg/credentials.env (never in the repository).
source "$(dirname "$0")/common.sh"
PGPORT="${PGPORT:-55432}"
RUN="$ROOT/.run"
CREDS="$RUN/pg/credentials.env"
# The cluster lives under /tmp, not in the checkout: the postgres user must be able to reach it, and a checkout
# under /root (mode 700) is not reachable. One cluster per checkout.
PGHOME="/tmp/mcp-broker-pg-$(printf '%s' "$ROOT" | md5sum | cut -c1-10)"
DATA="$PGHOME/data"

ensure_postgres() {
  # Everything the build and the tests need from Debian: the C libraries the backends and the shared-state store
  # link (hiredis, OpenSSL), PostgreSQL itself, openssl (the mTLS tests make their own certificates), and
  # redis-server and nginx-light (Tests/e2e/test_replicas.py starts its own Redis and a round-robin nginx in front
  # of three brokers).
  if [ -x "$(pg_bindir)/initdb" ] && pkg-config --exists libpq libcurl zlib hiredis openssl 2>/dev/null && [ -f /usr/include/pg_query.h ] \
     && command -v openssl >/dev/null && command -v redis-server >/dev/null && [ -x /usr/sbin/nginx ]; then return; fi
  step "Installing PostgreSQL, libpq-dev, libpg-query-dev, libcurl4-openssl-dev, zlib1g-dev, libhiredis-dev, libssl-dev, openssl, redis-server and nginx-light (apt)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    postgresql libpq-dev libpg-query-dev libcurl4-openssl-dev zlib1g-dev libhiredis-dev libssl-dev pkg-config openssl redis-server nginx-light >/dev/null
}

pg_bindir() {
  if command -v pg_config >/dev/null 2>&1; then pg_config --bindir; else ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; fi
}

as_postgres() { runuser -u postgres -- "$@"; }

start() {
  ensure_postgres
  local bin; bin="$(pg_bindir)"
  mkdir -p "$RUN/pg" "$PGHOME"
  chown postgres:postgres "$PGHOME"; chmod 700 "$PGHOME"
  if [ ! -s "$DATA/PG_VERSION" ]; then
    step "Creating a private PostgreSQL cluster in $PGHOME (port $PGPORT)"
    mkdir -p "$DATA"; chown postgres:postgres "$DATA"; chmod 700 "$DATA"
    head -c 24 /dev/urandom | base64 > "$PGHOME/superuser.pw"; chown postgres:postgres "$PGHOME/superuser.pw"; chmod 600 "$PGHOME/superuser.pw"
    as_postgres "$bin/initdb" -D "$DATA" -U postgres -A scram-sha-256 --pwfile="$PGHOME/superuser.pw" -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
    # Local socket for the superuser (seeding only); TCP on loopback needs a password.
    printf 'local all postgres trust\nhost all all 127.0.0.1/32 scram-sha-256\n' > "$DATA/pg_hba.conf"
    chown postgres:postgres "$DATA/pg_hba.conf"
  fi
  # Port $PGPORT belongs to one demo cluster per machine: stop another checkout's cluster if it holds it.
  for other in /tmp/mcp-broker-pg-*/data; do
    [ -d "$other" ] && [ "$other" != "$DATA" ] && as_postgres "$bin/pg_ctl" -D "$other" -m fast -w stop >/dev/null 2>&1 || true
  done
  if ! as_postgres "$bin/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
    as_postgres "$bin/pg_ctl" -D "$DATA" -l "$PGHOME/server.log" -w -t 30 \
      -o "-c listen_addresses=127.0.0.1 -p $PGPORT -c unix_socket_directories=$DATA -c fsync=off -c max_connections=100" start >/dev/null
  fi
  info "PostgreSQL listening on 127.0.0.1:$PGPORT"
  seed
}

seed() {
  local bin; bin="$(pg_bindir)"
  # Passwords are per cluster: new cluster, new passwords (the seed sets them on the roles every time).
  if [ ! -f "$CREDS" ] || [ ! -f "$PGHOME/seeded" ]; then
    local ro acme globex
    ro="$(head -c 18 /dev/urandom | base64 | tr -dc A-Za-z0-9)"; acme="$(head -c 18 /dev/urandom | base64 | tr -dc A-Za-z0-9)"
    globex="$(head -c 18 /dev/urandom | base64 | tr -dc A-Za-z0-9)"
    printf 'export WH_ACME_PASSWORD=%s\nexport WH_GLOBEX_PASSWORD=%s\nexport WH_PORT=%s\n' "$acme" "$globex" "$PGPORT" > "$CREDS"
    chmod 600 "$CREDS"
  fi
  # shellcheck disable=SC1090
  source "$CREDS"
  step "Seeding the demo warehouse (schema analytics; two tenants; row-level security)"
  as_postgres "$bin/psql" -h "$DATA" -p "$PGPORT" -U postgres -q -v ON_ERROR_STOP=1 \
    -v acme_pw="$WH_ACME_PASSWORD" -v globex_pw="$WH_GLOBEX_PASSWORD" \
    < "$ROOT/config/warehouse/seed.sql" >/dev/null
  touch "$PGHOME/seeded"
  info "warehouse seeded: $(as_postgres "$bin/psql" -h "$DATA" -p "$PGPORT" -U postgres -d warehouse -tAc 'select count(*) from analytics.orders') orders"
}

stop() {
  local bin; bin="$(pg_bindir)"
  [ -d "$DATA" ] && as_postgres "$bin/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null 2>&1 || true
}

restart() {
  local bin; bin="$(pg_bindir)"
  as_postgres "$bin/pg_ctl" -D "$DATA" -m fast -w -t 30 restart \
    -o "-c listen_addresses=127.0.0.1 -p $PGPORT -c unix_socket_directories=$DATA -c fsync=off -c max_connections=100" >/dev/null
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  restart) restart ;;
  seed) seed ;;
  env) cat "$CREDS" ;;
  *) echo "usage: $0 start|stop|restart|seed|env" >&2; exit 2 ;;
esac
