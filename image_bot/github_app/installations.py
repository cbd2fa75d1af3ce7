"""GitHub App mode: every installation's repositories, each with its own settings file.

`GitHubAppRepositories.expand(config)` adds a RepositorySpec for every repository the App is
installed on (those the operator's config already lists are left as configured). Each one's
settings come from `github_app.config_path` on its default branch, read through the contents
API and validated like the config file but never interpolated (its authors must not read the
bot's environment or files). A file that does not validate is reported in an issue on the
repository (`github_app_issues.py`) and the repository is skipped until it is fixed.

Installation tokens are kept per installation (PyGithub renews them before they expire);
`authorize(config)` hands a pass the current token as the App repositories' `forge.token`
(in memory only): git sends it per command, so it never lands in a clone's `.git/config`,
and the clone URL (hence the cached clone) stays the same when the token is renewed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from github import Auth, Github, GithubException, GithubIntegration
from github.GithubException import BadAttributeException, UnknownObjectException
from github.PaginatedList import PaginatedList
from github.Repository import Repository
from pydantic import SecretStr, ValidationError

from image_bot.config import Config, GitHubAppServiceSpec, RepositorySpec
from image_bot.config.errors import validation_error
from image_bot.config.located import read_yaml
from image_bot.errors import ConfigError, ImageBotError, register_secret
from image_bot.github_app.config_issues import ConfigIssues
from image_bot.publish.forges.github.auth import app_client
from image_bot.publish.forges.github.errors import map_github_error

__all__ = ["GitHubAppRepositories", "InstalledRepository", "repository_settings"]

log = logging.getLogger(__name__)

_API_ERRORS = (GithubException, BadAttributeException, requests.RequestException)
_BOT_OWNED = ("url", "project", "forge")  # set by the bot, never by a repository's file


@dataclass(frozen=True, slots=True)
class InstalledRepository:
    """A repository the App is installed on."""

    full_name: str
    installation_id: int
    clone_url: str
    default_branch: str


class GitHubAppRepositories:
    """Discovers the App's repositories and their settings; keeps installation tokens."""

    def __init__(self, spec: GitHubAppServiceSpec) -> None:
        self.spec = spec
        self._api_url = spec.api_url.rstrip("/")
        key = spec.private_key.get_secret_value()
        register_secret(key)
        self._app = Auth.AppAuth(spec.app_id, key)
        self._clients: dict[int, Github] = {}
        self._installation_auth: dict[int, Auth.AppInstallationAuth] = {}
        self._last: tuple[RepositorySpec, ...] = ()
        self._issues = ConfigIssues(spec.config_path) if spec.report_errors else None
        self.generation = 0  # bumped when tokens are dropped: forges made before are stale

    def forget(self, installation_id: int) -> None:
        """Drop the installation's token: its repository set changed (a fresh token covers
        the new set; safe from any thread)."""
        self._clients.pop(installation_id, None)
        self._installation_auth.pop(installation_id, None)
        self.generation += 1

    def expand(self, config: Config) -> Config:
        """`config` plus every installed repository it does not list (network: call it from
        the worker). When GitHub cannot be reached, the last discovered set is kept."""
        try:
            found = self._discover()
        except ImageBotError as error:
            log.warning("github app discovery failed", extra={"error": error.message})
            found = self._last
        self._last = found
        listed = {repo.project_name.lower() for repo in config.repositories}
        extra = tuple(repo for repo in found if repo.project_name.lower() not in listed)
        return config.model_copy(update={"repositories": (*config.repositories, *extra)})

    def authorize(self, config: Config) -> Config:
        """`config` with a current installation token as `forge.token` of App repositories
        (next to `forge.app`; git sends it over HTTPS: `publish.forges.github.kind`)."""
        repositories = tuple(self._with_token(repo) for repo in config.repositories)
        return config.model_copy(update={"repositories": repositories})

    # --- discovery ------------------------------------------------------------------------

    def installed(self) -> list[InstalledRepository]:
        """Every repository of every installation (one request per installation and page)."""
        integration = GithubIntegration(auth=self._app, base_url=self._api_url, retry=2)
        found: list[InstalledRepository] = []
        try:
            installation_ids = [installation.id for installation in integration.get_installations()]
            for installation_id in installation_ids:
                client = self._client(installation_id)
                listing: PaginatedList[Repository] = PaginatedList(
                    Repository,
                    client.requester,
                    "/installation/repositories",
                    None,
                    list_item="repositories",
                )
                found += [
                    InstalledRepository(
                        repo.full_name, installation_id, repo.clone_url, repo.default_branch
                    )
                    for repo in listing
                ]
        except _API_ERRORS as exc:
            raise map_github_error(exc, "GitHub App installations") from None
        finally:
            integration.close()
        return found

    def _discover(self) -> tuple[RepositorySpec, ...]:
        found = []
        for installed in self.installed():
            try:
                text = self._read_settings(installed)
                repository = repository_settings(
                    text, installed, self.spec, source=self.spec.config_path
                )
            except ConfigError as error:
                log.warning(
                    "repository settings invalid; skipping the repository",
                    extra={"repo": installed.full_name, "error": error.message},
                )
                self._report(installed, error)
                continue
            except ImageBotError as error:
                log.warning(
                    "cannot read repository settings; skipping the repository",
                    extra={"repo": installed.full_name, "error": error.message},
                )
                continue
            self._report(installed, None)
            found.append(repository)
        return tuple(found)

    def _read_settings(self, installed: InstalledRepository) -> str | None:
        repo = self._repo(installed)
        try:
            content = repo.get_contents(self.spec.config_path, ref=installed.default_branch)
        except UnknownObjectException:
            return None
        except _API_ERRORS as exc:
            raise map_github_error(exc, installed.full_name) from None
        if isinstance(content, list):  # a directory
            raise ConfigError("is a directory, not a file", file=self.spec.config_path)
        try:
            return content.decoded_content.decode("utf-8")
        except UnicodeDecodeError:
            raise ConfigError("not UTF-8 text", file=self.spec.config_path) from None

    def _report(self, installed: InstalledRepository, error: ConfigError | None) -> None:
        if self._issues is None:
            return
        try:
            self._issues.report(self._repo(installed), error)
        except _API_ERRORS as exc:
            mapped = map_github_error(exc, installed.full_name)
            log.warning("cannot report settings errors", extra={"error": mapped.message})

    # --- credentials -----------------------------------------------------------------------

    def _repo(self, installed: InstalledRepository) -> Repository:
        client = self._client(installed.installation_id)
        return client.get_repo(installed.full_name)  # lazy: no request

    def _client(self, installation_id: int) -> Github:
        if installation_id not in self._clients:
            auth = self._app.get_installation_auth(installation_id)
            self._installation_auth[installation_id] = auth
            self._clients[installation_id] = app_client(auth, self._api_url)
        return self._clients[installation_id]

    def _with_token(self, repo: RepositorySpec) -> RepositorySpec:
        app = repo.forge.app
        if app is None or app.app_id != self.spec.app_id or app.installation_id is None:
            return repo
        if not repo.url.lower().startswith(("https://", "http://")):
            return repo  # ssh: git's own keys
        self._client(app.installation_id)
        auth = self._installation_auth.get(app.installation_id)
        if auth is None:  # forgotten meanwhile: the next pass gets a fresh one
            return repo
        try:
            token = auth.token
        except _API_ERRORS as exc:
            raise map_github_error(exc, repo.project_name) from None
        register_secret(token)
        forge = repo.forge.model_copy(update={"token": SecretStr(token)})
        return repo.model_copy(update={"forge": forge})


