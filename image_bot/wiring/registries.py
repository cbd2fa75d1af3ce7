"""Config registries -> `scan.hosts.RegistrySettings`; the one place their secrets are revealed."""

from __future__ import annotations

from image_bot.config import Config, RegistrySpec
from image_bot.reference import DOCKER_HUB
from image_bot.scan.cloud.kinds import CloudAuth
from image_bot.scan.hosts import RegistrySettings

__all__ = ["canonical_host", "registry_settings"]

_DOCKER_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})


def canonical_host(host: str) -> str:
    """The host as image names normalize it: `index.docker.io` -> `docker.io`, lower case."""
    host = host.lower()
    return DOCKER_HUB if host in _DOCKER_HUB_ALIASES else host


def _settings(spec: RegistrySpec) -> RegistrySettings:
    return RegistrySettings(
        host=canonical_host(spec.host),
        mirror=spec.mirror,
        insecure=spec.insecure,
        username=spec.username,
        password=spec.password.get_secret_value() if spec.password is not None else None,
        concurrency=spec.concurrency,
        token_realms=spec.token_realms,
        timeout=spec.timeout.total_seconds(),
        auth=CloudAuth(spec.auth) if spec.auth is not None else None,
        aws_profile=spec.aws.profile if spec.aws is not None else None,
        aws_role_arn=spec.aws.role_arn if spec.aws is not None else None,
    )


def registry_settings(config: Config) -> list[RegistrySettings]:
    """One RegistrySettings per configured registry (hosts not listed use the defaults)."""
    return [_settings(spec) for spec in config.registries]
