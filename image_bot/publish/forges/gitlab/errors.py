"""GitlabError subclasses and requests errors -> ForgeError subclasses.

python-gitlab's exceptions carry the status code and body but not the response headers, so
the adapter passes the headers of the failing response (kept by a session hook) to read
`Retry-After` / `RateLimit-Reset` on a 429.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import requests
from gitlab.exceptions import (
    GitlabAuthenticationError,
    GitlabConnectionError,
    GitlabError,
    GitlabParsingError,
    RedirectError,
)

from image_bot.errors import ForgeAuthError, ForgeError, PullRequestConflict, RateLimited

__all__ = ["DEFAULT_RATE_LIMIT_WAIT", "map_gitlab_error"]

FORGE = "gitlab"
DEFAULT_RATE_LIMIT_WAIT = 60.0
_CONFLICT_STATUSES = frozenset({405, 406, 409, 422})


def map_gitlab_error(
    exc: GitlabError | requests.RequestException,
    repo: str,
    *,
    headers: Mapping[str, str] | None = None,
    now: float | None = None,
) -> ForgeError:
    """The ForgeError to raise in place of `exc` (messages are redacted by ImageBotError)."""
    if isinstance(exc, requests.RequestException | GitlabConnectionError):
        return ForgeError(FORGE, repo, f"cannot reach the API: {type(exc).__name__}: {exc}")
    if isinstance(exc, RedirectError):
        return ForgeError(FORGE, repo, f"the API URL redirects (use the final URL): {exc}")
    if isinstance(exc, GitlabParsingError):
        return ForgeError(FORGE, repo, f"unexpected answer from the API: {exc}")
    status = exc.response_code
    detail = _message(exc)
    if status == 429:
        lowered = {key.lower(): value for key, value in (headers or {}).items()}
        wait = _retry_after(lowered, now=time.time() if now is None else now)
        return RateLimited(FORGE, repo, f"rate limited (HTTP 429): {detail}", retry_after=wait)
    if isinstance(exc, GitlabAuthenticationError) or status in (401, 403):
        return ForgeAuthError(FORGE, repo, f"credentials refused (HTTP {status}): {detail}")
    if status == 404:
        return ForgeError(FORGE, repo, f"not found, or the token cannot see it: {detail}")
    if status in _CONFLICT_STATUSES:
        return PullRequestConflict(FORGE, repo, f"refused (HTTP {status}): {detail}")
    prefix = f"HTTP {status}: " if status is not None else ""
    return ForgeError(FORGE, repo, f"{prefix}{detail}")


def _retry_after(headers: Mapping[str, str], *, now: float) -> float:
    try:
        return max(0.0, float(headers["retry-after"]))
    except (KeyError, ValueError):
        pass
    try:
        return max(0.0, float(headers["ratelimit-reset"]) - now)
    except (KeyError, ValueError):
        return DEFAULT_RATE_LIMIT_WAIT


def _message(exc: GitlabError) -> str:
    text = str(exc.error_message).strip() if exc.error_message else ""
    return text[:500] or type(exc).__name__
