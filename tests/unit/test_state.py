"""state: first-seen times per digest survive reopening; the tag cache expires; what the
registries said is remembered in one transaction per pass; webhook deliveries are recorded
once; leases have one holder at a time.

Every test taking `open_state` runs twice: on the embedded SQLite file and on a real
PostgreSQL database (`tests/support/postgres.py`), through the same StateStore API.
"""

from __future__ import annotations

import subprocess  # noqa: TID251 (replicas are processes)
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from image_bot.model import Fact, ImageName, TagFacts
from image_bot.state import KnownDigest, Remembered, StateError, StateStore, listing_hash
from image_bot.state.postgres import LATEST_REVISION
from tests.support.postgres import RunningPostgres

NGINX = ImageName("docker.io", "library/nginx")
T0 = datetime(2026, 1, 1, tzinfo=UTC)

OpenState = Callable[..., StateStore]  # open_state(read_only=False) -> a new connection


@pytest.fixture(params=["sqlite", "postgresql"])
def open_state(request: pytest.FixtureRequest, tmp_path: Path) -> OpenState:
    """Opens the test's state (a new connection each call) on one backend."""
    if request.param == "sqlite":
        return lambda read_only=False: StateStore.in_dir(tmp_path, read_only=read_only)
    url = request.getfixturevalue("postgres_url")
    return lambda read_only=False: StateStore.at_url(url, read_only=read_only)


def test_first_seen_is_recorded_once_and_kept_across_runs(open_state: OpenState) -> None:
    with open_state() as store:
        assert store.first_seen(NGINX, ["sha256:a"], now=T0) == {"sha256:a": T0}
    later = T0 + timedelta(days=3)
    with open_state() as store:
        seen = store.first_seen(NGINX, ["sha256:a", "sha256:b"], now=later)
    assert seen == {"sha256:a": T0, "sha256:b": later}


def test_first_seen_is_per_image(open_state: OpenState) -> None:
    other = ImageName("ghcr.io", "acme/nginx")
    with open_state() as store:
        store.first_seen(NGINX, ["sha256:a"], now=T0)
        assert store.first_seen(other, ["sha256:a"], now=T0 + timedelta(1)) == {
            "sha256:a": T0 + timedelta(1)
        }


def test_the_tag_cache_serves_only_while_fresh(open_state: OpenState) -> None:
    ttl = timedelta(minutes=5)
    with open_state() as store:
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


def test_a_read_only_state_file_is_not_created(tmp_path: Path) -> None:
    with StateStore.in_dir(tmp_path / "fresh", read_only=True) as store:
        assert store.first_seen(NGINX, ["sha256:a"], now=T0) == {"sha256:a": T0}
        assert store.first_delivery("d-1")
    assert not (tmp_path / "fresh").exists()  # a dry run creates no state file


def test_read_only_state_reads_first_seen_and_writes_nothing(open_state: OpenState) -> None:
    with open_state() as store:
        store.first_seen(NGINX, ["sha256:a"], now=T0)
    later = T0 + timedelta(hours=1)
    with open_state(read_only=True) as store:
        seen = store.first_seen(NGINX, ["sha256:a", "sha256:b"], now=later)
        store.store_tags(NGINX, ["1.0"], now=later)
    assert seen == {"sha256:a": T0, "sha256:b": later}
    with open_state() as store:
        assert store.first_seen(NGINX, ["sha256:b"], now=later + timedelta(1)) == {
            "sha256:b": later + timedelta(1)
        }  # b was not recorded by the read-only pass


def test_what_a_pass_learnt_is_remembered_in_one_go(open_state: OpenState) -> None:
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
    with open_state() as store:
        assert store.listing(NGINX) is None
        assert store.known_digest(NGINX, "1.27") is None
        assert store.digest_facts(NGINX, "sha256:a") == (TagFacts(digest="sha256:a"), frozenset())
        store.remember(learnt, now=T0)
    with open_state(read_only=True) as store:
        assert store.listing(NGINX) == "hash-1"
        assert store.known_digest(NGINX, "1.27") == KnownDigest("sha256:a", "hash-1", T0)
        remembered, known = store.digest_facts(NGINX, "sha256:a")
        assert known == {Fact.CREATED, Fact.PLATFORMS}
        assert (remembered.created, remembered.platforms) == (T0, facts.platforms)
        store.remember(Remembered({NGINX: "hash-2"}, [], []), now=T0)  # read-only: ignored
    with open_state() as store:
        assert store.listing(NGINX) == "hash-1"
        assert store.known_digest(ImageName("ghcr.io", "acme/nginx"), "1.27") is None


