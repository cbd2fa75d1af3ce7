"""Every python-gitlab / requests exception becomes a ForgeError subclass.

The GitlabError classes are enumerated from `gitlab.exceptions`, so a new one that slips
through the mapping fails here (httpx's `test_httpcore_all_exceptions_mapped` idea).
"""

from __future__ import annotations

import inspect

import gitlab.exceptions as gl_exc
import pytest
import requests
from gitlab.exceptions import (
    GitlabAuthenticationError,
    GitlabConnectionError,
    GitlabCreateError,
    GitlabError,
    GitlabGetError,
    GitlabHttpError,
    GitlabListError,
    GitlabMRClosedError,
    GitlabMROnBuildSuccessError,
    GitlabParsingError,
    GitlabUpdateError,
    RedirectError,
)

from image_bot.errors import (
    ForgeAuthError,
    ForgeError,
    ImageBotError,
    PullRequestConflict,
    RateLimited,
    register_secret,
)
from image_bot.publish.forges.gitlab.errors import DEFAULT_RATE_LIMIT_WAIT, map_gitlab_error
from image_bot.publish.forges.gitlab.forge import GitLabForge

NOW = 1_800_000_000.0
REPO = "group/sub/deploy"


def _gitlab_exception_classes() -> list[type[GitlabError]]:
    return [
        cls
        for _, cls in inspect.getmembers(gl_exc, inspect.isclass)
        if issubclass(cls, GitlabError)
    ]


def test_the_enumeration_sees_the_classes_we_rely_on() -> None:
    classes = set(_gitlab_exception_classes())
    assert {GitlabAuthenticationError, GitlabHttpError, GitlabListError, GitlabCreateError} <= (
        classes
    )
    assert len(classes) > 40  # python-gitlab has one per operation


@pytest.mark.parametrize("cls", _gitlab_exception_classes(), ids=lambda c: c.__name__)
@pytest.mark.parametrize("status", [None, 403, 429])
def test_every_gitlab_exception_class_maps_to_a_forge_error(
    cls: type[GitlabError], status: int | None
) -> None:
    mapped = map_gitlab_error(cls("boom", response_code=status), REPO, now=NOW)
    assert isinstance(mapped, ForgeError)
    assert (mapped.forge, mapped.repository) == ("gitlab", REPO)


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (GitlabAuthenticationError("401 Unauthorized", response_code=401), ForgeAuthError),
        (GitlabHttpError("403 Forbidden", response_code=403), ForgeAuthError),
        (GitlabListError("403 Forbidden", response_code=403), ForgeAuthError),
        (GitlabGetError("404 Project Not Found", response_code=404), ForgeError),
        (
            GitlabCreateError(
                "Another open merge request already exists for this source branch: !7",
                response_code=409,
            ),
            PullRequestConflict,
        ),
        (GitlabMRClosedError("405 Method Not Allowed", response_code=405), PullRequestConflict),
        (GitlabMROnBuildSuccessError("Not allowed", response_code=406), PullRequestConflict),
        (GitlabUpdateError("Branch cannot be merged", response_code=422), PullRequestConflict),
        (GitlabHttpError("500 Internal Server Error", response_code=500), ForgeError),
        (GitlabParsingError("Failed to parse the server message"), ForgeError),
        (GitlabConnectionError("connection refused"), ForgeError),
        (RedirectError("POST request redirected"), ForgeError),
    ],
    ids=lambda v: f"{type(v).__name__}-{getattr(v, 'response_code', '')}",
)
def test_status_decides_the_error_class(exc: GitlabError, expected: type[ForgeError]) -> None:
    assert type(map_gitlab_error(exc, REPO, now=NOW)) is expected


def test_conflict_keeps_gitlabs_reason() -> None:
    exc = GitlabCreateError(
        "Another open merge request already exists for this source branch: !7", response_code=409
    )
    assert "already exists" in str(map_gitlab_error(exc, REPO))


@pytest.mark.parametrize(
    "cls", [GitlabHttpError, GitlabListError, GitlabCreateError, GitlabUpdateError]
)
def test_429_uses_retry_after(cls: type[GitlabError]) -> None:
    exc = cls("429 Too Many Requests", response_code=429)
    mapped = map_gitlab_error(exc, REPO, headers={"Retry-After": "12"}, now=NOW)
    assert isinstance(mapped, RateLimited)
    assert mapped.retry_after == 12.0


def test_429_falls_back_to_ratelimit_reset() -> None:
    exc = GitlabHttpError("429 Too Many Requests", response_code=429)
    headers = {"RateLimit-Remaining": "0", "RateLimit-Reset": str(int(NOW) + 45)}
    mapped = map_gitlab_error(exc, REPO, headers=headers, now=NOW)
    assert isinstance(mapped, RateLimited)
    assert mapped.retry_after == 45.0


def test_429_without_headers_waits_a_default() -> None:
    mapped = map_gitlab_error(GitlabHttpError("429", response_code=429), REPO, now=NOW)
    assert isinstance(mapped, RateLimited)
    assert mapped.retry_after == DEFAULT_RATE_LIMIT_WAIT


@pytest.mark.parametrize(
    "exc",
    [
        requests.ConnectionError("refused"),
        requests.Timeout("read timed out"),
        requests.exceptions.SSLError("certificate verify failed"),
        requests.exceptions.ChunkedEncodingError("connection broken"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_transport_errors_are_forge_errors(exc: requests.RequestException) -> None:
    assert type(map_gitlab_error(exc, REPO)) is ForgeError


def test_tokens_in_the_answer_are_redacted() -> None:
    register_secret("project-token-value-123456")
    exc = GitlabAuthenticationError(
        b"invalid token project-token-value-123456 glpat-abcdefghijkl1234", response_code=401
    )
    text = str(map_gitlab_error(exc, REPO))
    assert "project-token-value-123456" not in text
    assert "glpat-abcdefghijkl1234" not in text
    assert "invalid token" in text


def test_an_unreachable_api_raises_forge_error_from_the_adapter() -> None:
    forge = GitLabForge("glpat-unreachable00000000", url="http://127.0.0.1:1", timeout=2)
    with pytest.raises(ImageBotError) as caught:
        forge.bot_pull_requests(REPO)
    assert type(caught.value) is ForgeError
    assert caught.value.__cause__ is None
    assert "glpat-unreachable" not in str(caught.value)
