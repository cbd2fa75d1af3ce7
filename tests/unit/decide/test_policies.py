"""Policy behaviour users see: variants, no downgrades, same-image tags, digests, gates."""

from __future__ import annotations

from datetime import timedelta

import pytest

from image_bot.model import Fact, TagFacts, TagList
from image_bot.reference import parse_reference
from tests.unit.decide.helpers import NOW, digest, policy, run

NGINX = ("1.25.3-alpine", "1.27.0-alpine", "1.27.0", "1.27.0-bookworm", "1.26.1-alpine", "latest")


def test_a_tag_moves_only_within_its_variant() -> None:
    result = run(policy(), "nginx:1.25.3-alpine", NGINX)
    assert result.target == "nginx:1.27.0-alpine"
    rejected = dict(result.decision.rejected)
    assert "variant" in rejected["1.27.0"]
    assert "variant" in rejected["1.27.0-bookworm"]
    assert rejected["latest"] == "not a version"


def test_plain_tags_never_move_to_a_variant() -> None:
    assert run(policy(), "nginx:1.25.3", NGINX).target == "nginx:1.27.0"


def test_the_users_spelling_of_the_name_is_kept() -> None:
    result = run(policy(), "docker.io/library/nginx:1.25.3", NGINX)
    assert result.target == "docker.io/library/nginx:1.27.0"
    assert run(policy(), "nginx:1.25.3", NGINX).target == "nginx:1.27.0"


def test_bitnami_revisions_order_after_the_version() -> None:
    tags = ("1.2.3-debian-12-r4", "1.2.3-debian-12-r10", "1.2.2-debian-12-r30", "1.2.3-r11")
    assert run(policy(), "bitnami/x:1.2.3-debian-12-r4", tags).target == (
        "bitnami/x:1.2.3-debian-12-r10"
    )


def test_calendar_and_plain_number_tags_are_versions() -> None:
    assert run(policy(), "ubuntu:22.04", ("20.04", "22.04", "24.04", "24.10")).target == (
        "ubuntu:24.10"
    )
    assert run(policy(), "x/app:20240101", ("20240101", "20240315", "20231231")).target == (
        "x/app:20240315"
    )


def test_prereleases_only_when_asked() -> None:
    tags = ("1.0.0", "1.1.0-rc.1")
    assert run(policy(), "x/app:1.0.0", tags).target is None
    assert run(policy(prerelease=True), "x/app:1.0.0", tags).target == "x/app:1.1.0-rc.1"
    assert run(policy(semver=">=1.0.0-0"), "x/app:1.0.0", tags).target == "x/app:1.1.0-rc.1"


def test_never_a_downgrade_without_allow_downgrade() -> None:
    tags = ("1.9.0", "1.8.0")
    result = run(policy(semver="^1"), "x/app:2.0.0", tags)
    assert result.target is None
    assert "downgrade" in result.decision.reason
    assert run(policy(semver="^1", allow_downgrade=True), "x/app:2.0.0", tags).target == (
        "x/app:1.9.0"
    )


def test_equal_versions_spelled_differently_are_not_an_update() -> None:
    for current in ("x/app:1.20", "x/app:1.20.0"):
        assert run(policy(), current, ("1.20", "1.20.0", "1.19.3")).target is None


def test_equal_versions_prefer_the_current_spelling() -> None:
    assert run(policy(), "x/app:1.19", ("1.19", "1.20", "1.20.0")).target == "x/app:1.20"
    assert run(policy(), "x/app:v1.19.0", ("1.20.0", "v1.20.0")).target == "x/app:v1.20.0"


def test_no_change_pass_asks_for_no_facts() -> None:
    result = run(policy(), "nginx:1.27.0-alpine", NGINX)
    assert result.target is None
    assert result.asked == []


def test_an_update_checks_both_digests_once() -> None:
    facts = {
        "1.27.0-alpine": TagFacts(digest=digest(2)),
        "1.25.3-alpine": TagFacts(digest=digest(1)),
    }
    result = run(policy(), "nginx:1.25.3-alpine", NGINX, facts)
    assert result.target == "nginx:1.27.0-alpine"
    assert result.asked == [("1.25.3-alpine", "1.27.0-alpine")]


def test_tags_naming_the_same_image_are_one_candidate() -> None:
    """Argo CD Image Updater flip-flops between `1.20` and `1.20.1`; we stay put."""
    same = {"1.20": TagFacts(digest=digest(7)), "1.20.1": TagFacts(digest=digest(7))}
    result = run(policy(), "x/app:1.20", ("1.20", "1.20.1", "1.19"), same)
    assert result.target is None
    assert "already runs" in result.decision.reason
    latest = {"latest": TagFacts(digest=digest(3)), "2.0.0": TagFacts(digest=digest(3))}
    assert run(policy(), "x/app:latest", ("latest", "2.0.0"), latest).target is None


