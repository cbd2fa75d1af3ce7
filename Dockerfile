# syntax=docker/dockerfile:1
# image-bot: scan registries, edit manifests, open pull requests. Never touches a cluster.
#
#   docker build -t image-bot .
#   docker run --rm -v "$PWD/image-bot.yaml:/config/image-bot.yaml:ro" \
#     -e GITHUB_TOKEN image-bot                      # run --once with /config/image-bot.yaml
#   docker run --rm image-bot tags nginx:1.25 --policy 'semver: ~1.25'

# --- build: a wheel of image-bot, installed with its dependencies into /opt/venv ---------
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY image_bot ./image_bot
RUN python -m pip wheel --no-deps --wheel-dir /wheels . \
 && python -m venv /opt/venv \
 && /opt/venv/bin/pip install /wheels/image_bot-*.whl

# --- runtime: python, git (publish uses the git CLI), CA certificates, no root -------------
FROM python:3.11-slim
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
ENTRYPOINT ["image-bot"]
CMD ["run", "--once", "--config", "/config/image-bot.yaml"]
