"""Hypothesis properties of every ordering: order independence, no downgrade, idempotence."""

from __future__ import annotations

import hashlib
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from image_bot.decide.ranges import parse_range
from image_bot.decide.versions import parse_tag
from image_bot.model import TagFacts
from tests.unit.decide.helpers import policy, run

RANGES = ["*", "^1", "~1.2", ">=1.0 <3", "1.x || 3.x", ">0.5.0", "*-0", "<=2.1.3", "!=1.2.3"]
SPECS: list[dict[str, Any]] = [
    *({"semver": r} for r in RANGES),
    {},
    {"prerelease": True},
    {"numerical": "asc"},
    {"numerical": "desc"},
    {"alphabetical": "asc"},
    {"alphabetical": "desc"},
    {"semver": "*", "ignore": ["*-rc*", "2.*"]},
]

version_tags = st.builds(
    lambda prefix, parts, pre, variant: prefix + ".".join(map(str, parts)) + pre + variant,
    st.sampled_from(["", "", "v"]),
    st.lists(st.integers(0, 4), min_size=1, max_size=4),
    st.sampled_from(["", "", "", "-rc.1", "-beta2", "-alpha", "b1"]),
    st.sampled_from(["", "", "-alpine", "-bookworm", "-debian-12-r3"]),
)
tags_strategy = st.lists(
    st.one_of(version_tags, st.sampled_from(["latest", "main-abc1234", "stable", "7", "10"])),
    min_size=0,
    max_size=25,
)


def _digest(tag: str) -> str:
    return "sha256:" + hashlib.sha256(tag.encode()).hexdigest()


def _facts(tags: list[str]) -> dict[str, TagFacts]:
    """Digests as registries have them: a floating tag (`17`, `1.20-alpine`) names the same
    image as the newest stable tag of its line and variant (`17.0.2`, `1.20.3-alpine`)."""
    versions = [v for t in tags if (v := parse_tag(t)) is not None]
    facts = {}
    for tag in tags:
        floating = parse_tag(tag)
        same = [
            v
            for v in versions
            if floating is not None
            and v.is_stable
            and v.variant == floating.variant
            and v.release[: floating.precision] == floating.release
        ]
        newest = max(same, key=lambda v: (v.key, v.precision, v.tag), default=None)
        facts[tag] = TagFacts(digest=_digest(newest.tag if newest else tag))
    return facts


@settings(max_examples=150, deadline=None)
@given(tags=tags_strategy, current=version_tags, spec=st.sampled_from(SPECS), data=st.data())
def test_choice_does_not_depend_on_tag_order(
    tags: list[str], current: str, spec: dict[str, Any], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(tags))
    chosen = policy(**spec)
    facts = _facts([*tags, current])
    first = run(chosen, f"x/app:{current}", tags, facts)
    second = run(chosen, f"x/app:{current}", shuffled, facts)
    assert first.decision == second.decision
    assert first.asked == second.asked


@settings(max_examples=200, deadline=None)
@given(tags=tags_strategy, current=version_tags, range_text=st.sampled_from(RANGES))
def test_semver_target_is_newer_in_range_and_variant(
    tags: list[str], current: str, range_text: str
) -> None:
    result = run(policy(semver=range_text), f"x/app:{current}", tags, _facts([*tags, current]))
    if result.decision.target is None:
        return
    target = parse_tag(result.decision.target.tag or "")
    now = parse_tag(current)
    assert target is not None
    assert now is not None
    assert target.variant == now.variant
    assert target.semver is not None
    assert parse_range(range_text).check(target.semver)
    assert target.key > now.key  # never a downgrade (or a sideways move)


@settings(max_examples=150, deadline=None)
@given(tags=tags_strategy, current=version_tags, spec=st.sampled_from(SPECS))
def test_choosing_again_from_the_target_proposes_nothing(
    tags: list[str], current: str, spec: dict[str, Any]
) -> None:
    chosen = policy(**spec)
    facts = _facts([*tags, current])
    first = run(chosen, f"x/app:{current}", tags, facts)
    if first.decision.target is None:
        return
    again = run(chosen, str(first.decision.target), tags, facts)
    assert again.decision.target is None, again.decision.reason


@settings(max_examples=100, deadline=None)
@given(tags=tags_strategy, current=version_tags)
def test_allow_downgrade_may_go_lower_but_still_stays_in_range(
    tags: list[str], current: str
) -> None:
    chosen = policy(semver="^1", allow_downgrade=True)
    result = run(chosen, f"x/app:{current}", tags, _facts([*tags, current]))
    if result.decision.target is not None:
        target = parse_tag(result.decision.target.tag or "")
        assert target is not None
        assert target.semver is not None
        assert parse_range("^1").check(target.semver)
