# syntax=docker/dockerfile:1
# image-bot: scan registries, edit manifests, open pull requests. Never touches a cluster.
#
#   docker build -t image-bot .
#   docker run --rm -v "$PWD/image-bot.yaml:/config/image-bot.yaml:ro" \
#     -e GITHUB_TOKEN image-bot                      # run --once with /config/image-bot.yaml
#   docker run --rm image-bot tags nginx:1.25 --policy 'semver: ~1.25'
#
# Releases are built by .github/workflows/release.yml for linux/amd64 and linux/arm64 and
# pushed to ghcr.io/image-bot/image-bot.
#
# The base is pinned by digest: python:3.11-slim (Python 3.11.15 on Debian trixie) as
# docker-library/repo-info lists it (repos/python/remote/3.11-slim.md, the multi-platform
# index). Move it with `docker buildx imagetools inspect python:3.11-slim`.

# --- build: the locked dependencies, then a wheel of image-bot, into /opt/venv -------------
FROM python:3.11-slim@sha256:90744cff8f32887f075c47d747a173ff333e9e98801667af93c357fa9f5e28ff AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
# requirements/runtime.txt is uv.lock exported with every file's hash (scripts/lock):
# the image gets exactly the versions the tests ran on, or the build fails.
COPY requirements/runtime.txt ./requirements/runtime.txt
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --require-hashes --no-deps -r requirements/runtime.txt
COPY pyproject.toml README.md LICENSE ./
COPY image_bot ./image_bot
RUN python -m pip wheel --no-deps --wheel-dir /wheels . \
 && /opt/venv/bin/pip install --no-deps /wheels/image_bot-*.whl \
 && /opt/venv/bin/pip check

# --- runtime: python, git (publish uses the git CLI), CA certificates, no root -------------
FROM python:3.11-slim@sha256:90744cff8f32887f075c47d747a173ff333e9e98801667af93c357fa9f5e28ff
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="image-bot" \
      org.opencontainers.image.description="GitOps image updates as pull requests: scan registries, decide tags by policy, edit manifests byte-exactly." \
      org.opencontainers.image.url="https://github.com/image-bot/image-bot" \
      org.opencontainers.image.source="https://github.com/image-bot/image-bot" \
      org.opencontainers.image.documentation="https://github.com/image-bot/image-bot/tree/main/docs" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.vendor="image-bot maintainers" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="docker.io/library/python:3.11-slim" \
      org.opencontainers.image.base.digest="sha256:90744cff8f32887f075c47d747a173ff333e9e98801667af93c357fa9f5e28ff"
# openssh-client: git over ssh (git@host:org/repo.git remotes); git does not pull it in
# with --no-install-recommends.
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates openssh-client \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 image-bot \
 && useradd --system --uid 10001 --gid image-bot --home-dir /home/image-bot --create-home image-bot \
 && mkdir -p /config /var/lib/image-bot \
 && chown image-bot:image-bot /var/lib/image-bot
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    XDG_STATE_HOME=/var/lib \
    HOME=/home/image-bot
# state (first-seen digests, tag cache) lives in $XDG_STATE_HOME/image-bot = /var/lib/image-bot;
# clones in $HOME/.cache/image-bot
VOLUME ["/var/lib/image-bot"]
USER 10001:10001
WORKDIR /home/image-bot
# image-bot serve listens here (health, metrics, status page, webhooks)
EXPOSE 8080
# For `serve`: GET /healthz (set IMAGE_BOT_HEALTH_URL when the config moves the port). A
# one-shot `run --once` container has no server, so the check passes when PID 1 is not serve.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import os, sys, urllib.request; serving = b'serve' in open('/proc/1/cmdline', 'rb').read().split(b'\\0'); serving and urllib.request.urlopen(os.environ.get('IMAGE_BOT_HEALTH_URL', 'http://127.0.0.1:8080/healthz'), timeout=4)"]
ENTRYPOINT ["image-bot"]
CMD ["run", "--once", "--config", "/config/image-bot.yaml"]