def repository_settings(
    text: str | None,
    installed: InstalledRepository,
    spec: GitHubAppServiceSpec,
    *,
    source: str,
) -> RepositorySpec:
    """The RepositorySpec of an installed repository from its settings file (None: absent).

    Never interpolated; `url`, `project` and `forge` are the bot's to set. Raises ConfigError
    naming `source`, the line and the field.
    """
    document = read_yaml(text or "", source=source, base_dir=Path(), interpolate=False)
    data: Any = {} if document.data is None else document.data
    if not isinstance(data, dict):
        raise document.error("the settings file is a mapping (key: value)", ())
    for key in _BOT_OWNED:
        if key in data:
            raise document.error("set by the GitHub App; remove it from this file", (key,))
    app = {"app_id": spec.app_id, "private_key": spec.private_key.get_secret_value()}
    app["installation_id"] = installed.installation_id
    forge: dict[str, Any] = {"type": "github", "api_url": spec.api_url, "app": app}
    if spec.write_interval is not None:
        forge["write_interval"] = spec.write_interval
    full = {
        "base": installed.default_branch,
        **data,
        "url": installed.clone_url,
        "project": installed.full_name,
        "forge": forge,
    }
    try:
        return RepositorySpec.model_validate(full)
    except ValidationError as error:
        raise validation_error(error, full, RepositorySpec, document) from None
