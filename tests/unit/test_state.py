"""state: first-seen times per digest survive reopening; the tag cache expires; what the
registries said is remembered in one transaction per pass."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from image_bot.model import Fact, ImageName, TagFacts
from image_bot.state import KnownDigest, Remembered, StateError, StateStore, listing_hash

NGINX = ImageName("docker.io", "library/nginx")
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_first_seen_is_recorded_once_and_kept_across_runs(tmp_path: Path) -> None:
    with StateStore.in_dir(tmp_path) as store:
        assert store.first_seen(NGINX, ["sha256:a"], now=T0) == {"sha256:a": T0}
    later = T0 + timedelta(days=3)
    with StateStore.in_dir(tmp_path) as store:
        seen = store.first_seen(NGINX, ["sha256:a", "sha256:b"], now=later)
    assert seen == {"sha256:a": T0, "sha256:b": later}


def test_first_seen_is_per_image(tmp_path: Path) -> None:
    other = ImageName("ghcr.io", "acme/nginx")
    with StateStore.in_dir(tmp_path) as store:
        store.first_seen(NGINX, ["sha256:a"], now=T0)
        assert store.first_seen(other, ["sha256:a"], now=T0 + timedelta(1)) == {
            "sha256:a": T0 + timedelta(1)
        }


def test_the_tag_cache_serves_only_while_fresh(tmp_path: Path) -> None:
    ttl = timedelta(minutes=5)
    with StateStore.in_dir(tmp_path) as store:
        assert store.cached_tags(NGINX, ttl=ttl, now=T0) is None
        store.store_tags(NGINX, ["1.25", "1.27"], now=T0)
        assert store.cached_tags(NGINX, ttl=ttl, now=T0 + timedelta(minutes=4)) == ("1.25", "1.27")
        assert store.cached_tags(NGINX, ttl=ttl, now=T0 + timedelta(minutes=5)) is None
        assert store.cached_tags(NGINX, ttl=timedelta(0), now=T0) is None


def test_an_unusable_state_path_is_a_state_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StateError):
        StateStore.in_dir(blocker)


def test_read_only_state_reads_first_seen_and_writes_nothing(tmp_path: Path) -> None:
    with StateStore.in_dir(tmp_path / "fresh", read_only=True) as store:
        assert store.first_seen(NGINX, ["sha256:a"], now=T0) == {"sha256:a": T0}
    assert not (tmp_path / "fresh").exists()  # a dry run creates no state file

    with StateStore.in_dir(tmp_path) as store:
        store.first_seen(NGINX, ["sha256:a"], now=T0)
    later = T0 + timedelta(hours=1)
    with StateStore.in_dir(tmp_path, read_only=True) as store:
        seen = store.first_seen(NGINX, ["sha256:a", "sha256:b"], now=later)
        store.store_tags(NGINX, ["1.0"], now=later)
    assert seen == {"sha256:a": T0, "sha256:b": later}
    with StateStore.in_dir(tmp_path) as store:
        assert store.first_seen(NGINX, ["sha256:b"], now=later + timedelta(1)) == {
            "sha256:b": later + timedelta(1)
        }  # b was not recorded by the read-only pass


def test_what_a_pass_learnt_is_remembered_in_one_go(tmp_path: Path) -> None:
    facts = TagFacts(
        digest="sha256:a",
        created=T0,
        platforms=frozenset({"linux/amd64", "linux/arm64"}),
        labels={"org.opencontainers.image.revision": "abc"},
    )
    learnt = Remembered(
        listings={NGINX: "hash-1"},
        digests=[(NGINX, "1.27", "sha256:a", "hash-1")],
        facts=[(NGINX, "sha256:a", facts, frozenset({Fact.CREATED, Fact.PLATFORMS}))],
    )
    with StateStore.in_dir(tmp_path) as store:
        assert store.listing(NGINX) is None
        assert store.known_digest(NGINX, "1.27") is None
        assert store.digest_facts(NGINX, "sha256:a") == (TagFacts(digest="sha256:a"), frozenset())
        store.remember(learnt, now=T0)
    with StateStore.in_dir(tmp_path, read_only=True) as store:
        assert store.listing(NGINX) == "hash-1"
        assert store.known_digest(NGINX, "1.27") == KnownDigest("sha256:a", "hash-1", T0)
        remembered, known = store.digest_facts(NGINX, "sha256:a")
        assert known == {Fact.CREATED, Fact.PLATFORMS}
        assert (remembered.created, remembered.platforms) == (T0, facts.platforms)
        store.remember(Remembered({NGINX: "hash-2"}, [], []), now=T0)  # read-only: ignored
    with StateStore.in_dir(tmp_path) as store:
        assert store.listing(NGINX) == "hash-1"
        assert store.known_digest(ImageName("ghcr.io", "acme/nginx"), "1.27") is None


def test_the_listing_hash_ignores_order_and_repeats() -> None:
    assert listing_hash(["1.0", "2.0"]) == listing_hash(["2.0", "1.0", "2.0"])
    assert listing_hash(["1.0", "2.0"]) != listing_hash(["1.0", "2.0", "2.1"])
