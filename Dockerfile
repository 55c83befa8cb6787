# certdeploy container image: `certdeploy serve` as a non-root service.
#
#   docker build -t certdeploy .
#   docker run -d -p 8443:8443 -v /srv/certdeploy/etc:/etc/certdeploy:ro \
#     -v certdeploy-state:/var/lib/certdeploy --env-file /srv/certdeploy/certdeploy.env certdeploy
#
# The image contains no configuration and no secrets: mount the config (and the TLS key, the
# connector public key) at /etc/certdeploy and pass secrets as environment variables (docs/operations.md).

# ---- build stage: the same Debian packages as scripts/deps.sh (used by scripts/test.sh) ----
FROM debian:12 AS build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
WORKDIR /src
COPY scripts/deps.sh scripts/deps.sh
RUN bash scripts/deps.sh && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DCERTDEPLOY_BUILD_TESTS=OFF \
 && cmake --build build/release \
 && DESTDIR=/out cmake --install build/release --prefix /usr

# ---- runtime stage: only the shared libraries the binary needs (ldd), CA roots, curl ----
FROM debian:12-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates curl \
      libcpprest2.10 libssl3 libspdlog1.10 libfmt9 libyaml-cpp0.7 libsqlite3-0 libpq5 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system certdeploy \
 && useradd --system --gid certdeploy --home-dir /var/lib/certdeploy --no-create-home \
      --shell /usr/sbin/nologin certdeploy \
 && install -d -o certdeploy -g certdeploy -m 0700 /var/lib/certdeploy /var/lib/certdeploy/inbox \
 && install -d -m 0755 /etc/certdeploy
COPY --from=build /out/usr/bin/certdeploy /usr/bin/certdeploy
COPY --from=build /out/usr/share/certdeploy /usr/share/certdeploy
COPY --from=build /out/usr/share/doc/certdeploy /usr/share/doc/certdeploy

USER certdeploy
WORKDIR /var/lib/certdeploy
VOLUME ["/var/lib/certdeploy"]
EXPOSE 8443
# /healthz needs no API key. The example config serves TLS (any non-loopback listen must), so the
# check speaks HTTPS and skips certificate verification: it only asks whether the process answers.
# (The first check runs 30 s after start, so no --start-period is needed.)
HEALTHCHECK --interval=30s --timeout=5s --retries=3 \
  CMD ["curl", "-fsk", "--max-time", "4", "https://127.0.0.1:8443/healthz"]
ENTRYPOINT ["certdeploy"]
CMD ["serve", "--config", "/etc/certdeploy/certdeploy.yaml"]