def test_a_current_tag_gone_from_the_registry_still_moves() -> None:
    result = run(policy(), "x/app:1.0.0", ("1.1.0",))
    assert result.target == "x/app:1.1.0"
    assert result.asked == []  # nothing to compare the digest with


def test_pin_writes_tag_at_digest() -> None:
    facts = {"1.1.0": TagFacts(digest=digest(5), platforms=frozenset({"linux/amd64"}))}
    result = run(policy(digest="pin"), "x/app:1.0.0", ("1.0.0", "1.1.0"), facts)
    assert result.target == f"x/app:1.1.0@{digest(5)}"


def test_pin_checks_required_platforms_in_the_index() -> None:
    facts = {"1.1.0": TagFacts(digest=digest(5), platforms=frozenset({"linux/amd64"}))}
    chosen = policy(digest="pin", platforms=["linux/arm64"])
    result = run(chosen, "x/app:1.0.0", ("1.0.0", "1.1.0"), facts)
    assert result.target is None
    assert "linux/arm64" in dict(result.decision.rejected)["1.1.0"]


def test_a_pinned_reference_gets_the_new_digest_of_its_tag() -> None:
    old, new = digest(1), digest(2)
    result = run(policy(), f"x/app:1.0.0@{old}", ("1.0.0",), {"1.0.0": TagFacts(digest=new)})
    assert result.target == f"x/app:1.0.0@{new}"
    same = run(policy(), f"x/app:1.0.0@{old}", ("1.0.0",), {"1.0.0": TagFacts(digest=old)})
    assert same.target is None


def test_follow_tracks_a_mutable_tag_by_digest() -> None:
    old, new = digest(1), digest(2)
    chosen = policy(digest="follow")
    tags = ("latest", "2.0.0")
    assert run(chosen, f"x/app:latest@{old}", tags, {"latest": TagFacts(digest=new)}).target == (
        f"x/app:latest@{new}"
    )
    assert run(chosen, "x/app:latest", tags, {"latest": TagFacts(digest=new)}).target == (
        f"x/app:latest@{new}"
    )
    assert run(chosen, f"x/app:latest@{new}", tags, {"latest": TagFacts(digest=new)}).target is None


def test_min_age_skips_young_images_and_asks_only_for_the_best() -> None:
    tags = ("1.0.0", "1.1.0", "1.2.0", "1.3.0")
    facts = {
        "1.3.0": TagFacts(digest=digest(3), created=NOW - timedelta(hours=2)),
        "1.2.0": TagFacts(digest=digest(2), created=NOW - timedelta(days=3)),
        "1.1.0": TagFacts(digest=digest(1), created=NOW - timedelta(days=9)),
    }
    result = run(policy(min_age="1d"), "x/app:1.0.0", tags, facts)
    assert result.target == "x/app:1.2.0"
    assert "too new" in dict(result.decision.rejected)["1.3.0"]
    # best first, one then two (rounds grow), then the current tag's digest for the same-image check
    assert result.asked == [("1.3.0",), ("1.2.0", "1.1.0"), ("1.0.0",)]


def test_min_age_prefers_first_seen_over_created() -> None:
    old_build = TagFacts(
        digest=digest(1), created=NOW - timedelta(days=30), first_seen=NOW - timedelta(hours=1)
    )
    result = run(policy(min_age="1d"), "x/app:1.0.0", ("1.0.0", "1.1.0"), {"1.1.0": old_build})
    assert result.target is None


def test_fact_rounds_grow_geometrically() -> None:
    tags = [f"1.{n}.0" for n in range(40)]
    young = {t: TagFacts(created=NOW) for t in tags}
    result = run(policy(min_age="1d"), "x/app:1.0.0", tags, young)
    assert result.target is None
    assert [len(r) for r in result.asked][:4] == [1, 2, 4, 8]
    assert len(result.asked) < 10


def test_platforms_gate_candidates() -> None:
    facts = {
        "2.0.0": TagFacts(platforms=frozenset({"linux/amd64"})),
        "1.9.0": TagFacts(platforms=frozenset({"linux/amd64", "linux/arm64/v8"})),
    }
    chosen = policy(platforms=["linux/arm64"])
    assert run(chosen, "x/app:1.0.0", ("1.0.0", "1.9.0", "2.0.0"), facts).target == "x/app:1.9.0"


def test_newest_build_reads_created_times() -> None:
    facts = {
        "main-aaa": TagFacts(created=NOW - timedelta(days=2)),
        "main-bbb": TagFacts(created=NOW - timedelta(days=1)),
        "main-ccc": TagFacts(created=NOW - timedelta(days=3)),
    }
    result = run(policy(newest_build=True), "x/app:main-aaa", tuple(facts), facts)
    assert result.target == "x/app:main-bbb"
    assert result.decision.reason.startswith("main-bbb")


