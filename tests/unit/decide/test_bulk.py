"""The many-tags path (one regex pass, memos, reasons by position) agrees with the one-at-a-time
path it replaces: `SemverOrdering.judge` against `rank` + `admit` per value."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from image_bot.decide.orderings import SemverOrdering, judge_each
from image_bot.decide.ranges import parse_range
from image_bot.decide.reasons import Reasons, sorted_distinct
from tests.unit.decide.helpers import policy, run

RANGES = ["*", "^1", "~1.2", ">=1.0 <3", "1.x || 3.x", "*-0", "!=1.2.3", ">=1.0.0-0 <2"]

tags = st.builds(
    lambda prefix, parts, glued, pre, variant: (
        prefix + ".".join(map(str, parts)) + glued + pre + variant
    ),
    st.sampled_from(["", "v", "V"]),
    st.lists(st.integers(0, 3), min_size=1, max_size=4),
    st.sampled_from(["", "", "b1", "rc2", "alpha", "a1.post1", "abc"]),
    st.sampled_from(["", "", "-rc.1", "-beta2", "-0", "-01", "-20240101"]),
    st.sampled_from(["", "", "-alpine", "-bookworm", "-debian-12-r3", "-r4", "-alpine-r2"]),
)
others = st.sampled_from(
    ["latest", "3f2a9c1", "deadbeef1", "1234567", "main-abc1234", "", "1.2+b.1"]
)


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(st.one_of(tags, others), max_size=30),
    current=st.one_of(tags, others, st.none()),
    range_text=st.sampled_from(RANGES),
    prerelease=st.booleans(),
)
def test_judging_many_agrees_with_judging_each(
    values: list[str], current: str | None, range_text: str, prerelease: bool
) -> None:
    ordering = SemverOrdering(parse_range(range_text), prerelease=prerelease)
    facts = [None] * len(values)
    assert ordering.judge(values, facts, current) == judge_each(ordering, values, facts, current)


def test_values_that_cannot_be_joined_by_newlines_are_judged_one_by_one() -> None:
    ordering = SemverOrdering(parse_range("*"))
    values = ["1.2.3", "1.2.4\n1.2.5", "1.2.3"]
    judged = ordering.judge(values, [None] * 3, "1.0.0")
    assert judged.why == [None, "not a version", None]
    assert [n for n, _, _ in judged.admitted] == [0, 2]
    assert judged.admitted[0][1:] == judged.admitted[1][1:]


def test_a_filter_value_spanning_lines_is_not_a_version() -> None:
    chosen = policy(filter={"pattern": r"^(\d+)\.(\d+)$", "extract": "$1\n$2"})
    result = run(chosen, "x/app:1.0", ["1.0", "1.1", "latest"])
    assert result.target is None
    assert dict(result.decision.rejected)["1.1"] == "not a version"


def test_duplicated_and_unsorted_tags_decide_like_the_sorted_list() -> None:
    listed = [f"1.{minor}.{patch}" for minor in range(30) for patch in range(10)] + ["latest"]
    scrambled = listed[::-1] + listed[:40]
    chosen = policy(semver="^1")
    assert (
        run(chosen, "x/app:1.3.0", scrambled).decision
        == run(chosen, "x/app:1.3.0", listed).decision
    )


def test_reasons_are_listed_by_tag_whatever_order_they_were_given_in() -> None:
    reasons = Reasons(["a", "b", "c"], [None, "old", None])
    copied = reasons.copy()
    copied["c"] = "too new"
    copied["0-unlisted"] = "extra"
    assert copied.items() == (("0-unlisted", "extra"), ("b", "old"), ("c", "too new"))
    assert reasons.items() == (("b", "old"),)  # the copy is independent
    assert "a" not in copied and copied.get("b") == "old"


@pytest.mark.parametrize(
    ("given", "expected"),
    [((), []), (("a", "b"), ["a", "b"]), (("b", "a", "b"), ["a", "b"])],
)
def test_sorted_distinct(given: tuple[str, ...], expected: list[str]) -> None:
    assert sorted_distinct(given) == expected
