"""GitHub App credentials: an installation's auth (its id looked up from a repository if need
be) and a plain API client acting as it."""

from __future__ import annotations

import requests
from github import Auth, Github, GithubException, GithubIntegration
from github.GithubException import BadAttributeException

from image_bot.errors import register_secret
from image_bot.publish.forges.github.errors import map_github_error

__all__ = ["app_client", "installation_auth"]


def installation_auth(
    app_id: int,
    private_key: str,
    *,
    installation_id: int | None = None,
    repo: str | None = None,
    api_url: str = "https://api.github.com",
) -> Auth.AppInstallationAuth:
    """Credentials of a GitHub App installation; keep it to reuse its token (valid an hour).

    Without `installation_id`, the installation on `repo` is looked up (one request).
    """
    register_secret(private_key)
    app = Auth.AppAuth(app_id, private_key)
    if installation_id is None:
        if repo is None:
            raise ValueError("give installation_id or the repo to look it up from")
        installation_id = _installation_on(app, repo, api_url)
    return app.get_installation_auth(installation_id)


def app_client(auth: Auth.AppInstallationAuth, api_url: str) -> Github:
    """A lazy API client acting as the installation: two retries, no request spacing."""
    return Github(
        auth=auth,
        base_url=api_url.rstrip("/"),
        retry=2,
        lazy=True,
        seconds_between_requests=None,
        seconds_between_writes=None,
    )


def _installation_on(app: Auth.AppAuth, repo: str, api_url: str) -> int:
    owner, _, name = repo.partition("/")
    integration = GithubIntegration(auth=app, base_url=api_url.rstrip("/"), retry=2)
    try:
        return integration.get_repo_installation(owner, name).id
    except (GithubException, BadAttributeException, requests.RequestException) as exc:
        raise map_github_error(exc, repo) from None
    finally:
        integration.close()
