"""What `run` and `serve` share: their pass options, the state store, the registry opener."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import click

from image_bot.config import Config, parse_duration
from image_bot.config.load import default_state_dir
from image_bot.errors import ConfigError
from image_bot.pipeline import OpenRegistry, PassOptions
from image_bot.scan.cloud.provider import CloudCredentials
from image_bot.scan.oci import OCIRegistry
from image_bot.scan.registry import Registry
from image_bot.state import StateError, StateStore
from image_bot.wiring.registries import registry_settings

__all__ = [
    "config_option",
    "default_cache_dir",
    "open_state",
    "pass_options",
    "pass_settings",
    "registry_opener",
    "state_path",
]

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., object])


def default_cache_dir() -> Path:
    """`$XDG_CACHE_HOME/image-bot/clones`, or `~/.cache/image-bot/clones`."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "image-bot" / "clones"


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


def pass_options(
    *, cache_dir: Path | None, dry_run: bool, tag_cache_ttl: str, digest_ttl: str = "6h"
) -> PassOptions:
    """PassOptions from the command line; a bad duration is a ConfigError (exit 2)."""
    return PassOptions(
        cache_dir=cache_dir or default_cache_dir(),
        dry_run=dry_run,
        tag_cache_ttl=_duration(tag_cache_ttl, "--tag-cache-ttl"),
        digest_ttl=_duration(digest_ttl, "--digest-ttl"),
    )


def _duration(text: str, option: str) -> timedelta:
    ttl = parse_duration(text)
    if not isinstance(ttl, timedelta):
        raise ConfigError(f"not a duration: {text!r}", field=option)
    return ttl


def state_path(config: Config, *, state_dir: Path | None, no_state: bool) -> Path | None:
    """Where state lives: `--state-dir`, else the config's `state_dir`, else the XDG default."""
    if no_state:
        return None
    return state_dir or config.state_dir or default_state_dir()


@contextmanager
def open_state(path: Path | None, *, read_only: bool = False) -> Iterator[StateStore | None]:
    """The state store at `path`; None (with a warning) when there is none or it can't open."""
    if path is None:
        yield None
        return
    try:
        store = StateStore.in_dir(path, read_only=read_only)
    except StateError as error:
        log.warning("running without a state file", extra={"error": error.message})
        yield None
        return
    with store:
        yield store


def registry_opener(
    config: Config,
    wrap: Callable[[OCIRegistry], AbstractAsyncContextManager[Registry]] | None = None,
    *,
    warnings: list[str] | None = None,
    cloud: CloudCredentials | None = None,
) -> OpenRegistry:
    """Opens one OCIRegistry per pass with the config's registry settings (optionally
    wrapped); what the registries warned about (tags dropped) is added to `warnings`.
    `cloud` keeps cloud registry credentials from one pass to the next."""
    settings = registry_settings(config)

    @asynccontextmanager
    async def open_registry() -> AsyncIterator[Registry]:
        registry = OCIRegistry(settings, docker_config=config.docker_config, cloud=cloud)
        try:
            async with registry if wrap is None else wrap(registry) as opened:
                yield opened
        finally:
            for warning in registry.warnings:
                log.warning("registry warning: %s", warning)
            if warnings is not None:
                warnings.extend(registry.warnings)

    return open_registry
