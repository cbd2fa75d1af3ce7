"""The click options that `run`, `serve` and `rollback` share (config file, state, cache,
tag cache, digest trust, logs): click and pathlib only, so a command's `--help` loads no
config models, registry client or pipeline."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

import click

__all__ = ["RunRequest", "config_option", "pass_settings"]

F = TypeVar("F", bound=Callable[..., object])


@dataclass(frozen=True, slots=True)
class RunRequest:
    """What `run --once` was asked: `pass_settings`' options, the report's form and the
    shard (the command's options, read; `cli/one_pass.py` carries them out)."""

    config_path: Path
    dry_run: bool
    report_format: Literal["text", "json", "markdown"]
    state_dir: Path | None
    no_state: bool
    cache_dir: Path | None
    tag_cache_ttl: str
    digest_ttl: str
    concurrency: int
    shard: str | None
    log_format: Literal["text", "json"]
    log_level: str | None


def pass_settings(config_help: str) -> Callable[[F], F]:
    """The click options of a command that runs passes: config, state, cache, tag cache,
    digest trust, logs."""

    def decorate(command: F) -> F:
        options = (
            config_option(config_help),
            click.option(
                "--state-dir",
                type=click.Path(path_type=Path, file_okay=False),
                help="Keep state here [default: state_dir, or $XDG_STATE_HOME/image-bot].",
            ),
            click.option("--no-state", is_flag=True, help="Keep no state (throwaway CI jobs)."),
            click.option(
                "--cache-dir",
                type=click.Path(path_type=Path, file_okay=False),
                help="Keep clones here [default: $XDG_CACHE_HOME/image-bot/clones].",
            ),
            click.option(
                "--tag-cache-ttl",
                default="0s",
                show_default=True,
                help="Reuse tag listings younger than this (`5m`); needs state.",
            ),
            click.option(
                "--digest-ttl",
                default="6h",
                show_default=True,
                help="Trust a tag's digest the state file holds this long, while its image's"
                " tags are unchanged; `0s`: ask every pass (see docs/registries.md).",
            ),
            click.option(
                "--concurrency",
                type=click.IntRange(1, 64),
                default=4,
                show_default=True,
                envvar="IMAGE_BOT_CONCURRENCY",
                help="Repositories worked on at once per forge host.",
            ),
            click.option(
                "--log-format",
                type=click.Choice(["text", "json"]),
                default="text",
                show_default=True,
            ),
            click.option(
                "--log-level",
                type=click.Choice(("debug", "info", "warning", "error"), case_sensitive=False),
                help="Log from this level up (overrides `image-bot --log-level`).",
            ),
        )
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


def config_option(config_help: str) -> Callable[[F], F]:
    """`--config/-c FILE` (default `image-bot.yaml`, or `$IMAGE_BOT_CONFIG`) as `config_path`."""
    return click.option(
        "--config",
        "-c",
        "config_path",
        type=click.Path(path_type=Path, dir_okay=False),
        default=Path("image-bot.yaml"),
        show_default=True,
        envvar="IMAGE_BOT_CONFIG",
        help=config_help,
    )
