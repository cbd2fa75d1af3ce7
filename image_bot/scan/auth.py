"""WWW-Authenticate parsing, the bearer token exchange and its cache, basic auth headers.

The flow (distribution's token auth, as Docker Hub, GHCR, Quay, GitLab and Harbor do it):
a request answered `401` with `WWW-Authenticate: Bearer realm=R,service=S,scope=X` is
retried with a token from `GET R?service=S&scope=X` (basic credentials, if any), or from
`POST R` with `grant_type=refresh_token` for an identity token. Tokens are cached per
(realm, service, scope) until `issued_at + expires_in`, minus a safety margin.
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

import httpx

from image_bot.scan.dockerconfig import Credentials

__all__ = [
    "Challenge",
    "TokenCache",
    "basic_header",
    "parse_challenges",
    "parse_token_response",
    "pick_challenge",
    "repository_scope",
    "token_request",
]

_TCHARS = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_SCHEME_OR_NAME = re.compile(_TCHARS)
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
_ESCAPE = re.compile(r"\\(.)")
_TOKEN68 = re.compile(r"[A-Za-z0-9._~+/-]+=*")
_HEADER_SAFE = re.compile(r"[!-~]{1,16384}")  # visible ASCII, no space: fits in a header
_DEFAULT_EXPIRES_IN = 60  # the token spec's default when a server omits expires_in
_MAX_EXPIRES_IN = 24 * 3600  # a longer (or infinite) lifetime is read as a day
_MARGIN = 10.0  # refresh this many seconds before a token expires


@dataclass(frozen=True, slots=True)
class Challenge:
    """One challenge of a WWW-Authenticate header: scheme (lowercase) and its parameters."""

    scheme: str
    params: dict[str, str] = field(default_factory=dict)

    @property
    def realm(self) -> str | None:
        return self.params.get("realm")


def _skip(text: str, pos: int, chars: str = " \t") -> int:
    while pos < len(text) and text[pos] in chars:
        pos += 1
    return pos


def parse_challenges(header: str) -> list[Challenge]:
    """Parse `Basic realm="r", Bearer realm="x",service="y",scope="a b"` into challenges.

    Parameter names are lowercased; quoted values may hold commas and `\\"` escapes.
    Unparseable trailing text is ignored rather than failing the request.
    """
    challenges: list[Challenge] = []
    current: Challenge | None = None
    pos = 0
    while True:
        pos = _skip(header, pos, " \t,")
        match = _SCHEME_OR_NAME.match(header, pos)
        if match is None:
            return challenges
        word, after = match.group(), _skip(header, match.end())
        if current is not None and after < len(header) and header[after] == "=":
            value_pos = _skip(header, after + 1)
            quoted = _QUOTED.match(header, value_pos)
            if quoted is not None:
                value, pos = _ESCAPE.sub(r"\1", quoted.group(1)), quoted.end()
            else:
                plain = _SCHEME_OR_NAME.match(header, value_pos)
                value, pos = (plain.group(), plain.end()) if plain else ("", value_pos)
            current.params[word.lower()] = value
            continue
        current = Challenge(word.lower())
        challenges.append(current)
        pos = after
        segment = header[pos:].split(",", 1)[0]
        if _TOKEN68.fullmatch(segment.strip()):
            pos += len(segment)  # a token68 credential hint (`Negotiate abc==`): not a param


def pick_challenge(headers: Iterable[str]) -> Challenge | None:
    """The challenge to answer from WWW-Authenticate values: Bearer first, then Basic."""
    challenges = [c for value in headers for c in parse_challenges(value)]
    for scheme in ("bearer", "basic"):
        for challenge in challenges:
            if challenge.scheme == scheme:
                return challenge
    return None


def token_request(
    client: httpx.AsyncClient,
    realm: httpx.URL,
    service: str,
    scope: str,
    credentials: Credentials | None,
) -> httpx.Request:
    """The token request: OAuth2 refresh grant for an identity token, else GET (+ basic)."""
    if credentials is not None and credentials.identity_token:
        form = {
            "grant_type": "refresh_token",
            "refresh_token": credentials.identity_token,
            "service": service,
            "scope": scope,
            "client_id": "image-bot",
        }
        return client.build_request("POST", realm, data=form)
    params = {"service": service, "scope": scope} if service else {"scope": scope}
    request = client.build_request("GET", realm, params=params)
    if credentials is not None and credentials.username and credentials.password is not None:
        request.headers["Authorization"] = basic_header(credentials.username, credentials.password)
    return request


def repository_scope(repository: str, actions: str = "pull") -> str:
    """The token scope for reading `repository`."""
    return f"repository:{repository}:{actions}"


def basic_header(username: str, password: str) -> str:
    """An `Authorization` value for basic auth."""
    pair = f"{username}:{password}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


def _parse_issued_at(text: object) -> float | None:
    if not isinstance(text, str) or not text:
        return None
    cleaned = re.sub(r"(\.\d{6})\d+", r"\1", text.strip()).replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(cleaned).timestamp()
    except (ValueError, OverflowError):
        return None


def parse_token_response(body: object, *, now: float) -> tuple[str, float] | None:
    """(token, expires_at wall-clock seconds) from a token endpoint's JSON, or None."""
    if not isinstance(body, dict):
        return None
    token = body.get("token") or body.get("access_token")
    if not isinstance(token, str) or not _HEADER_SAFE.fullmatch(token):
        return None  # none, or one that cannot go into an Authorization header
    expires_in = body.get("expires_in")
    lifetime = (
        float(min(expires_in, _MAX_EXPIRES_IN))
        if isinstance(expires_in, int | float)
        and not isinstance(expires_in, bool)
        and expires_in > 0
        else float(_DEFAULT_EXPIRES_IN)
    )
    issued = _parse_issued_at(body.get("issued_at"))
    # A clock skewed ahead of ours would make the token look fresher than it is: never
    # trust an issued_at later than now.
    start = min(issued, now) if issued is not None else now
    return token, start + lifetime


@dataclass
class TokenCache:
    """Bearer tokens by (realm, service, scope, identity), valid until shortly before expiry,
    and the challenge each registry endpoint last answered with (so a registry session
    opened later in a pass sends its first request with credentials, as its first session
    learnt to)."""

    clock: Callable[[], float] = time.time
    margin: float = _MARGIN
    _tokens: dict[tuple[str, str, str, str], tuple[str, float, float]] = field(default_factory=dict)
    _challenges: dict[str, Challenge] = field(default_factory=dict)

    def challenge(self, endpoint: str) -> Challenge | None:
        """The challenge `endpoint` (a registry's base URL) last answered with, if any."""
        return self._challenges.get(endpoint)

    def learn_challenge(self, endpoint: str, challenge: Challenge) -> None:
        """Remember `endpoint`'s challenge (its realm and service, not a token)."""
        self._challenges[endpoint] = challenge

    def get(self, key: tuple[str, str, str, str]) -> str | None:
        """The cached token for `key`, unless it expires within its safety margin."""
        entry = self._tokens.get(key)
        if entry is None:
            return None
        token, expires_at, margin = entry
        if expires_at - self.clock() <= margin:
            self._tokens.pop(key, None)  # registries of a pass on other threads share it
            return None
        return token

    def put(self, key: tuple[str, str, str, str], token: str, expires_at: float) -> None:
        """Remember `token`; short-lived tokens get a margin of half their lifetime."""
        margin = min(self.margin, max(0.0, expires_at - self.clock()) / 2)
        self._tokens[key] = (token, expires_at, margin)

    def __len__(self) -> int:
        return len(self._tokens)
