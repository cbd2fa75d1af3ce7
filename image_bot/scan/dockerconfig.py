"""Registry credentials from a docker `config.json`: `auths`, `credsStore`, `credHelpers`.

Credential helpers are the `docker-credential-NAME` programs on PATH (ECR, GCR/GAR, ACR,
pass, secretservice...): `get` reads the server on stdin and prints
`{"Username": ..., "Secret": ...}`. They are the one place in `scan/` that runs programs.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from image_bot.errors import ConfigError, RegistryAuthError, register_secret

__all__ = ["Credentials", "DockerConfig", "default_docker_config_path"]

_DOCKER_HUB_KEY = "https://index.docker.io/v1/"
_DOCKER_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
_HELPER_TIMEOUT = 30.0
_IDENTITY_TOKEN_USER = "<token>"  # noqa: S105 (a marker, not a secret): what helpers print as Username for an identity token


@dataclass(frozen=True, slots=True)
class Credentials:
    """A username and password/token, or an OAuth2 identity (refresh) token."""

    username: str | None = None
    password: str | None = None
    identity_token: str | None = None

    def __post_init__(self) -> None:
        register_secret(self.password)
        register_secret(self.identity_token)

    def __repr__(self) -> str:
        return f"Credentials(username={self.username!r}, ...)"


def default_docker_config_path(environ: Mapping[str, str] | None = None) -> Path:
    """`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json` (docker's own rule)."""
    env = os.environ if environ is None else environ
    directory = env.get("DOCKER_CONFIG")
    if directory:
        return Path(directory) / "config.json"
    home = env.get("HOME")
    return (Path(home) if home else Path.home()) / ".docker" / "config.json"


def _canonical_key(key: str) -> str:
    """`https://index.docker.io/v1/` -> `docker.io`; `https://ghcr.io/` -> `ghcr.io`."""
    host = key.split("://", 1)[-1].split("/", 1)[0].lower()
    return "docker.io" if host in _DOCKER_HUB_ALIASES else host


def _server_url(host: str) -> str:
    """The server name docker passes to credential helpers for `host`."""
    return _DOCKER_HUB_KEY if host == "docker.io" else host


class DockerConfig:
    """The credentials a docker `config.json` holds, looked up by registry host."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._auths: dict[str, Credentials] = {}
        self._helpers: dict[str, str] = {}
        self._store: str | None = None
        self._helper_results: dict[str, Credentials | None] = {}
        try:
            raw = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return
        except OSError as error:
            raise ConfigError(
                f"cannot read docker config: {error.strerror}", file=str(path)
            ) from None
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as error:
            raise ConfigError(
                f"invalid JSON: {error.msg}", file=str(path), line=error.lineno
            ) from None
        if not isinstance(data, dict):
            raise ConfigError("expected a JSON object", file=str(path))
        self._load(data)

    def _load(self, data: dict[str, object]) -> None:
        auths = data.get("auths") or {}
        helpers = data.get("credHelpers") or {}
        store = data.get("credsStore")
        if not isinstance(auths, dict) or not isinstance(helpers, dict):
            raise ConfigError("`auths` and `credHelpers` must be objects", file=str(self.path))
        for key, entry in auths.items():
            if isinstance(entry, dict):
                creds = self._entry(str(key), entry)
                if creds is not None:
                    self._auths[_canonical_key(str(key))] = creds
        self._helpers = {_canonical_key(str(k)): str(v) for k, v in helpers.items() if v}
        self._store = str(store) if store else None

    def _entry(self, key: str, entry: dict[str, object]) -> Credentials | None:
        identity = entry.get("identitytoken")
        username, password = entry.get("username"), entry.get("password")
        encoded = entry.get("auth")
        if isinstance(encoded, str) and encoded:
            try:
                username, _, password = (
                    base64.b64decode(encoded, validate=True).decode().partition(":")
                )
            except (binascii.Error, UnicodeDecodeError):
                raise ConfigError(
                    f"`auths.{key}.auth` is not base64 of user:password", file=str(self.path)
                ) from None
        if isinstance(identity, str) and identity:
            return Credentials(username=str(username or ""), identity_token=identity)
        if isinstance(username, str) and isinstance(password, str) and username:
            return Credentials(username=username, password=password)
        return None

    def lookup(self, host: str) -> Credentials | None:
        """Credentials for `host` (canonical, e.g. `docker.io`): helper, then auths, then store."""
        key = _canonical_key(host)
        helper = self._helpers.get(key)
        if helper is not None:
            return self._from_helper(helper, key)
        if key in self._auths:
            return self._auths[key]
        if self._store is not None:
            return self._from_helper(self._store, key)
        return None

    def _from_helper(self, helper: str, host: str) -> Credentials | None:
        cache_key = f"{helper}\0{host}"
        if cache_key not in self._helper_results:
            self._helper_results[cache_key] = _run_helper(helper, host)
        return self._helper_results[cache_key]


def _run_helper(helper: str, host: str) -> Credentials | None:
    """Run `docker-credential-HELPER get`; None when it has nothing for `host`."""
    program = f"docker-credential-{helper}"
    try:
        done = subprocess.run(
            [program, "get"],
            input=_server_url(host),
            capture_output=True,
            text=True,
            timeout=_HELPER_TIMEOUT,
            check=False,
        )
    except FileNotFoundError:
        raise RegistryAuthError(host, f"credential helper {program} is not on PATH") from None
    except (OSError, subprocess.SubprocessError) as error:
        raise RegistryAuthError(host, f"credential helper {program} failed: {error}") from None
    if done.returncode != 0:
        if "not found" in (done.stdout + done.stderr).lower():
            return None
        tail = (done.stderr or done.stdout).strip()[-300:]
        raise RegistryAuthError(host, f"credential helper {program} failed: {tail}")
    try:
        answer = json.loads(done.stdout)
        username, secret = str(answer.get("Username") or ""), str(answer["Secret"])
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError):
        raise RegistryAuthError(
            host, f"credential helper {program} printed no credentials"
        ) from None
    if username == _IDENTITY_TOKEN_USER:
        return Credentials(identity_token=secret)
    return Credentials(username=username, password=secret)
