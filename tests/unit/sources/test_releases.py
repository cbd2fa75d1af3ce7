"""The releases adapter: one GET per source, anonymous unless configured, bounded in size and
time; every failure is one line, never an exception out of it."""

from __future__ import annotations

import httpx
import pytest
import respx

from image_bot.sources.links import SourceHost, SourceKind, SourceRepository
from image_bot.sources.releases import ReleaseFetcher, ReleasesUnavailable

GITHUB = SourceRepository(
    "https://github.com/acme/app", "github.com", "acme/app",
    SourceHost(SourceKind.GITHUB, "https://api.github.com"),
)  # fmt: skip
GITLAB = SourceRepository(
    "https://gitlab.example.com/g/sub/app", "gitlab.example.com", "g/sub/app",
    SourceHost(SourceKind.GITLAB, "https://gitlab.example.com/api/v4", token="glpat-x"),
)  # fmt: skip


@respx.mock(assert_all_called=True)
def test_github_releases_are_read_anonymously_and_drafts_skipped(
    respx_mock: respx.MockRouter,
) -> None:
    route = respx_mock.get("https://api.github.com/repos/acme/app/releases").respond(
        json=[
            {"tag_name": "v2", "name": "Two", "html_url": "https://github.com/acme/app/releases/tag/v2",
             "body": "notes", "published_at": "2026-12-01T10:00:00Z", "draft": False},
            {"tag_name": "v3", "draft": True},
            {"tag_name": "v1", "html_url": "https://evil.example/phish", "body": None},
        ]
    )  # fmt: skip
    found = ReleaseFetcher().releases(GITHUB)
    assert [r.tag for r in found] == ["v2", "v1"]
    assert found[1].url == "https://github.com/acme/app/releases/tag/v1"  # not the evil link
    assert "authorization" not in route.calls.last.request.headers
    assert route.calls.last.request.url.params["per_page"] == "30"


@respx.mock(assert_all_called=True)
def test_gitlab_releases_use_the_configured_token_and_the_encoded_path(
    respx_mock: respx.MockRouter,
) -> None:
    route = respx_mock.get("https://gitlab.example.com/api/v4/projects/g%2Fsub%2Fapp/releases")
    route.respond(json=[{"tag_name": "v1", "description": "d", "_links": {"self": "x"}}])
    (release,) = ReleaseFetcher().releases(GITLAB)
    assert (release.tag, release.body) == ("v1", "d")
    assert route.calls.last.request.headers["private-token"] == "glpat-x"


@pytest.mark.parametrize(
    ("response", "why"),
    [
        (httpx.Response(404), "private or missing (404)"),
        (httpx.Response(403, headers={"x-ratelimit-remaining": "0"}), "rate limited (403)"),
        (httpx.Response(429), "rate-limits us"),
        (httpx.Response(502), "answered 502"),
        (httpx.Response(200, content=b"{nope"), "not JSON"),
        (httpx.Response(200, json={"a": 1}), "not a list"),
        (httpx.Response(200, content=b"[" + b" " * 3000 + b"]"), "exceeds 2000 bytes"),
        (httpx.ConnectError("refused"), "unreachable (ConnectError)"),
        (httpx.ReadTimeout("slow"), "did not answer in 10s"),
    ],
)
@respx.mock(assert_all_called=True)
def test_failures_become_one_line(
    respx_mock: respx.MockRouter, response: httpx.Response | Exception, why: str
) -> None:
    route = respx_mock.get("https://api.github.com/repos/acme/app/releases")
    if isinstance(response, Exception):
        route.side_effect = response
    else:
        route.return_value = response
    with pytest.raises(ReleasesUnavailable) as raised:
        ReleaseFetcher(max_bytes=2000).releases(GITHUB)
    assert why in str(raised.value)


def test_an_unknown_host_is_not_asked() -> None:
    other = SourceRepository("https://elsewhere.org/a/b", "elsewhere.org", "a/b")
    with pytest.raises(ReleasesUnavailable, match="not a forge"):
        ReleaseFetcher().releases(other)
