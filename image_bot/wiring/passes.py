"""What `run` and `serve` share: their pass options, the state store, the registry opener."""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, closing, contextmanager
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from image_bot.config import Config, parse_duration
from image_bot.config.load import default_state_dir
from image_bot.errors import ConfigError, register_secret
from image_bot.pipeline import OpenRegistry, PassOptions
from image_bot.publish.forge_kind import SharedSpacing
from image_bot.scan.auth import TokenCache
from image_bot.scan.cloud.provider import CloudCredentials
from image_bot.scan.manifests import ManifestCache
from image_bot.scan.oci import OCIRegistry
from image_bot.scan.registry import Registry
from image_bot.scan.trust import DeferredTrustContext
from image_bot.state import StateError, StateStore
from image_bot.state.write_slots import WriteSlots
from image_bot.wiring.registries import registry_settings

__all__ = [
    "StateLocation",
    "default_cache_dir",
    "lease_holder",
    "open_state",
    "pass_options",
    "registry_opener",
    "shared_write_spacing",
    "state_location",
    "state_path",
    "with_leases",
]

StateLocation = Path | str | None
"""Where state lives: a state directory (SQLite), a `postgresql://` URL, or nowhere."""

log = logging.getLogger(__name__)


def default_cache_dir() -> Path:
    """`$XDG_CACHE_HOME/image-bot/clones`, or `~/.cache/image-bot/clones`."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "image-bot" / "clones"


def pass_options(
    *,
    cache_dir: Path | None,
    dry_run: bool,
    tag_cache_ttl: str,
    digest_ttl: str = "6h",
    concurrency: int = 1,
) -> PassOptions:
    """PassOptions from the command line; a bad duration is a ConfigError (exit 2)."""
    return PassOptions(
        cache_dir=cache_dir or default_cache_dir(),
        dry_run=dry_run,
        tag_cache_ttl=_duration(tag_cache_ttl, "--tag-cache-ttl"),
        digest_ttl=_duration(digest_ttl, "--digest-ttl"),
        concurrency=concurrency,
    )


def lease_holder() -> str:
    """This process's name on leases and in the work queue: host (the pod) and pid."""
    return f"{socket.gethostname()}/{os.getpid()}"


def with_leases(options: PassOptions, config: Config) -> PassOptions:
    """`options` holding repository leases, for as long as `state.lease` says."""
    lease = config.state.lease if config.state is not None else options.lease
    return dataclasses.replace(options, lease_holder=lease_holder(), lease=lease)


def _duration(text: str, option: str) -> timedelta:
    ttl = parse_duration(text)
    if not isinstance(ttl, timedelta):
        raise ConfigError(f"not a duration: {text!r}", field=option)
    return ttl


def state_path(config: Config, *, state_dir: Path | None, no_state: bool) -> Path | None:
    """The state directory: `--state-dir`, else the config's `state_dir`, else the XDG
    default (it also keeps what `serve` keeps in files, with PostgreSQL state too)."""
    if no_state:
        return None
    return state_dir or config.state_dir or default_state_dir()


def state_location(config: Config, *, state_dir: Path | None, no_state: bool) -> StateLocation:
    """Where state lives: the config's `state.url` (PostgreSQL), else the state directory."""
    if no_state:
        return None
    if config.state is not None:
        url = config.state.url.get_secret_value()
        register_secret(urlsplit(url).password)
        return url
    return state_path(config, state_dir=state_dir, no_state=no_state)


@contextmanager
def open_state(location: StateLocation, *, read_only: bool = False) -> Iterator[StateStore | None]:
    """The state store at `location`; None (with a warning) when there is none or it can't
    open (a pass then runs as without state, and its report says what suffers)."""
    if location is None:
        yield None
        return
    try:
        if isinstance(location, str):
            store = StateStore.at_url(location, read_only=read_only)
        else:
            store = StateStore.in_dir(location, read_only=read_only)
    except StateError as error:
        log.warning("running without a state file", extra={"error": error.message})
        yield None
        return
    with store:
        yield store


@contextmanager
def shared_write_spacing(location: StateLocation) -> Iterator[SharedSpacing | None]:
    """With a PostgreSQL state, GitHub write turns shared by every process on it (a
    connection of their own, opened at the first write); else None (each process spaces its
    own writes)."""
    if not isinstance(location, str):
        yield None
        return
    with closing(WriteSlots(location)) as slots:
        yield slots.spacing


def registry_opener(
    config: Config,
    wrap: Callable[[OCIRegistry], AbstractAsyncContextManager[Registry]] | None = None,
    *,
    warnings: list[str] | None = None,
    cloud: CloudCredentials | None = None,
) -> OpenRegistry:
    """Opens one OCIRegistry per pass with the config's registry settings (optionally
    wrapped); what the registries warned about (tags dropped) is added to `warnings`.
    `cloud` keeps cloud registry credentials from one pass to the next. The registries it
    opens (the scan's, then the pull requests' details) share one TLS context, so the
    trust store is read once, and only if a connection uses TLS, and their Bearer tokens
    and auth challenges, so the details neither ask again for the scan's tokens nor meet
    a 401 first, and the manifests they read, so the details do not read again by digest
    an index the scan read by tag."""
    settings = registry_settings(config)
    tls = DeferredTrustContext()
    tokens = TokenCache()
    manifests = ManifestCache()

    @asynccontextmanager
    async def open_registry() -> AsyncIterator[Registry]:
        registry = OCIRegistry(
            settings,
            docker_config=config.docker_config,
            cloud=cloud,
            tls=tls,
            tokens=tokens,
            manifests=manifests,
        )
        try:
            async with registry if wrap is None else wrap(registry) as opened:
                yield opened
        finally:
            for warning in registry.warnings:
                log.warning("registry warning: %s", warning)
            if warnings is not None:
                warnings.extend(registry.warnings)

    return open_registry
