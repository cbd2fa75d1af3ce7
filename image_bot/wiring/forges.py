"""Config forges -> `publish.forge_kind.ForgeSettings`; the one place their secrets are revealed."""

from __future__ import annotations

from urllib.parse import urlsplit

from image_bot.config import RepositorySpec
from image_bot.errors import register_secret
from image_bot.publish.forge import Forge, RateLimitReporter
from image_bot.publish.forge_kind import (
    ForgeSettings,
    GitHubAppSettings,
    KeptCredentials,
    RepositoryForge,
    SharedSpacing,
)
from image_bot.publish.forges import FORGE_KINDS

__all__ = ["Forges", "forge_settings"]


def forge_settings(repository: RepositorySpec) -> ForgeSettings:
    """The frozen settings of `repository`'s forge (API URL resolved, secrets registered)."""
    forge = repository.forge
    kind = FORGE_KINDS[forge.type]
    token = forge.token.get_secret_value() if forge.token is not None else None
    register_secret(token)
    app = None
    if forge.app is not None:
        key = forge.app.private_key.get_secret_value()
        register_secret(key)
        app = GitHubAppSettings(forge.app.app_id, key, forge.app.installation_id)
    return ForgeSettings(
        type=forge.type,
        repo_url=repository.url,
        project=repository.project_name,
        base=repository.base,
        branch_prefix=repository.branch_prefix,
        bot_email=repository.commit.author_email,
        url=forge.url,
        api_url=forge.api_url.rstrip("/") if forge.api_url else kind.default_api_url(forge.url),
        token=token,
        app=app,
        write_interval=(
            forge.write_interval.total_seconds() if forge.write_interval is not None else None
        ),
    )


class Forges:
    """Binds each repository to its forge kind (a `pipeline.ForgeFactory`).

    A long-running service keeps one instance: GitHub App installation credentials (and
    their hour-long tokens, renewed by PyGithub) are then reused across passes instead of
    costing a token request, and an installation lookup, per repository per pass. With
    `shared_spacing` (a PostgreSQL state), GitHub writes take turns with other processes too.
    """

    def __init__(self, shared_spacing: SharedSpacing | None = None) -> None:
        self._kept = KeptCredentials(shared_spacing)
        self._opened: list[tuple[str, str, RateLimitReporter]] = []  # (name, API host, forge)

    def __call__(self, repository: RepositorySpec) -> RepositoryForge:
        """`repository`'s forge: its kind with its settings and this instance's credentials."""
        settings = forge_settings(repository)
        host = urlsplit(settings.api_url or "").netloc

        def opened(forge: Forge) -> None:
            if isinstance(forge, RateLimitReporter):
                self._opened.append((settings.type, host, forge))

        return RepositoryForge(FORGE_KINDS[settings.type], settings, self._kept, opened)

    def rate_limits(self) -> dict[tuple[str, str], int]:
        """(forge name, API host) -> the smallest remaining quota that the forges opened since
        the last call saw in their last response (the metrics' gauge); then forgets them."""
        quotas: dict[tuple[str, str], int] = {}
        opened, self._opened = self._opened, []
        for name, host, forge in opened:
            remaining = forge.rate_limit_remaining()
            if remaining is not None:
                quotas[(name, host)] = min(remaining, quotas.get((name, host), remaining))
        return quotas
