# The `gatehouse` binary in a small image. Templates, static assets and migrations are compiled in,
# so the image is the binary, CA certificates (for https:// upstreams, hubs and identity providers)
# and curl (for container healthchecks and docker-compose.yml's one-shot setup jobs).
#   docker build -t gatehouse .
#   docker run -p 8080:8080 gatehouse        # the hub on embedded SQLite in /var/lib/gatehouse
# docker-compose.yml runs the whole stack from it; deploy/README.md describes that.

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY gateway gateway
COPY hub hub
COPY portal portal
COPY migrations migrations
COPY templates templates
COPY static static
# The cache mounts keep the registry and the build directory between builds of a changed tree; the
# binary is copied out of the cached target/ because the mount is gone in the next stage.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p gatehouse \
    && cp target/release/gatehouse /usr/local/bin/gatehouse

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/*
# A fixed uid, so files on shared volumes (tokens written by one service, read by another) have the
# same owner in every container. /run/gatehouse and /run/grafana exist here owned by that user, so
# the empty named volumes docker-compose.yml mounts there start with that owner too.
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /var/lib/gatehouse gatehouse \
    && install -d -o gatehouse -g gatehouse -m 0750 /run/gatehouse /run/grafana
COPY --from=build /usr/local/bin/gatehouse /usr/local/bin/gatehouse
USER gatehouse
WORKDIR /var/lib/gatehouse
ENV GATEHOUSE_DATA_DIR=/var/lib/gatehouse
# 8080 hub (admin API, dashboard), 8000 gateway proxy, 8001 gateway admin (/healthz /readyz
# /metrics), 8090 developer portal. Each role listens on loopback unless told otherwise, as below.
EXPOSE 8080 8000 8001 8090
ENTRYPOINT ["gatehouse"]
CMD ["hub", "--hub-listen", "0.0.0.0:8080"]