def test_the_listing_hash_ignores_order_and_repeats() -> None:
    assert listing_hash(["1.0", "2.0"]) == listing_hash(["2.0", "1.0", "2.0"])
    assert listing_hash(["1.0", "2.0"]) != listing_hash(["1.0", "2.0", "2.1"])


def test_an_unreachable_database_is_a_state_error(tmp_path: Path) -> None:
    with pytest.raises(StateError, match="cannot open state database") as raised:
        StateStore.at_url(f"postgresql://bot:hunter2@/none?host={tmp_path}&port=1")
    assert "hunter2" not in str(raised.value)


def test_a_delivery_is_first_once_whoever_sees_it(open_state: OpenState) -> None:
    with open_state() as one, open_state() as other:
        assert one.first_delivery("github:abc")
        assert not other.first_delivery("github:abc")  # a redelivery to another replica
        assert other.first_delivery("github:abd")
    with open_state(read_only=True) as store:
        assert store.first_delivery("github:new")  # read-only: answered, not recorded
    with open_state() as store:
        assert not store.first_delivery("github:abc")
        assert store.seen("github:abc")
        assert not store.seen("github:new")
        assert store.first_delivery("github:new")


def test_of_many_keys_each_is_first_for_one_claimant(open_state: OpenState) -> None:
    keys = [f"pass acme/r{n} every 600s #7" for n in range(1200)]  # more than one statement
    with open_state() as one, open_state() as other:
        first = one.first_times(keys[:700])
        assert first == set(keys[:700])
        assert other.first_times(keys) == set(keys[700:])
        assert one.first_times(keys) == set()


def test_a_lease_has_one_holder_until_it_expires_or_is_released(open_state: OpenState) -> None:
    with open_state() as one, open_state() as other:
        assert one.take_lease("repo:acme/a", "replica-1", seconds=60)
        assert not other.take_lease("repo:acme/a", "replica-2", seconds=60)
        assert one.take_lease("repo:acme/a", "replica-1", seconds=60)  # renewed
        assert other.lease_holder("repo:acme/a") == "replica-1"
        assert other.take_lease("repo:acme/b", "replica-2", seconds=60)  # another repository
        one.release_lease("repo:acme/a", "replica-2")  # not the holder: nothing happens
        assert other.lease_holder("repo:acme/a") == "replica-1"
        one.release_lease("repo:acme/a", "replica-1")
        assert other.lease_holder("repo:acme/a") is None
        assert other.take_lease("repo:acme/a", "replica-2", seconds=0.05)
        time.sleep(0.1)  # replica-2 died holding it: once expired, it is anyone's
        assert other.lease_holder("repo:acme/a") is None
        assert one.take_lease("repo:acme/a", "replica-1", seconds=60)


def test_racing_for_a_lease_one_wins(open_state: OpenState) -> None:
    stores = [open_state() for _ in range(6)]
    won: list[str] = []
    start = threading.Barrier(len(stores))

    def race(store: StateStore, holder: str) -> None:
        start.wait()
        if store.take_lease("repo:acme/race", holder, seconds=60):
            won.append(holder)

    threads = [
        threading.Thread(target=race, args=(store, f"r{n}")) for n, store in enumerate(stores)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for store in stores:
        store.close()
    assert len(won) == 1


def test_replicas_starting_together_migrate_once_to_the_latest_revision(
    postgres: RunningPostgres, postgres_url: str
) -> None:
    opening = "import sys; from image_bot.state import StateStore; StateStore.at_url(sys.argv[1])"
    replicas = [
        subprocess.Popen([sys.executable, "-c", opening, postgres_url], stderr=subprocess.PIPE)
        for _ in range(3)
    ]
    for replica in replicas:
        _, stderr = replica.communicate(timeout=60)
        assert replica.returncode == 0, stderr.decode()
    database = postgres_url.split("?", maxsplit=1)[0].rsplit("/", 1)[1]
    assert postgres.psql(database, "SELECT version_num FROM alembic_version") == LATEST_REVISION
    tables = postgres.psql(
        database,
        "SELECT count(*) FROM pg_tables WHERE tablename IN"
        " ('procrastinate_jobs', 'leases', 'deliveries', 'first_seen')",
    )
    assert tables == "4"
