"""OCI labels -> source repository and compare links: known forges by host, hostile values."""

from __future__ import annotations

import pytest

from image_bot.sources.links import (
    LABEL_REVISION,
    LABEL_SOURCE,
    SourceHost,
    SourceKind,
    compare_url,
    known_hosts,
    safe_revision,
    source_repository,
)

HOSTS = known_hosts({"git.example.com:8443": SourceHost(SourceKind.GITLAB, "https://x/api/v4")})


@pytest.mark.parametrize(
    ("label", "url", "path"),
    [
        ("https://github.com/acme/app", "https://github.com/acme/app", "acme/app"),
        ("https://github.com/acme/app.git", "https://github.com/acme/app", "acme/app"),
        ("https://github.com/acme/app/tree/main/cmd", "https://github.com/acme/app", "acme/app"),
        ("git@github.com:acme/app.git", "https://github.com/acme/app", "acme/app"),
        ("https://gitlab.com/g/sub/app/-/tree/main", "https://gitlab.com/g/sub/app", "g/sub/app"),
        (
            "https://GIT.example.com:8443/ops/tool/",
            "https://git.example.com:8443/ops/tool",
            "ops/tool",
        ),
        ("https://elsewhere.org/a/b/c", "https://elsewhere.org/a/b/c", "a/b/c"),
    ],
)
def test_sources_are_read_from_web_and_scp_urls(label: str, url: str, path: str) -> None:
    found = source_repository({LABEL_SOURCE: label}, HOSTS)
    assert found is not None
    assert (found.url, found.path) == (url, path)


@pytest.mark.parametrize(
    "label",
    [
        "",
        "javascript:alert(1)",
        "https://github.com/acme",  # no repository
        "https://github.com/acme/app) [x](https://evil",
        "https://github.com/acme/app\n[x](https://evil)",
        "https://github.com/" + "a" * 400,
        "ftp://github.com/acme/app",
        "https://github.com/../../etc",
    ],
)
def test_hostile_or_useless_sources_are_left_out(label: str) -> None:
    assert source_repository({LABEL_SOURCE: label}, HOSTS) is None


def test_compare_links_need_a_known_forge_and_two_revisions() -> None:
    github = source_repository({LABEL_SOURCE: "https://github.com/acme/app"}, HOSTS)
    gitlab = source_repository({LABEL_SOURCE: "https://gitlab.com/g/app"}, HOSTS)
    other = source_repository({LABEL_SOURCE: "https://elsewhere.org/a/b"}, HOSTS)
    assert github is not None and gitlab is not None and other is not None
    assert compare_url(github, "abc1234", "def5678") == (
        "https://github.com/acme/app/compare/abc1234...def5678"
    )
    assert compare_url(gitlab, "v1.0", "v1.1") == "https://gitlab.com/g/app/-/compare/v1.0...v1.1"
    assert compare_url(other, "abc1234", "def5678") is None
    assert compare_url(github, "abc1234", "abc1234") is None


@pytest.mark.parametrize(
    ("value", "safe"),
    [("0f9e8d7c6b5a4f3e", True), ("v1.2.3", True), ("a..b", False), ("x y", False), ("", False)],
)
def test_revisions_must_read_as_commits_or_tags(value: str, safe: bool) -> None:
    assert (safe_revision({LABEL_REVISION: value}) is not None) is safe
