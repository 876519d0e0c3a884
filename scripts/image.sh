#!/usr/bin/env bash
# Builds the mcp-broker container image locally with podman, from the project's unchanged Dockerfile, without a
# registry: debian:bookworm-slim is made with mmdebstrap from the Debian mirror, swift:6.3-bookworm is assembled from
# this machine's toolchain (/opt/swift), and `swift build` inside the build resolves packages from the local mirror
# (/opt/swift-packages, through git's url.insteadOf). These local images only stand in for the official ones; with a
# registry and a network the Dockerfile builds as is (`podman build -t mcp-broker .`).
#
# Idempotent: the base and Swift images are kept in this script's own container storage and reused.
#   scripts/image.sh            build localhost/mcp-broker:<version> (+ :latest)
#   scripts/image.sh env        print the exports that point podman at the same storage (eval "$(scripts/image.sh env)")
# Storage: $MCP_BROKER_CONTAINERS (default /var/tmp/mcp-broker-containers; outside the build context and git).
source "$(dirname "$0")/common.sh"
cd "$ROOT"

W=${MCP_BROKER_CONTAINERS:-/var/tmp/mcp-broker-containers}
IMAGE=${MCP_BROKER_IMAGE:-localhost/mcp-broker}
VERSION=$(sed -nE 's/^appVersion: *"?([^"]+)"?/\1/p' helm/mcp-broker/Chart.yaml)
SWIFT_TOOLCHAIN=${SWIFT_TOOLCHAIN:-/opt/swift}
PACKAGE_MIRROR=${PACKAGE_MIRROR:-/opt/swift-packages}

