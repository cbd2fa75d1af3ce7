"""Which credentials a registry gets: settings, a cloud's token flow, the docker config.

In order: `username`/`password` from the settings; the cloud flow the settings name
(`auth: ecr|gcr|acr`); the docker config for the host actually contacted (the mirror's, with
a mirror); the cloud flow the host's name suggests (`*.dkr.ecr.*.amazonaws.com`,
`*-docker.pkg.dev`, `gcr.io`, `*.azurecr.io`). A suggested flow that finds no cloud identity
reads anonymously (public images on GCR, GAR and ACR need none), except on ECR, which
always wants credentials.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping

import httpx

from image_bot.errors import RegistryAuthError
from image_bot.scan.cloud.kinds import CloudAuth, detect
from image_bot.scan.cloud.provider import CloudContext, CloudCredentials
from image_bot.scan.dockerconfig import Credentials, DockerConfig
from image_bot.scan.hosts import RegistrySettings

__all__ = ["CredentialResolver"]

log = logging.getLogger(__name__)

ContextFor = Callable[[str], CloudContext]


class CredentialResolver:
    """Credentials per registry host; static ones once, cloud ones from their cache."""

    def __init__(
        self,
        settings: Mapping[str, RegistrySettings],
        docker_config: DockerConfig,
        cloud: CloudCredentials,
    ) -> None:
        self._settings = settings
        self.docker_config = docker_config
        self.cloud = cloud
        self._static: dict[str, Credentials | None] = {}
        self._anonymous: set[str] = set()  # suggested cloud flow found no identity
        self._lock = asyncio.Lock()

    async def for_host(self, host: str, context: ContextFor) -> Credentials | None:
        """The credentials to offer `host`, or None to read anonymously."""
        settings = self._settings.get(host) or RegistrySettings(host)
        if settings.username is not None:
            return Credentials(settings.username, settings.password)
        if settings.auth not in (None, CloudAuth.NONE):
            return await self.cloud.get(settings.auth, context(host))
        found = await self._from_docker_config(host, settings)
        if found is not None or settings.auth is not None:
            return found
        kind = detect(host)
        if kind is None or host in self._anonymous:
            return None
        try:
            return await self.cloud.get(kind, context(host))
        except RegistryAuthError as error:
            if kind is CloudAuth.ECR:
                raise
            log.warning("%s; reading %s anonymously", error.message, host)
            self._anonymous.add(host)
            return None

    async def _from_docker_config(
        self, host: str, settings: RegistrySettings
    ) -> Credentials | None:
        if host in self._static:
            return self._static[host]
        async with self._lock:
            if host not in self._static:
                lookup = host
                if settings.mirror is not None:
                    lookup = httpx.URL(settings.mirror).netloc.decode()
                # credential helpers are programs: keep them off the event loop
                self._static[host] = await asyncio.to_thread(self.docker_config.lookup, lookup)
        return self._static[host]
