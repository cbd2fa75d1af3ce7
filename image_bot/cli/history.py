"""`image-bot history` (which version ran where, since when, how it got there) and
`image-bot envs` (the stage x image matrix with drift), read from a repository's git history.

The repository is the one PATH is in. Its stages and scope come from `--config` (with
`--repository` when it lists several), else its `.github/image-bot.yml`, else the whole
directory PATH without stages (entries per file).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import click

from image_bot.cli.exit_codes import exits_on_errors
from image_bot.cli.output.history import envs_json, envs_text, history_json, history_text
from image_bot.config import Config, RepositorySpec, parse_duration
from image_bot.config.load import load_config, load_repository_settings
from image_bot.errors import ConfigError
from image_bot.history.matrix import environments, places
from image_bot.pipeline.history import repository_timeline
from image_bot.publish.git import Git
from image_bot.reference import name_matches

__all__ = ["envs", "history", "select_repository"]

F = TypeVar("F", bound=Callable[..., object])
SETTINGS_FILE = Path(".github/image-bot.yml")


def select_repository(
    config_path: Path | None,
    name: str | None,
    root: Path,
    *,
    subdirectory: str = ".",
    config: Config | None = None,
) -> RepositorySpec:
    """The repository entry to read `root` with (see the module docstring); `config` is the
    file at `config_path` when the caller has loaded it already."""
    if config_path is not None:
        config = config or load_config(config_path, require_env=False)
        candidates = [
            repo
            for repo in config.repositories
            if name is None or name in (repo.url, repo.project_name)
        ]
        if len(candidates) != 1:
            listed = ", ".join(repo.project_name for repo in config.repositories) or "none"
            why = f"no repository {name!r}" if name and not candidates else "choose one"
            raise ConfigError(
                f"{why} with --repository (repositories: {listed})",
                file=str(config_path),
                field="repositories",
            )
        return candidates[0]
    settings = root / SETTINGS_FILE
    if settings.is_file():
        return load_repository_settings(settings, url=str(root))
    return RepositorySpec(url=str(root), paths=(subdirectory,))


def _reading_options(command: F) -> F:
    options = (
        click.argument(
            "path",
            type=click.Path(path_type=Path, exists=True, file_okay=False),
            default=Path(),
            required=False,
        ),
        click.option(
            "--config",
            "-c",
            "config_path",
            type=click.Path(path_type=Path, dir_okay=False),
            help="A config file naming the repository's stages and paths.",
        ),
        click.option("--repository", help="Which repository of --config (URL or project)."),
        click.option(
            "--rev", default="HEAD", show_default=True, help="Read this commit's history."
        ),
        click.option("--path-only", is_flag=True, help="Key entries by file, not stage."),
        click.option("--json", "as_json", is_flag=True, help="Print JSON."),
    )
    for option in reversed(options):
        command = option(command)
    return command


def _since(text: str | None, now: datetime) -> datetime | None:
    """`--since`: an ISO date or time (UTC unless it says otherwise), or a duration ago."""
    if text is None:
        return None
    ago = parse_duration(text)
    if isinstance(ago, timedelta):
        return now - ago
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"not a date, time or duration: {text!r} (2026-12-01, 7d)", field="--since"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _open(path: Path, config_path: Path | None, name: str | None) -> tuple[RepositorySpec, Git]:
    git = Git.at(path)
    relative = path.resolve().relative_to(git.workdir.resolve()).as_posix() or "."
    return select_repository(config_path, name, git.workdir, subdirectory=relative), git


@click.command()
@_reading_options
@click.option("--stage", help="Only this stage (or, without stages, this file).")
@click.option(
    "--image", "image_glob", help="Only images matching this glob (`nginx`, `ghcr.io/acme/*`)."
)
@click.option(
    "--since", "since_text", help="Only entries running at or after this (2026-12-01, 7d)."
)
@exits_on_errors
def history(
    *,
    path: Path,
    config_path: Path | None,
    repository: str | None,
    rev: str,
    path_only: bool,
    as_json: bool,
    stage: str | None,
    image_glob: str | None,
    since_text: str | None,
) -> None:
    """For every stage and image, the versions it ran: since when, until when, the commit, its
    author, the pull request that merged it, and the upstream stage it was promoted from."""
    repo, git = _open(path, config_path, repository)
    since = _since(since_text, datetime.now(UTC))
    timeline = repository_timeline(repo, git, rev, by_file=path_only)
    by_file = path_only or not repo.stages
    order = {name: index for index, name in enumerate(s.name for s in repo.stages)}
    entries = [
        e
        for e in timeline.entries
        if (stage is None or e.place == stage)
        and (image_glob is None or name_matches(e.image, image_glob))
        and (since is None or e.until is None or e.until >= since)
    ]
    entries.sort(key=lambda e: (order.get(e.place, len(order)), e.place, e.image, e.order))
    click.echo(history_json(entries, by_file=by_file) if as_json else history_text(entries))


@click.command()
@_reading_options
@exits_on_errors
def envs(
    *,
    path: Path,
    config_path: Path | None,
    repository: str | None,
    rev: str,
    path_only: bool,
    as_json: bool,
) -> None:
    """The matrix of stage x image: the version each stage runs, since when, and how far it is
    behind its upstream (versions, and since when)."""
    repo, git = _open(path, config_path, repository)
    timeline = repository_timeline(repo, git, rev, by_file=path_only)
    staged = bool(repo.stages) and not path_only
    order = places(timeline, [s.name for s in repo.stages] if staged else ())
    upstreams = {s.name: s.promote_from for s in repo.stages} if staged else {}
    cells = environments(timeline, upstreams)
    if as_json:
        click.echo(envs_json(order, cells))
    else:
        click.echo(envs_text(order, cells, now=datetime.now(UTC)))
