# syntax=docker/dockerfile:1
# idm container image: `docker build -t idm .`
# Build stage: the official Rust image (C compiler included) plus libpq headers for the
# PostgreSQL backend. SQLite is compiled in (bundled), so it needs nothing at run time.
FROM rust:1.95-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The caches only speed up rebuilds; the binary is copied out of the cached target dir.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p idm-server \
 && cp target/release/idm /usr/local/bin/idm

# Runtime stage: only the binary, libpq and CA certificates (HTTPS to an OIDC provider).
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 idm \
 && useradd --system --uid 10001 --gid idm --home-dir /var/lib/idm --shell /usr/sbin/nologin idm \
 && mkdir -p /var/lib/idm/data \
 && chown -R idm:idm /var/lib/idm
COPY --from=build /usr/local/bin/idm /usr/local/bin/idm
COPY config/default.toml /var/lib/idm/config/default.toml
# Relative paths resolve here: the default SQLite database is /var/lib/idm/data/idm.db.
WORKDIR /var/lib/idm
VOLUME ["/var/lib/idm/data"]
# Numeric, so orchestrators can verify "runAsNonRoot" without reading /etc/passwd.
USER 10001:10001
# Inside a container the listener must accept connections from outside its loopback.
ENV IDM__SERVER__HOST=0.0.0.0
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 CMD ["idm","healthcheck"]
CMD ["idm","serve"]
