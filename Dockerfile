# The `gatehouse` binary in a small image. Templates, static assets and migrations are compiled in.
#   docker build -t gatehouse .
#   docker run -p 8080:8080 gatehouse        # the hub on embedded SQLite in /var/lib/gatehouse

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
RUN cargo build --release --locked --bin gatehouse

FROM debian:bookworm-slim
RUN useradd --system --create-home --home-dir /var/lib/gatehouse gatehouse
COPY --from=build /src/target/release/gatehouse /usr/local/bin/gatehouse
USER gatehouse
WORKDIR /var/lib/gatehouse
ENV GATEHOUSE_DATA_DIR=/var/lib/gatehouse
EXPOSE 8080
ENTRYPOINT ["gatehouse"]
CMD ["hub", "--hub-listen", "0.0.0.0:8080"]
