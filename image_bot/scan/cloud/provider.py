"""Cloud registry credentials: the provider table, the context they run in, and their cache.

Each provider turns the machine's cloud identity (IRSA or an AWS profile, Google application
default credentials, an Azure managed or workload identity) into registry credentials that
the ordinary Basic or Bearer flow then uses. Credentials are cached per registry host until
shortly before they expire, across passes when the same `CloudCredentials` is reused.

SDKs are optional extras (`image-bot[aws]`, `[gcp]`, `[azure]`) and imported only when a
registry of their kind asks for credentials; without one the registry's images fail with
the `pip install` line that fixes it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import httpx

from image_bot.errors import RegistryAuthError
from image_bot.scan.cloud.kinds import CloudAuth
from image_bot.scan.dockerconfig import Credentials
from image_bot.scan.hosts import Endpoint

__all__ = ["PROVIDERS", "CloudContext", "CloudCredentials", "CloudProvider", "Issued"]

_MARGIN = 300.0  # renew five minutes before expiry


@dataclass(frozen=True, slots=True)
class Issued:
    """Registry credentials and when (wall-clock seconds) they stop working."""

    credentials: Credentials
    expires_at: float


@dataclass(frozen=True, slots=True)
class CloudContext:
    """What a provider may use: the registry's endpoint, an HTTP client (with the bounded
    `transport.exchange`), and the time a whole issue may take."""

    endpoint: Endpoint
    client: httpx.AsyncClient
    deadline: float
    clock: Callable[[], float] = time.time


class CloudProvider(Protocol):
    """Issues registry credentials from a cloud identity."""

    @property
    def extra(self) -> str:
        """The pip extra that brings its SDK (`aws`)."""
        ...

    async def issue(self, context: CloudContext) -> Issued:
        """Fresh credentials; raises ImportError without the SDK, RegistryAuthError else."""
        ...


def _ecr() -> CloudProvider:
    from image_bot.scan.cloud.ecr import EcrProvider  # noqa: PLC0415 (botocore only when used)

    return EcrProvider()


def _gcr() -> CloudProvider:
    from image_bot.scan.cloud.gcr import GcrProvider  # noqa: PLC0415 (google-auth when used)

    return GcrProvider()


def _acr() -> CloudProvider:
    from image_bot.scan.cloud.acr import AcrProvider  # noqa: PLC0415 (azure-identity when used)

    return AcrProvider()


PROVIDERS: Mapping[CloudAuth, Callable[[], CloudProvider]] = {
    CloudAuth.ECR: _ecr,
    CloudAuth.GCR: _gcr,
    CloudAuth.ACR: _acr,
}
_EXTRAS = {CloudAuth.ECR: "aws", CloudAuth.GCR: "gcp", CloudAuth.ACR: "azure"}


@dataclass
class CloudCredentials:
    """Credentials per registry host, fetched once and kept until shortly before expiry."""

    providers: Mapping[CloudAuth, Callable[[], CloudProvider]] = field(
        default_factory=lambda: PROVIDERS
    )
    clock: Callable[[], float] = time.time
    issued: dict[str, int] = field(default_factory=dict)  # host -> issues so far (metrics, tests)
    _cache: dict[str, Issued] = field(default_factory=dict)
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    _loop: int = 0  # the event loop the locks belong to (each pass runs its own loop)

    def _lock(self, host: str) -> asyncio.Lock:
        loop = id(asyncio.get_running_loop())
        if loop != self._loop:
            self._locks, self._loop = {}, loop
        return self._locks.setdefault(host, asyncio.Lock())

    async def get(self, kind: CloudAuth, context: CloudContext) -> Credentials:
        """Cached credentials for the registry, or new ones from `kind`'s provider."""
        host = context.endpoint.host
        async with self._lock(host):  # one issue per host at a time; the others share it
            cached = self._cache.get(host)
            if cached is not None and cached.expires_at - self.clock() > _MARGIN:
                return cached.credentials
            issued = await self._issue(kind, context)
            self.issued[host] = self.issued.get(host, 0) + 1
            if issued.expires_at - self.clock() > _MARGIN:
                self._cache[host] = issued
            else:
                self._cache.pop(host, None)  # about to expire already: use it once
            return issued.credentials

    async def _issue(self, kind: CloudAuth, context: CloudContext) -> Issued:
        host = context.endpoint.host
        try:
            provider = self.providers[kind]()
        except ImportError as error:
            extra = _EXTRAS.get(kind, str(kind))
            raise RegistryAuthError(
                host,
                f"auth: {kind} needs {error.name or 'its SDK'}: pip install 'image-bot[{extra}]'",
            ) from None
        try:
            async with asyncio.timeout(context.deadline):
                return await provider.issue(context)
        except TimeoutError:
            raise RegistryAuthError(
                host, f"{kind}: no credentials within {context.deadline:g} s"
            ) from None
