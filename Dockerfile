# mcp-broker container image.
#  build:   the Swift 6.3 toolchain image (Debian 12) compiles the release binary with the Swift runtime linked
#           statically (--static-swift-stdlib), against Debian's libcurl, zlib, libpq and libpg_query.
#  runtime: debian:bookworm-slim with exactly the shared libraries the binary links (checked in CI with ldd) and
#           nothing else: no shell tools beyond the base, no curl (the HEALTHCHECK is `mcp-broker health`).
# Runs as the numeric non-root user 10001 on a read-only root filesystem: configuration is read from
# /etc/mcp-broker, secrets from /run/secrets/mcp-broker (files: rotated in place, re-read at each use), and the
# audit log goes to stdout (logs go to stderr). See README "Deploying".

FROM swift:6.3-bookworm AS build
# The -dev packages the SwiftPM system-library targets name (CLibPQ, CPGQuery, CLibCurl, CHiredis, COpenSSL) and
# zlib for compress-nio.
# Versions are not pinned: bookworm and bookworm-security only carry compatible fixes, and a pinned version
# disappears from the mirror at the next security update (README "Deploying": hadolint DL3008).
# hadolint ignore=DL3008
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
       libcurl4-openssl-dev zlib1g-dev libpq-dev libpg-query-dev libhiredis-dev libssl-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# Dependencies first: resolving them is a layer of its own, reused while only Sources/ changes. Tests/ is not in
# the build context (.dockerignore): empty directories for the manifest's test targets keep SwiftPM from refusing
# the package graph (it then only warns that they have no sources).
COPY Package.swift ./
RUN tr -d ' \n' < Package.swift | grep -oE 'testTarget\(name:"[A-Za-z0-9_]+"' | cut -d'"' -f2 \
    | while read -r target; do mkdir -p "Tests/$target"; done \
    && swift package resolve
COPY Sources ./Sources
RUN swift build -c release --static-swift-stdlib --product mcp-broker \
    && install -D -m 0755 "$(swift build -c release --show-bin-path)/mcp-broker" /out/usr/local/bin/mcp-broker \
    && strip /out/usr/local/bin/mcp-broker

FROM debian:bookworm-slim
# Exactly what the binary links besides glibc/libstdc++/libgcc (already in the base): libcurl.so.4, libz.so.1,
# libpq.so.5, libpg_query.so.1504.0, libhiredis.so.0.14 and libssl.so.3/libcrypto.so.3 (TLS to Redis) — plus CA
# certificates for TLS to backends, Redis and identity providers.
# hadolint ignore=DL3008
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
       ca-certificates libcurl4 zlib1g libpq5 libpg-query1504.0 libhiredis0.14 libssl3 \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \
    && groupadd --system --gid 10001 broker \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin broker
COPY --from=build /out/usr/local/bin/mcp-broker /usr/local/bin/mcp-broker
COPY config/container.yaml /etc/mcp-broker/broker.yaml
COPY config/crm /etc/mcp-broker/crm
USER 10001:10001
EXPOSE 8080
ENV MCP_BROKER_CONFIG=/etc/mcp-broker/broker.yaml
# GET /livez on 127.0.0.1 at server.http.port of $MCP_BROKER_CONFIG (the process serves; /readyz is for traffic).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["/usr/local/bin/mcp-broker", "health", "--path", "/livez", "--timeout-ms", "3000"]
ENTRYPOINT ["/usr/local/bin/mcp-broker"]
CMD ["serve"]
# Labels last: the revision and date change with every commit and must not invalidate the layers above.
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="mcp-broker" \
      org.opencontainers.image.description="One MCP endpoint in front of an enterprise's systems (ERP, HR, warehouses, REST APIs)." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="docker.io/library/debian:bookworm-slim"
