# The image of `gantry serve`: a self-hosted runner for GitHub, Gitea and Forgejo (README, "Deploy").
#
#   DOCKER_BUILDKIT=1 docker build -t gantry .
#   docker run -d --read-only --tmpfs /tmp -v gantry-data:/var/lib/gantry -p 8080:8080 \
#     -v "$PWD/webhook-secret:/run/secrets/webhook-secret:ro" \
#     -e GANTRY_SERVE_WEBHOOK_SECRET_FILE=/run/secrets/webhook-secret \
#     -e GANTRY_SERVE_REPO=octo/app=https://git.example.com/octo/app.git gantry
#
# Two stages: the release binary is built in Swift's official Debian image (the Swift runtime linked
# in statically), and runs in Debian's slim image with only what `gantry serve` and its host backend
# use. Both bases are build arguments pinned by digest; a machine that reaches no registry passes
# images it made itself (.ci/image-bases makes both with debootstrap and the local toolchain).
# swift:6.3-bookworm has no digest here: no registry answered where this file was written, and a
# digest that was never read would be a guess. Pin it where you build (`docker buildx imagetools
# inspect swift:6.3-bookworm`) by passing --build-arg SWIFT_IMAGE=swift:6.3-bookworm@sha256:….
ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim@sha256:3783cc01769c7b2b1b83a5c5ad96c815348e28ed7da68e2e3687004faa906251

# checkov can read neither build argument; both name a tag and the runtime also a digest.
#checkov:skip=CKV_DOCKER_7:FROM names a build argument whose default is a versioned tag (swift:6.3-bookworm), never latest
FROM ${SWIFT_IMAGE} AS build
# The C libraries Gantry's system-library targets compile against (Package.swift). Versions come
# from the base's Debian release, which the digest pins; apt's lists and archives stay in caches.
# hadolint ignore=DL3008
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,target=/var/lib/apt/lists,sharing=locked \
    rm -f /etc/apt/apt.conf.d/docker-clean \
    && apt-get update -q \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
       libgit2-dev libsqlite3-dev libssl-dev pkg-config zlib1g-dev
WORKDIR /src
# Package.swift names every target (tests, fuzzers and benchmarks too), so their folders come
# along; .dockerignore leaves out .build, .git and the caches.
COPY . .
# SwiftPM's checkouts and the build folder live in cache mounts: a second build recompiles only
# what changed. The binary is copied out of the mount in the same step. The image's `gantry` is the
# gantry-server product: the same commands linked position-independent (ASLR for the long-running
# service); the CLI product `gantry` is linked without PIE for a fast start, which a service does not need.
RUN --mount=type=cache,target=/src/.build \
    --mount=type=cache,target=/root/.cache \
    swift build -c release --static-swift-stdlib --product gantry-server -Xlinker -s \
    && install -D -m 0755 .build/release/gantry-server /out/gantry

FROM ${RUNTIME_IMAGE}
ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="gantry" \
      org.opencontainers.image.description="Runs GitHub Actions workflows: gantry serve, a self-hosted runner for GitHub, Gitea and Forgejo" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="debian:bookworm-slim"
# What the service and its host backend use: git (actions/checkout and the steps), node (JavaScript
# actions), libgit2 (the mirrors, loaded at run time), SQLite, OpenSSL's libcrypto (libyaml is built in),
# tzdata (cron schedules' time zones), tini (PID 1: forwards SIGTERM, so the service drains, and
# reaps the processes steps leave behind). No Docker CLI: jobs that need a container engine say so.
# hadolint ignore=DL3008
RUN apt-get update -q \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
       ca-certificates git libgit2-1.5 libsqlite3-0 libssl3 nodejs tini tzdata \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 1000 gantry \
    && useradd --uid 1000 --gid 1000 --home-dir /var/lib/gantry --no-create-home --shell /bin/bash gantry \
    && install -d -o 1000 -g 1000 -m 0750 /var/lib/gantry
COPY --from=build /out/gantry /usr/local/bin/gantry
# Everything the service writes is under the one data volume, so the root file system can be
# read-only: its database, mirrors, runs and logs (serve/), the content cache, HOME for the steps'
# tools, and TMPDIR (made at start) for their scratch files.
ENV GANTRY_STATE_DIR=/var/lib/gantry \
    GANTRY_CACHE_DIR=/var/lib/gantry/cache \
    HOME=/var/lib/gantry \
    TMPDIR=/var/lib/gantry/tmp \
    GANTRY_SERVE_LISTEN=0.0.0.0:8080
VOLUME ["/var/lib/gantry"]
WORKDIR /var/lib/gantry
USER 1000:1000
EXPOSE 8080
# `gantry serve health` asks /health on GANTRY_SERVE_LISTEN's port (no curl in the image).
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
    CMD ["gantry", "serve", "health", "--timeout", "4"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--", "gantry"]
CMD ["serve"]
