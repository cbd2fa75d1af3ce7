"""`image-bot run --once`: one pass over every configured repository, for cron and CI.

Exit codes: 0 done, 1 something failed (the rest was still done), 2 bad config or usage.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager, contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Literal

import click

from image_bot.app.configfile import default_state_dir, load_config
from image_bot.app.exit_codes import exits_on_errors
from image_bot.app.logs import setup_logging
from image_bot.app.registries import registry_settings
from image_bot.app.report import report_json, report_text
from image_bot.errors import ConfigError
from image_bot.pipeline import OpenRegistry, PassOptions, Progress, run_pass
from image_bot.publish.forge import Forge
from image_bot.publish.git import Git
from image_bot.publish.local import LocalForge
from image_bot.scan.oci import OCIRegistry
from image_bot.scan.registry import Registry
from image_bot.spec import Config, RepositorySpec, parse_duration
from image_bot.state import StateError, StateStore

__all__ = ["forge_for", "run"]

log = logging.getLogger(__name__)


def default_cache_dir() -> Path:
    """`$XDG_CACHE_HOME/image-bot/clones`, or `~/.cache/image-bot/clones`."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "image-bot" / "clones"


def forge_for(repo: RepositorySpec, git: Git) -> Forge:
    """The forge of `repo`, as configured; `local` works on the fetched clone itself."""
    spec = repo.forge
    prefix = repo.branch_prefix
    if spec.type == "local":
        return LocalForge(git, repo.base, prefix, repo.commit.author_email)
    # The API clients load only when a repository uses them (PyGithub alone takes ~0.2 s).
    from image_bot.publish.github import GitHubForge  # noqa: PLC0415
    from image_bot.publish.gitlab import GitLabForge  # noqa: PLC0415

    api = spec.api_base or ""
    if spec.type == "github" and spec.app is not None:
        return GitHubForge.for_installation(
            spec.app.app_id,
            spec.app.private_key.get_secret_value(),
            installation_id=spec.app.installation_id,
            repo=repo.project_name,
            api_url=api,
            branch_prefix=prefix,
        )
    if spec.token is None:
        raise ConfigError(f"forge {spec.type} needs a token", field="repositories[].forge.token")
    token = spec.token.get_secret_value()
    if spec.type == "github":
        return GitHubForge.with_token(token, api_url=api, branch_prefix=prefix)
    return GitLabForge(token, url=api, branch_prefix=prefix)


@contextmanager
def _state(state_dir: Path | None, *, read_only: bool) -> Iterator[StateStore | None]:
    if state_dir is None:
        yield None
        return
    try:
        store = StateStore.in_dir(state_dir, read_only=read_only)
    except StateError as error:
        log.warning("running without a state file", extra={"error": error.message})
        yield None
        return
    with store:
        yield store


@contextmanager
def _progress(enabled: bool) -> Iterator[Progress | None]:
    if not enabled:
        yield None
        return
    from rich.console import Console  # noqa: PLC0415  (only interactive terminals need rich)

    with Console(stderr=True).status("starting") as status:
        yield lambda text: status.update(text)  # noqa: PLW0108  (status.update takes more)


@click.command("run")
@click.option("--once", is_flag=True, help="Run one pass and exit (`serve` runs a service).")
@click.option(
    "--config",
    "-c",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("image-bot.yaml"),
    show_default=True,
    envvar="IMAGE_BOT_CONFIG",
    help="The config file.",
)
@click.option("--dry-run", is_flag=True, help="Print the plan and the diff; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable report.")
@click.option(
    "--state-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Keep first-seen times here [default: state_dir, or $XDG_STATE_HOME/image-bot].",
)
@click.option("--no-state", is_flag=True, help="Keep no state (throwaway CI jobs).")
@click.option(
    "--cache-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Keep clones here [default: $XDG_CACHE_HOME/image-bot/clones].",
)
@click.option(
    "--tag-cache-ttl",
    default="0s",
    show_default=True,
    help="Reuse tag listings younger than this (`5m`); needs state.",
)
@click.option(
    "--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@exits_on_errors
def run(
    *,
    once: bool,
    config_path: Path,
    dry_run: bool,
    as_json: bool,
    state_dir: Path | None,
    no_state: bool,
    cache_dir: Path | None,
    tag_cache_ttl: str,
    log_format: Literal["text", "json"],
) -> None:
    """Scan registries, decide, edit each repository and push the bot's branches, once."""
    if not once:
        raise click.UsageError("run needs --once (for a long-running service use `serve`)")
    ttl = parse_duration(tag_cache_ttl)
    if not isinstance(ttl, timedelta):
        raise ConfigError(f"not a duration: {tag_cache_ttl!r}", field="--tag-cache-ttl")
    # The text report already tells each branch's story; text logs add only the trouble.
    setup_logging(log_format, level=logging.INFO if log_format == "json" else logging.WARNING)
    config = load_config(config_path)
    state_path = None if no_state else (state_dir or config.state_dir or default_state_dir())
    options = PassOptions(
        cache_dir=cache_dir or default_cache_dir(), dry_run=dry_run, tag_cache_ttl=ttl
    )
    interactive = sys.stderr.isatty() and log_format == "text" and not as_json
    with _state(state_path, read_only=dry_run) as state, _progress(interactive) as progress:
        report = run_pass(
            config,
            open_registry=_registry_opener(config),
            forge_for=forge_for,
            options=options,
            state=state,
            progress=progress,
        )
    click.echo(report_json(report) if as_json else report_text(report))
    sys.exit(report.exit_code)


def _registry_opener(config: Config) -> OpenRegistry:
    settings = registry_settings(config)

    def open_registry() -> AbstractAsyncContextManager[Registry]:
        return OCIRegistry(settings, docker_config=config.docker_config)

    return open_registry