def test_filter_extract_orders_by_the_extracted_value() -> None:
    tags = ("main-abc-1700000000", "main-def-1700000500", "pr-9-1800000000", "latest")
    chosen = policy(
        numerical="asc", filter={"pattern": r"^main-[a-f0-9]+-(?P<ts>\d+)", "extract": "$ts"}
    )
    result = run(chosen, "x/app:main-abc-1700000000", tags)
    assert result.target == "x/app:main-def-1700000500"
    assert dict(result.decision.rejected)["pr-9-1800000000"] == "does not match the filter"


def test_ignore_patterns_drop_tags() -> None:
    result = run(policy(ignore=["*-rc*", "2.*"]), "x/app:1.0.0", ("1.0.0", "1.1.0", "2.0.0"))
    assert result.target == "x/app:1.1.0"
    assert dict(result.decision.rejected)["2.0.0"] == "ignored by '2.*'"


def test_numerical_and_alphabetical_descending() -> None:
    assert run(policy(numerical="desc"), "x/app:5", ("5", "3", "9")).target == "x/app:3"
    assert run(policy(alphabetical="desc"), "x/app:b", ("b", "a", "c")).target == "x/app:a"


def test_losers_say_why() -> None:
    result = run(policy(), "x/app:1.0.0", ("1.0.0", "1.1.0", "1.2.0"))
    assert dict(result.decision.rejected)["1.1.0"] == "ranks below 1.2.0"


@pytest.mark.parametrize(
    ("spec", "wanted"),
    [
        ({}, {Fact.DIGEST}),
        ({"min_age": "1d"}, {Fact.DIGEST, Fact.CREATED}),
        ({"platforms": ["linux/arm64"]}, {Fact.DIGEST, Fact.PLATFORMS}),
        ({"newest_build": True}, {Fact.DIGEST, Fact.CREATED}),
    ],
)
def test_needs(spec: dict[str, object], wanted: set[Fact]) -> None:
    assert policy(**spec).needs == wanted


def test_a_floating_tag_keeps_its_spelling_on_a_new_line() -> None:
    tags = ("16", "16.4", "17", "17.0", "17.0.2")
    assert run(policy(), "postgres:16", tags).target == "postgres:17"
    assert run(policy(), "postgres:16.4", tags).target == "postgres:17.0"
    assert run(policy(), "postgres:16.4.0", tags).target == "postgres:17.0.2"
    # within its own line a floating tag is compared by digest: `17` is `17.0.2` here
    same = {"17": TagFacts(digest=digest(17)), "17.0.2": TagFacts(digest=digest(17))}
    assert run(policy(), "postgres:17", tags, same).target is None
    # pre-releases are not covered by the floating tag: the pre-release is written as is
    assert run(policy(semver="*-0"), "postgres:16", (*tags, "18.0.0-rc.1")).target == (
        "postgres:18.0.0-rc.1"
    )


def test_ignore_matches_tag_names_not_the_images_floating_tags_name() -> None:
    """docs/policies.md: ignoring a release leaves the floating tags that name it."""
    tags = ("16", "16.4", "17", "17.0", "17.0.2")
    assert run(policy(ignore=["17.0.2"]), "postgres:16", tags).target == "postgres:17"
    assert run(policy(ignore=["17.0.2", "17"]), "postgres:16", tags).target == "postgres:17.0"
    every = policy(ignore=["17.0.2", "17.0", "17"])
    assert run(every, "postgres:16", tags).target == "postgres:16.4"


def test_follow_without_a_followable_tag_proposes_nothing() -> None:
    chosen = policy(digest="follow")
    untagged = run(chosen, f"x/app@{digest(1)}", ("latest",))
    assert untagged.target is None
    assert "needs a tag" in untagged.decision.reason
    gone = run(chosen, "x/app:edge", ("latest",))
    assert gone.target is None
    assert "no tag edge" in gone.decision.reason


def test_newest_first_orders_every_tag_by_the_policys_ordering() -> None:
    ref = parse_reference("nginx:1.25.3")
    assert policy().newest_first(ref, TagList(ref.name, NGINX)) == (
        "1.27.0-bookworm",  # other variants rank by version too (rejected, not unranked);
        "1.27.0-alpine",  # equal versions go by name
        "1.27.0",
        "1.26.1-alpine",
        "1.25.3-alpine",
        "latest",  # not a version: after every version
    )
    numbers = TagList(ref.name, ("9", "10", "100", "x"))
    assert policy(numerical="asc").newest_first(ref, numbers) == ("100", "10", "9", "x")
    assert policy(numerical="desc").newest_first(ref, numbers) == ("9", "10", "100", "x")
    builds = policy(filter={"pattern": r"^main-(?P<ts>\d+)$", "extract": "$ts"}, numerical="asc")
    tagged = TagList(ref.name, ("main-9", "main-10", "pr-11", "latest"))
    assert builds.newest_first(ref, tagged) == ("main-10", "main-9", "latest", "pr-11")
