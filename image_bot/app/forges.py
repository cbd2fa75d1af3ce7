"""Composition: the Forge (and pull-request limits) for one configured repository."""

from __future__ import annotations

from image_bot.errors import ConfigError
from image_bot.publish.forge import Forge
from image_bot.publish.git import Git
from image_bot.publish.github import GitHubForge
from image_bot.publish.gitlab import GitLabForge
from image_bot.publish.limits import PullRequestLimits
from image_bot.publish.local import LocalForge
from image_bot.spec import RepositorySpec

__all__ = ["build_forge", "limits_for"]


def build_forge(repository: RepositorySpec, git: Git) -> Forge:
    """The forge `repository.forge` names, with its credentials revealed only here.

    `git` is the repository's clone; only the local forge (branches only) uses it.
    Raises ConfigError when the forge needs a credential the configuration lacks.
    """
    forge = repository.forge
    prefix = repository.branch_prefix
    if forge.type == "local":
        return LocalForge(
            git=git,
            base=repository.base,
            branch_prefix=prefix,
            bot_email=repository.commit.author_email,
        )
    api_url = forge.api_base
    if api_url is None:  # pragma: no cover - api_base is None only for `local`
        raise ConfigError("no API URL for this forge", field="forge.api_url")
    if forge.type == "github":
        if forge.app is not None:
            return GitHubForge.for_installation(
                forge.app.app_id,
                forge.app.private_key.get_secret_value(),
                installation_id=forge.app.installation_id,
                repo=repository.project_name,
                api_url=api_url,
                branch_prefix=prefix,
            )
        if forge.token is None:
            raise ConfigError("a github forge needs token or app", field="forge.token")
        return GitHubForge.with_token(
            forge.token.get_secret_value(), api_url=api_url, branch_prefix=prefix
        )
    if forge.token is None:
        raise ConfigError("a gitlab forge needs a token", field="forge.token")
    return GitLabForge(forge.token.get_secret_value(), url=api_url, branch_prefix=prefix)


def limits_for(repository: RepositorySpec) -> PullRequestLimits:
    """The open-PR and per-hour caps configured for `repository`."""
    return PullRequestLimits(
        max_open=repository.limits.max_open_pull_requests,
        max_per_hour=repository.limits.max_pull_requests_per_hour,
    )
