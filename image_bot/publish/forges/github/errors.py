"""GithubException, BadAttributeException and requests errors -> ForgeError subclasses.

Rate limits follow GitHub's rules: wait `Retry-After` seconds when given; else, when
`x-ratelimit-remaining` is 0, until `x-ratelimit-reset` (epoch seconds); else (a secondary
limit without either header) at least a minute.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import requests
from github import GithubException
from github.GithubException import (
    BadAttributeException,
    BadCredentialsException,
    BadUserAgentException,
    RateLimitExceededException,
    TwoFactorException,
)

from image_bot.errors import (
    ForgeAuthError,
    ForgeError,
    PullRequestConflict,
    RateLimited,
)

__all__ = ["SECONDARY_LIMIT_WAIT", "map_github_error"]

FORGE = "github"
SECONDARY_LIMIT_WAIT = 60.0
_CONFLICT_STATUSES = frozenset({405, 409, 422})


def map_github_error(
    exc: GithubException | BadAttributeException | requests.RequestException,
    repo: str,
    *,
    now: float | None = None,
) -> ForgeError:
    """The ForgeError to raise in place of `exc` (messages are redacted by ImageBotError)."""
    if isinstance(exc, requests.RequestException):
        return ForgeError(FORGE, repo, f"cannot reach the API: {type(exc).__name__}: {exc}")
    if isinstance(exc, BadAttributeException):
        return ForgeError(
            FORGE, repo, f"unexpected value in the API response: {exc.actual_value!r}"
        )
    status = exc.status
    detail = _message(exc)
    if isinstance(exc, BadUserAgentException):
        return ForgeError(FORGE, repo, f"GitHub refused the User-Agent header: {detail}")
    headers = {key.lower(): value for key, value in (exc.headers or {}).items()}
    if _is_rate_limit(exc, headers, detail):
        wait = _retry_after(headers, now=time.time() if now is None else now)
        return RateLimited(FORGE, repo, f"rate limited (HTTP {status}): {detail}", retry_after=wait)
    if isinstance(exc, BadCredentialsException | TwoFactorException) or status in (401, 403):
        return ForgeAuthError(FORGE, repo, f"credentials refused (HTTP {status}): {detail}")
    if status == 404:
        return ForgeError(FORGE, repo, f"not found, or the token cannot see it: {detail}")
    if status in _CONFLICT_STATUSES:
        return PullRequestConflict(FORGE, repo, f"refused (HTTP {status}): {detail}")
    return ForgeError(FORGE, repo, f"HTTP {status}: {detail}")


def _is_rate_limit(exc: GithubException, headers: Mapping[str, str], detail: str) -> bool:
    if isinstance(exc, RateLimitExceededException) or exc.status == 429:
        return True
    if exc.status != 403:
        return False
    lowered = detail.lower()
    return (
        "retry-after" in headers
        or headers.get("x-ratelimit-remaining") == "0"
        or "rate limit" in lowered
        or "abuse" in lowered
    )


def _retry_after(headers: Mapping[str, str], *, now: float) -> float:
    retry_after = headers.get("retry-after", "").strip()
    if retry_after:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            pass
    if headers.get("x-ratelimit-remaining") == "0":
        try:
            return max(0.0, float(headers["x-ratelimit-reset"]) - now)
        except (KeyError, ValueError):
            pass
    return SECONDARY_LIMIT_WAIT


def _message(exc: GithubException) -> str:
    """GitHub's own words: `message` plus the first validation error or GraphQL error."""
    data = exc.data if isinstance(exc.data, Mapping) else {}
    parts = [str(exc.message or data.get("message") or "").strip()]
    errors = data.get("errors")
    if isinstance(errors, list) and errors:
        first = errors[0]
        if isinstance(first, Mapping):
            parts.append(str(first.get("message") or first.get("code") or "").strip())
        else:
            parts.append(str(first))
    text = "; ".join(part for part in parts if part)
    return text[:500] or "no message"
