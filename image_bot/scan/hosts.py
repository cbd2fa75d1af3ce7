"""Per-host settings and quirks: Docker Hub's API host, mirrors, insecure, credential scope."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx

from image_bot.errors import ConfigError, register_secret
from image_bot.scan.cloud.kinds import CloudAuth, detect

__all__ = ["Endpoint", "RegistrySettings", "endpoint_for", "settings_by_host"]

# Canonical host -> the host that serves its /v2/ API.
_API_HOSTS = {"docker.io": "registry-1.docker.io"}
# Token realms on another host that these registries are known to use (credentials may go there).
_KNOWN_REALMS = {
    "docker.io": ("auth.docker.io",),
    "registry.gitlab.com": ("gitlab.com",),
}


@dataclass(frozen=True, slots=True)
class RegistrySettings:
    """How to reach one registry (by canonical host, as in `ImageName.registry`).

    `localhost` and `127.0.0.1` are not insecure by default: say `insecure=True` to allow
    plain http (and credentials over it).
    """

    host: str  # canonical host as in ImageName.registry: "docker.io", "ghcr.io", "127.0.0.1:5000"
    mirror: str | None = (
        None  # base URL used for reads instead, e.g. "https://mirror.internal:5000"
    )
    insecure: bool = False  # allow plain http (and credentials over it)
    username: str | None = None
    password: str | None = None  # password or token (registered with errors.register_secret)
    concurrency: int = 8
    token_realms: tuple[
        str, ...
    ] = ()  # extra hosts allowed to receive credentials (token exchange)
    timeout: float = 60.0  # seconds for one whole request: redirects, headers and body
    auth: CloudAuth | None = None  # a cloud's token flow; None: by the host's name
    aws_profile: str | None = None  # ECR: the botocore profile (else the standard chain)
    aws_role_arn: str | None = None  # ECR: assume this role first (another account)

    @property
    def cloud(self) -> CloudAuth | None:
        """The cloud token flow this registry uses: as set, else by its host's name."""
        kind = self.auth if self.auth is not None else detect(self.host)
        return None if kind is CloudAuth.NONE else kind

    def __post_init__(self) -> None:
        register_secret(self.password)
        if self.concurrency < 1:
            raise ConfigError("concurrency must be at least 1", field=f"registries.{self.host}")
        if not self.timeout > 0:
            raise ConfigError("timeout must be positive", field=f"registries.{self.host}.timeout")
        if self.mirror is not None and not self.mirror.startswith(("https://", "http://")):
            raise ConfigError(
                f"mirror must be an http(s) URL, got {self.mirror!r}",
                field=f"registries.{self.host}.mirror",
            )

    def __repr__(self) -> str:
        shown = "***" if self.password else None
        return (
            f"RegistrySettings(host={self.host!r}, mirror={self.mirror!r}, "
            f"insecure={self.insecure}, username={self.username!r}, password={shown!r}, "
            f"concurrency={self.concurrency}, token_realms={self.token_realms!r}, "
            f"timeout={self.timeout}, auth={self.auth!r})"
        )


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where the API of one registry is reached, and who may receive its credentials."""

    settings: RegistrySettings
    base_url: httpx.URL  # scheme://host[:port], no path: requests go to base_url + /v2/...
    credential_hosts: frozenset[str] = field(default_factory=frozenset)  # hostnames, no port

    @property
    def host(self) -> str:
        """The canonical registry host (`docker.io`), for messages and counters."""
        return self.settings.host

    @property
    def origin(self) -> str:
        """`scheme://host[:port]` of the API: the key of its connection pool."""
        return str(self.base_url).rstrip("/")

    def may_receive_credentials(self, url: httpx.URL) -> bool:
        """True when `url` is on an allowed host and encrypted (or the registry is insecure)."""
        return self.refusal(url) is None

    def refusal(self, url: httpx.URL) -> str | None:
        """Why credentials may not go to `url`, naming each rule that refuses it; or None."""
        why = []
        if url.host not in self.credential_hosts:
            why.append(f"host {url.host} is not the registry's (add it to token_realms)")
        if url.scheme == "http" and not self.settings.insecure:
            why.append("plain http (allowed only for a registry marked insecure)")
        elif url.scheme not in ("http", "https"):
            why.append(f"scheme {url.scheme!r} is neither https nor http")
        return "; ".join(why) or None


def settings_by_host(settings: Sequence[RegistrySettings]) -> dict[str, RegistrySettings]:
    """Index settings by canonical host; a host listed twice is a configuration error."""
    indexed: dict[str, RegistrySettings] = {}
    for entry in settings:
        if entry.host in indexed:
            raise ConfigError(f"registry {entry.host} is configured twice", field="registries")
        indexed[entry.host] = entry
    return indexed


def _hostname(host_port: str) -> str:
    return httpx.URL(f"https://{host_port}").host


def endpoint_for(settings: RegistrySettings) -> Endpoint:
    """Resolve the API base URL (mirror, Docker Hub's API host, http when insecure)."""
    if settings.mirror is not None:
        base = httpx.URL(settings.mirror.rstrip("/"))
    else:
        scheme = "http" if settings.insecure else "https"
        base = httpx.URL(f"{scheme}://{_API_HOSTS.get(settings.host, settings.host)}")
    base = base.copy_with(path="/", query=None, fragment=None)
    realms = (*_KNOWN_REALMS.get(settings.host, ()), *settings.token_realms)
    allowed = {base.host, *(_hostname(realm) for realm in realms)}
    return Endpoint(settings, base, frozenset(allowed))
