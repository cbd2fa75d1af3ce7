"""Every PyGithub / requests exception becomes a ForgeError subclass, with GitHub's reasons kept.

httpx's `test_httpcore_all_exceptions_mapped` idea: the exception classes are enumerated from
the library, so a new PyGithub exception type that slips through fails here.
"""

from __future__ import annotations

import importlib
import inspect

import pytest
import requests
from github.GithubException import (
    BadAttributeException,
    BadCredentialsException,
    BadUserAgentException,
    GithubException,
    IncompletableObject,
    RateLimitExceededException,
    TwoFactorException,
    UnknownObjectException,
)

from image_bot.errors import (
    ForgeAuthError,
    ForgeError,
    ImageBotError,
    PullRequestConflict,
    RateLimited,
    register_secret,
)
from image_bot.publish.forges.github.auth import installation_auth
from image_bot.publish.forges.github.errors import SECONDARY_LIMIT_WAIT, map_github_error
from image_bot.publish.forges.github.forge import GitHubForge

# `github.GithubException` is the class (re-exported by the package), so import the module.
gh_exc = importlib.import_module("github.GithubException")
NOW = 1_800_000_000.0
REPO = "acme/deploy"


def _github_exception_classes() -> list[type[GithubException]]:
    return [
        cls
        for _, cls in inspect.getmembers(gh_exc, inspect.isclass)
        if issubclass(cls, GithubException)
    ]


def _build(cls: type[GithubException], status: int, message: str) -> GithubException:
    data = {"message": message}
    if cls is gh_exc.RateLimitExceededExceedsMaxWait:
        return cls(status, data, {}, message, wait=3600.0)
    return cls(status, data, {})


@pytest.mark.parametrize("cls", _github_exception_classes(), ids=lambda c: c.__name__)
def test_every_github_exception_class_maps_to_a_forge_error(cls: type[GithubException]) -> None:
    mapped = map_github_error(_build(cls, 400, "something went wrong"), REPO, now=NOW)
    assert isinstance(mapped, ForgeError)
    assert mapped.forge == "github"
    assert mapped.repository == REPO


def test_the_enumeration_sees_the_classes_we_rely_on() -> None:
    names = {cls.__name__ for cls in _github_exception_classes()}
    assert {
        "GithubException",
        "BadCredentialsException",
        "RateLimitExceededException",
        "UnknownObjectException",
        "TwoFactorException",
        "BadUserAgentException",
    } <= names


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (BadCredentialsException(401, {"message": "Bad credentials"}, {}), ForgeAuthError),
        (TwoFactorException(401, {"message": "Must specify two-factor code"}, {}), ForgeAuthError),
        (GithubException(401, {"message": "Requires authentication"}, {}), ForgeAuthError),
        (
            GithubException(403, {"message": "Resource not accessible by integration"}, {}),
            ForgeAuthError,
        ),
        (UnknownObjectException(404, {"message": "Not Found"}, {}), ForgeError),
        (
            GithubException(405, {"message": "Pull Request is not mergeable"}, {}),
            PullRequestConflict,
        ),
        (GithubException(409, {"message": "Head branch was modified"}, {}), PullRequestConflict),
        (
            GithubException(
                422,
                {
                    "message": "Validation Failed",
                    "errors": [{"message": "A pull request already exists for acme:image-bot/x."}],
                },
                {},
            ),
            PullRequestConflict,
        ),
        (GithubException(500, {"message": "Server Error"}, {}), ForgeError),
        (GithubException(502, None, {}), ForgeError),
        (
            BadUserAgentException(403, {"message": "Missing or invalid User Agent string"}, {}),
            ForgeError,
        ),
        (
            IncompletableObject(400, message="Cannot complete object as it contains no URL"),
            ForgeError,
        ),
    ],
    ids=lambda v: getattr(v, "__name__", None) or f"{type(v).__name__}-{getattr(v, 'status', '')}",
)
def test_status_decides_the_error_class(exc: GithubException, expected: type[ForgeError]) -> None:
    mapped = map_github_error(exc, REPO, now=NOW)
    assert type(mapped) is expected


def test_validation_errors_keep_githubs_reason() -> None:
    exc = GithubException(
        422,
        {
            "message": "Validation Failed",
            "errors": [{"message": "No commits between main and image-bot/nginx"}],
        },
        {},
    )
    assert "No commits between main and image-bot/nginx" in str(map_github_error(exc, REPO))


