"""Flux exclusionList regexes as ignore globs or a refusing filter: same tags refused."""

from __future__ import annotations

import re

import pytest

from image_bot.decide.filters import IgnoreList, TagFilter
from image_bot.migrate.exclusions import exclusion_filter, regex_as_globs

TAGS = (
    "1.0.0", "1.0.2", "1x0y2", "v1.0.2-rc.1", "1.1.1", "1.0.0.sig", "sha256-abc.sig", "latest",
    "debug-1.2", "1.2-debug", "main-abc123-1700000000", "SNAPSHOT-1", "a*b", "a-b", "sig",
)  # fmt: skip


@pytest.mark.parametrize(
    ("regex", "globs"),
    [
        ("^.*\\.sig$", ("*.sig",)),  # Flux's default
        ("1.0.2", ("*1?0?2*",)),  # the docs' example: `.` is any character, found anywhere
        ("1.1.1|1.0.0", ("*1?1?1*", "*1?0?0*")),
        ("^debug-", ("debug-*",)),
        ("^latest$", ("latest",)),
        (".*-rc.*", ("*-rc*",)),
        ("a\\*b", ("*a[*]b*",)),
    ],
)
def test_a_regex_that_a_glob_can_say_becomes_globs_refusing_the_same_tags(
    regex: str, globs: tuple[str, ...]
) -> None:
    assert regex_as_globs(regex) == globs
    ignore = IgnoreList(globs)
    for tag in TAGS:
        assert (ignore.match(tag) is not None) == bool(re.search(regex, tag)), tag


@pytest.mark.parametrize("regex", ["(?i)snapshot", "v[0-9]+", "^1\\.0\\.\\d$", "a+", "x|(y)"])
def test_a_regex_a_glob_cannot_say_is_not_turned_into_one(regex: str) -> None:
    assert regex_as_globs(regex) is None


def test_the_refusing_filter_keeps_what_the_pattern_keeps_minus_the_exclusions() -> None:
    exclusions = ["(?i)snapshot", "^debug-"]
    pattern = "^main-[a-f0-9]+-(?P<ts>[0-9]+)|^SNAPSHOT-(?P<n>[0-9])"
    combined = exclusion_filter(exclusions, pattern, "$ts")
    assert combined is not None
    kept = TagFilter.compile(combined, "$ts")
    original = TagFilter.compile(pattern, "$ts")
    for tag in TAGS:
        refused = any(re.search(e, tag) for e in exclusions)
        assert kept.value(tag) == (None if refused else original.value(tag)), tag
    assert kept.value("main-abc123-1700000000") == "1700000000"


def test_without_a_pattern_every_tag_but_the_excluded_is_kept() -> None:
    combined = exclusion_filter(["(?i)snapshot"], None)
    assert combined is not None
    kept = TagFilter.compile(combined, None)
    assert [tag for tag in TAGS if kept.value(tag) is not None] == [
        tag for tag in TAGS if "snapshot" not in tag.lower()
    ]


def test_exclusions_with_groups_that_would_renumber_an_extract_are_refused() -> None:
    assert exclusion_filter(["(rc)[0-9]"], "^v(\\d+)", "$1") is None
    assert exclusion_filter(["([0-9"], None) is None  # does not compile
