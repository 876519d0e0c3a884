# mcp-broker container image. Build stage uses the Swift 6.3 toolchain image on Debian 12; the runtime stage is
# bookworm-slim with only what the binary links: glibc, libstdc++, libpq5 and libpg_query (the SQL gate's parser).
FROM swift:6.3-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev libpg-query-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
RUN swift build -c release --static-swift-stdlib --product mcp-broker \
    && strip .build/release/mcp-broker

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates libpq5 libpg-query1504.0 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 broker
COPY --from=build /src/.build/release/mcp-broker /usr/local/bin/mcp-broker
COPY config /etc/mcp-broker
USER broker
EXPOSE 8080
# Secrets come from the environment or mounted files referenced by the config (env:NAME / file:/run/secrets/x).
ENTRYPOINT ["/usr/local/bin/mcp-broker"]
CMD ["serve", "--config", "/etc/mcp-broker/broker.yaml", "--host", "0.0.0.0"]