def test_primary_rate_limit_waits_until_the_reset() -> None:
    exc = RateLimitExceededException(
        403,
        {"message": "API rate limit exceeded for installation ID 1."},
        {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(NOW) + 120)},
    )
    mapped = map_github_error(exc, REPO, now=NOW)
    assert isinstance(mapped, RateLimited)
    assert mapped.retry_after == 120.0


def test_retry_after_header_wins() -> None:
    exc = RateLimitExceededException(
        403,
        {"message": "You have exceeded a secondary rate limit."},
        {"Retry-After": "30", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(NOW + 999)},
    )
    mapped = map_github_error(exc, REPO, now=NOW)
    assert isinstance(mapped, RateLimited)
    assert mapped.retry_after == 30.0


def test_secondary_limit_without_headers_waits_a_minute() -> None:
    exc = RateLimitExceededException(
        403, {"message": "You have exceeded a secondary rate limit. Please wait."}, {}
    )
    mapped = map_github_error(exc, REPO, now=NOW)
    assert isinstance(mapped, RateLimited)
    assert mapped.retry_after == SECONDARY_LIMIT_WAIT


def test_429_is_rate_limited_although_pygithub_does_not_say_so() -> None:
    # PyGithub only classifies 403s as rate limits; GitHub also answers 429.
    exc = GithubException(429, {"message": "Too Many Requests"}, {"retry-after": "7"})
    mapped = map_github_error(exc, REPO, now=NOW)
    assert isinstance(mapped, RateLimited)
    assert mapped.retry_after == 7.0


def test_a_403_with_remaining_zero_is_a_rate_limit_not_an_auth_error() -> None:
    exc = GithubException(
        403,
        {"message": "Forbidden"},
        {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 5)},
    )
    mapped = map_github_error(exc, REPO, now=NOW)
    assert isinstance(mapped, RateLimited)
    assert mapped.retry_after == 5.0


def test_reset_in_the_past_means_no_wait() -> None:
    exc = RateLimitExceededException(
        403,
        {"message": "API rate limit exceeded"},
        {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) - 10)},
    )
    mapped = map_github_error(exc, REPO, now=NOW)
    assert isinstance(mapped, RateLimited)
    assert mapped.retry_after == 0.0


@pytest.mark.parametrize(
    "exc",
    [
        requests.ConnectionError("HTTPSConnectionPool(host='127.0.0.1', port=1): refused"),
        requests.Timeout("read timed out"),
        requests.exceptions.RetryError("Max retries exceeded (too many 503 error responses)"),
        requests.exceptions.SSLError("certificate verify failed"),
        requests.exceptions.ChunkedEncodingError("connection broken"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_transport_errors_are_forge_errors(exc: requests.RequestException) -> None:
    mapped = map_github_error(exc, REPO)
    assert type(mapped) is ForgeError
    assert type(exc).__name__ in str(mapped)


def test_bad_attribute_is_a_forge_error() -> None:
    exc = BadAttributeException("not-a-date", str, ValueError("bad"))
    assert type(map_github_error(exc, REPO)) is ForgeError


def test_tokens_in_githubs_answer_are_redacted() -> None:
    register_secret("s3cr3t-installation-token-value")
    exc = GithubException(
        401,
        {"message": "Bad credentials s3cr3t-installation-token-value ghp_abcdefghijklmnop1234"},
        {},
    )
    text = str(map_github_error(exc, REPO))
    assert "s3cr3t-installation-token-value" not in text
    assert "ghp_abcdefghijklmnop1234" not in text
    assert "Bad credentials" in text


def test_an_unreachable_api_raises_forge_error_from_the_adapter() -> None:
    forge = GitHubForge.with_token(
        "ghp_unreachable0000000000",
        api_url="http://127.0.0.1:1",
        request_interval=0,
        write_interval=0,
        timeout=2,
    )
    with pytest.raises(ImageBotError) as caught:
        forge.bot_pull_requests(REPO)
    assert type(caught.value) is ForgeError
    assert caught.value.__cause__ is None  # the library exception does not ride along
    assert "ghp_unreachable" not in str(caught.value)


def test_app_installation_lookup_failures_are_forge_errors() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    with pytest.raises(ImageBotError) as caught:
        installation_auth(1, pem, repo=REPO, api_url="http://127.0.0.1:1")
    assert type(caught.value) is ForgeError
    assert "PRIVATE KEY" not in str(caught.value)
