"""GitHub App mode: the App's credentials and where installed repositories keep settings."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, SecretStr

from image_bot.config.fields import RepoPath, Section
from image_bot.config.policy import Duration

__all__ = ["GitHubAppServiceSpec"]


class GitHubAppServiceSpec(Section):
    """Run as a GitHub App: update every repository of every installation of the App.

    Each repository may hold its own settings (the `repositories[]` options except `url`,
    `project` and `forge`) in `config_path`; a repository without that file uses the defaults
    on its default branch. A file that does not validate is reported in an issue on the
    repository (closed once the file is fixed) and the repository is skipped meanwhile.
    """

    app_id: int = Field(ge=1)
    """The App's numeric id (App settings page)."""
    private_key: SecretStr
    """The App's PEM private key; write it as `${file:/run/secrets/app.pem}`."""
    api_url: str = Field(default="https://api.github.com", pattern=r"^https?://")
    """GitHub API base URL (GitHub Enterprise: `https://github.example.com/api/v3`)."""
    config_path: RepoPath = ".github/image-bot.yml"
    """The file in each repository (on its default branch) with that repository's settings."""
    report_errors: bool = True
    """Open an issue on a repository whose settings file is invalid (needs *Issues: write*)."""
    write_interval: Duration | None = Field(default=None, ge=timedelta(0), le=timedelta(minutes=1))
    """The least time between two writes to `api_url`, as `forge.write_interval` of a
    configured repository (default `1s`)."""
