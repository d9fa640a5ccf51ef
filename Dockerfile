# The pgparity image: the CLI built from this checkout on Debian 12, run on
# debian:bookworm-slim with only the shared libraries it links.
#
#   docker build -t pgparity/pgparity:dev .
#   docker run --rm pgparity/pgparity:dev --help
#
# docker-compose.yml (service audit) and k8s/ (StatefulSet pgparity-audit,
# Job cutover) use this name. env/image-build-check.sh validates this file
# without a container engine (env/validate-deploy.sh runs it): the stages and
# instructions, the build stage's RUN steps as a script on Debian 12, and that
# the runtime stage's package list covers every library `ldd` reports.

# --- build: the same dependencies and make target as a developer's checkout ---
FROM debian:bookworm AS build
WORKDIR /src
# install-deps.sh is the one list of build packages (Makefile's configure
# runs it too); copied alone first, so a source change keeps this layer.
COPY env/install-deps.sh env/install-deps.sh
RUN env/install-deps.sh build \
 && rm -rf /var/lib/apt/lists/*
COPY . .
# build-cli: only the pgparity target. The image runs nothing else, and the
# tests and benchmarks (make build) take several times longer; CI runs them
# (make test). The debug info (about 100 MB) is stripped from the copy the
# runtime stage takes; the symbols stay, so a backtrace still names functions.
# Paths relative to WORKDIR: env/image-build-check.sh --build runs these
# steps in a throwaway directory on the host.
RUN make build-cli BUILD_DIR=build-image BUILD_TYPE=RelWithDebInfo \
 && strip --strip-debug -o pgparity build-image/cli/pgparity \
 && ./pgparity --help >/dev/null

# --- runtime ----------------------------------------------------------------
FROM debian:bookworm-slim AS runtime
# The package of each library the binary links (readelf -d NEEDED, mapped
# with dpkg -S; libc6 is in every image). Their own dependencies (Kerberos,
# LDAP, GnuTLS for libpq) come with them. env/image-build-check.sh fails
# when a library ldd reports is covered by none of these.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libabsl20220623 \
      libboost-program-options1.74.0 \
      libfmt9 \
      libgcc-s1 \
      libpq5 \
      libprotobuf32 \
      librocksdb7.8 \
      libspdlog1.10 \
      libssl3 \
      libstdc++6 \
      libxxhash0 \
 && rm -rf /var/lib/apt/lists/*
# A fixed uid/gid, so Kubernetes can check runAsNonRoot and fsGroup can give
# it the state volume; /state is created owned by it, so a fresh named
# volume (docker-compose) starts writable.
RUN groupadd --system --gid 10001 pgparity \
 && useradd --system --uid 10001 --gid pgparity --home-dir /state --shell /usr/sbin/nologin pgparity \
 && install -d -o pgparity -g pgparity -m 700 /state
COPY --from=build /src/pgparity /usr/local/bin/pgparity
USER 10001:10001
WORKDIR /state
# --metrics-listen 0.0.0.0:9187 (docker-compose.yml, k8s/pgparity-audit.yaml).
EXPOSE 9187
ENTRYPOINT ["pgparity"]
CMD ["--help"]
