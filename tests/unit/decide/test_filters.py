"""Regex filter + Go-style extract templates, ignore globs, platforms and age."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from image_bot.decide.filters import (
    FilterError,
    IgnoreList,
    TagFilter,
    age_of,
    missing_platforms,
)
from image_bot.model import TagFacts


@pytest.mark.parametrize(
    ("pattern", "extract", "tag", "value"),
    [
        (r"^main-[a-f0-9]+-(?P<ts>\d+)", "$ts", "main-3f2a9c1-1700000000", "1700000000"),
        (r"^v(\d+)\.(\d+)", "${1}x$2", "v3.4", "3x4"),
        (r"^(?<word>[a-z]+)-", "$word", "foo-1", "foo"),  # Go's (?<name>) spelling
        (r"rc", "", "1.0-rc1", "1.0-rc1"),  # no template: the tag itself
        (r"(\d+)", "$$$1", "a7", "$7"),
        (r"^x", "", "ax", None),
    ],
)
def test_filter_values(pattern: str, extract: str, tag: str, value: str | None) -> None:
    assert TagFilter.compile(pattern, extract).value(tag) == value


def test_bad_pattern_and_unknown_group_are_errors() -> None:
    with pytest.raises(FilterError, match="invalid regular expression pattern") as bad:
        TagFilter.compile("^(", None)
    assert bad.value.part == "pattern"
    with pytest.raises(FilterError, match=r"\$ts names no group") as unknown:
        TagFilter.compile(r"^main-(?P<when>\d+)", "$ts")
    assert unknown.value.part == "extract"
    with pytest.raises(FilterError):
        TagFilter.compile(r"^(a)", "$2")


def test_ignore_globs_match_the_whole_tag() -> None:
    ignore = IgnoreList(("*-rc*", "latest", "[^0-9]*"))
    assert ignore.match("1.0-rc1") == "*-rc*"
    assert ignore.match("latest") == "latest"
    assert ignore.match("edge") == "[^0-9]*"
    assert ignore.match("1.0.0") is None


def test_platforms() -> None:
    offered = frozenset({"linux/amd64", "linux/arm64/v8", "linux/arm/v7"})
    assert missing_platforms(["linux/arm64", "linux/amd64"], offered) == ()
    assert missing_platforms(["linux/arm/v6", "windows/amd64"], offered) == (
        "linux/arm/v6",
        "windows/amd64",
    )


def test_age_prefers_first_seen() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    built, seen = now - timedelta(days=9), now - timedelta(hours=1)
    assert age_of(TagFacts(created=built, first_seen=seen), now) == timedelta(hours=1)
    assert age_of(TagFacts(created=built), now) == timedelta(days=9)
    assert age_of(TagFacts(), now) is None
