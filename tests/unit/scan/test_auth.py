"""WWW-Authenticate parsing, token responses and the token cache."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from image_bot.scan.auth import (
    Challenge,
    TokenCache,
    basic_header,
    parse_challenges,
    parse_token_response,
)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('Basic realm="Registry Realm"', [Challenge("basic", {"realm": "Registry Realm"})]),
        (
            'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
            'scope="repository:library/nginx:pull"',
            [
                Challenge(
                    "bearer",
                    {
                        "realm": "https://auth.docker.io/token",
                        "service": "registry.docker.io",
                        "scope": "repository:library/nginx:pull",
                    },
                )
            ],
        ),
        # two challenges in one header; a comma and a space inside a quoted value
        (
            'Basic realm="a, b", Bearer realm="https://r/t", '
            'scope="repository:x:pull repository:y:pull"',
            [
                Challenge("basic", {"realm": "a, b"}),
                Challenge(
                    "bearer",
                    {"realm": "https://r/t", "scope": "repository:x:pull repository:y:pull"},
                ),
            ],
        ),
        # escaped quote, unquoted token value, parameter names are case-insensitive
        (
            'BEARER Realm="say \\"hi\\"", error=invalid_token',
            [Challenge("bearer", {"realm": 'say "hi"', "error": "invalid_token"})],
        ),
        # a token68 scheme before a parameterised one
        (
            "Negotiate YWJjZA==, Basic realm=r",
            [Challenge("negotiate"), Challenge("basic", {"realm": "r"})],
        ),
        ("Bearer", [Challenge("bearer")]),
        ("", []),
    ],
)
def test_parse_challenges(header: str, expected: list[Challenge]) -> None:
    assert parse_challenges(header) == expected


def test_basic_header_is_base64_of_user_colon_password() -> None:
    assert basic_header("Aladdin", "open sesame") == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="


def test_token_response_uses_issued_at_and_expires_in() -> None:
    now = datetime(2026, 1, 1, 12, 0, 30, tzinfo=UTC).timestamp()
    parsed = parse_token_response(
        {"token": "t1", "expires_in": 300, "issued_at": "2026-01-01T12:00:00.123456789Z"},
        now=now,
    )
    assert parsed is not None
    token, expires_at = parsed
    assert token == "t1"
    assert expires_at == pytest.approx(now - 30 + 300 + 0.123456, abs=0.001)


def test_token_response_defaults() -> None:
    # access_token (OAuth2 shape), no expires_in: 60 s; an issued_at in our future is not trusted
    parsed = parse_token_response(
        {"access_token": "t2", "issued_at": "2099-01-01T00:00:00Z"}, now=1000.0
    )
    assert parsed == ("t2", 1060.0)
    assert parse_token_response({"token": ""}, now=0) is None
    assert parse_token_response(["token"], now=0) is None


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_token_cache_expires_before_the_token_does() -> None:
    clock = Clock()
    cache = TokenCache(clock=clock, margin=10)
    key = ("https://auth/token", "svc", "repository:a:pull", "")
    cache.put(key, "tok", expires_at=1300.0)
    assert cache.get(key) == "tok"
    clock.now = 1289.0
    assert cache.get(key) == "tok"
    clock.now = 1290.5  # within the 10 s margin: refresh now rather than fail mid-scan
    assert cache.get(key) is None
    assert len(cache) == 0


def test_short_lived_tokens_get_half_their_lifetime_as_margin() -> None:
    clock = Clock()
    cache = TokenCache(clock=clock, margin=10)
    key = ("r", "s", "scope", "")
    cache.put(key, "tok", expires_at=1006.0)  # 6 s token: margin 3 s
    clock.now = 1002.0
    assert cache.get(key) == "tok"
    clock.now = 1003.5
    assert cache.get(key) is None


def test_token_cache_keys_are_separate() -> None:
    cache = TokenCache(clock=Clock())
    cache.put(("r", "s", "repository:a:pull", ""), "a", expires_at=5000)
    assert cache.get(("r", "s", "repository:b:pull", "")) is None
    assert cache.get(("r", "s", "repository:a:pull", "bob")) is None