containers_env() {
  mkdir -p "$W/conf" "$W/tmp"
  # Two host quirks (see README "Deploying"): crun cannot run on this cgroup-v1 hybrid host (runc can), and the
  # default rlimits exceed the host's hard limits, so containers get limits within them.
  cat > "$W/conf/storage.conf" <<EOC
[storage]
driver = "overlay"
graphroot = "$W/storage"
runroot = "$W/run"
EOC
  cat > "$W/conf/containers.conf" <<EOC
[containers]
netns = "host"
default_ulimits = ["nofile=$(ulimit -Hn):$(ulimit -Hn)", "nproc=32768:32768"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "runc"
image_copy_tmp_dir = "$W/tmp"
EOC
  export CONTAINERS_STORAGE_CONF="$W/conf/storage.conf" CONTAINERS_CONF="$W/conf/containers.conf" TMPDIR="$W/tmp"
}

ensure_container_tools() {
  local missing=()
  for tool in podman buildah runc mmdebstrap newuidmap slirp4netns fuse-overlayfs; do
    command -v "$tool" >/dev/null || missing+=("$tool")
  done
  [ ${#missing[@]} -eq 0 ] && { info "container tools present"; return; }
  step "Installing podman, buildah, runc, mmdebstrap (missing: ${missing[*]})"
  if ! apt-cache policy podman 2>/dev/null | grep -q 'Candidate: [0-9]'; then apt-get update -q >/dev/null; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q podman buildah runc mmdebstrap uidmap slirp4netns fuse-overlayfs >/dev/null
}

# debian:bookworm-slim from the Debian mirror (with the updates and security suites, like the official image).
ensure_debian_base() {
  if podman image exists docker.io/library/debian:bookworm-slim; then info "debian:bookworm-slim present"; return; fi
  step "Making debian:bookworm-slim with mmdebstrap (~30-60 s)"
  local start=$SECONDS tar="$W/tmp/bookworm-slim.tar"
  nice -n 10 mmdebstrap --quiet --variant=minbase --include=usr-is-merged,ca-certificates \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' --aptopt='Acquire::Languages "none"' \
    --customize-hook='printf "%s\n" "DPkg::Post-Invoke { \"rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true\"; };" "APT::Update::Post-Invoke { \"rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true\"; };" "Dir::Cache::pkgcache \"\";" "Dir::Cache::srcpkgcache \"\";" > "$1/etc/apt/apt.conf.d/docker-clean"' \
    --customize-hook='rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/cache/apt/*.bin "$1"/var/lib/apt/lists/*' \
    bookworm "$tar" \
    "deb http://deb.debian.org/debian bookworm main" \
    "deb http://deb.debian.org/debian bookworm-updates main" \
    "deb http://deb.debian.org/debian-security bookworm-security main"
  podman import --quiet --change 'CMD ["bash"]' "$tar" docker.io/library/debian:bookworm-slim >/dev/null
  rm -f "$tar"
  info "debian:bookworm-slim in $((SECONDS - start)) s"
}

# swift:6.3-bookworm: the official image's apt packages + this machine's toolchain copied to /usr.
ensure_swift_image() {
  if podman image exists docker.io/library/swift:6.3-bookworm; then info "swift:6.3-bookworm present"; return; fi
  [ -x "$SWIFT_TOOLCHAIN/usr/bin/swift" ] || { echo "no Swift toolchain at $SWIFT_TOOLCHAIN" >&2; return 1; }
  step "Assembling swift:6.3-bookworm from $SWIFT_TOOLCHAIN (~1.5-3 min)"
  local start=$SECONDS ctx="$W/tmp/swift-deps"
  mkdir -p "$ctx"
  # The official swift:bookworm image's package list.
  cat > "$ctx/Containerfile" <<'EOC'
FROM docker.io/library/debian:bookworm-slim
RUN export DEBIAN_FRONTEND=noninteractive DEBCONF_NONINTERACTIVE_SEEN=true \
 && apt-get -q update \
 && apt-get -q install -y --no-install-recommends \
      binutils binutils-gold gcc libc6-dev libstdc++-12-dev libicu-dev libcurl4-openssl-dev libedit-dev \
      libsqlite3-dev libncurses-dev libpython3-dev libxml2-dev pkg-config uuid-dev tzdata git ca-certificates \
 && apt-get clean && rm -rf /var/lib/apt/lists/*
EOC
  nice -n 10 podman build --quiet --pull=never --network=host -t localhost/swift-deps:bookworm "$ctx" >/dev/null
  local ctr
  ctr=$(buildah from --pull-never localhost/swift-deps:bookworm)
  nice -n 10 buildah copy --quiet "$ctr" "$SWIFT_TOOLCHAIN/usr" /usr >/dev/null
  buildah config --cmd /bin/bash "$ctr"
  buildah commit --quiet --rm "$ctr" docker.io/library/swift:6.3-bookworm >/dev/null
  podman rmi --force localhost/swift-deps:bookworm >/dev/null 2>&1 || true
  info "swift:6.3-bookworm in $((SECONDS - start)) s"
}

# Every Sources/ change leaves the previous build stage behind (~5 GB, untagged). Keeps the untagged images this
# build used or made (its layer cache: a rebuild with nothing changed takes seconds) and removes the others.
prune_stale_layers() {
  local keep id removed=0
  keep=$(grep -oE -- '--> (Using cache )?[0-9a-f]{11,64}' "$W/build.log" | grep -oE '[0-9a-f]{11,64}$' | cut -c1-11 | sort -u)
  for id in $(podman images --filter dangling=true --noheading --format '{{.ID}}'); do
    grep -qx "${id:0:11}" <<<"$keep" && continue
    podman rmi "$id" >/dev/null 2>&1 && removed=$((removed + 1))
  done
  [ "$removed" -eq 0 ] || info "removed $removed stale untagged image(s) from earlier builds"
}

build_image() {
  step "Building $IMAGE:$VERSION from the Dockerfile (cold: the release build of the broker, ~8-10 min on 2 cores)"
  # git inside the build rewrites https://github.com/ to the local package mirror, exactly as on this host.
  local gitconfig="$W/conf/gitconfig" start=$SECONDS mounts=()
  rm -f "$gitconfig.new"
  { git config --system --get-regexp '^url\..*\.insteadof$' || true; } | while read -r key value; do
    git config --file "$gitconfig.new" --add "$key" "$value"
  done
  mv -f "$gitconfig.new" "$gitconfig" 2>/dev/null || : > "$gitconfig"
  # Without a mirror (a machine with network access), swift build fetches from GitHub as usual.
  if [ -d "$PACKAGE_MIRROR" ]; then
    mounts=(--volume "$PACKAGE_MIRROR:$PACKAGE_MIRROR:ro" --volume "$gitconfig:/etc/gitconfig:ro")
    info "package mirror: $PACKAGE_MIRROR ($(grep -c insteadof "$gitconfig" || true) insteadOf rules)"
  fi
  local revision created
  revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
  created=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  # --format docker keeps HEALTHCHECK (the OCI format has no field for it). The labels are also passed directly:
  # buildah 1.28 reuses a cached LABEL layer even when the build args it expands have changed.
  set +e
  nice -n 10 podman build --pull=never --network=host --format docker \
    "${mounts[@]}" \
    --build-arg "VERSION=$VERSION" --build-arg "REVISION=$revision" --build-arg "CREATED=$created" \
    --label "org.opencontainers.image.revision=$revision" --label "org.opencontainers.image.created=$created" \
    -t "$IMAGE:$VERSION" -t "$IMAGE:latest" . 2>&1 | tee "$W/build.log" \
    | awk '/^\[[0-9]+\/[0-9]+\]/ { n++; if (n % 50 == 1) print "    " $0; fflush(); next }
           /^STEP|^COMMIT|error:|Build complete|Compiling|Linking|^-->|Successfully/ { print "    " $0; fflush() }'
  local rc=${PIPESTATUS[0]}
  set -e
  [ "$rc" -eq 0 ] || { echo "image build failed (rc $rc); full log: $W/build.log" >&2; return "$rc"; }
  prune_stale_layers
  local size
  size=$(podman image inspect "$IMAGE:$VERSION" --format '{{.Size}}')
  info "built $IMAGE:$VERSION in $((SECONDS - start)) s; image size $((size / 1000000)) MB"
}

containers_env
if [ "${1:-}" = env ]; then
  echo "export CONTAINERS_STORAGE_CONF='$CONTAINERS_STORAGE_CONF' CONTAINERS_CONF='$CONTAINERS_CONF' TMPDIR='$TMPDIR'"
  exit 0
fi
ensure_container_tools
ensure_debian_base
ensure_swift_image
build_image
