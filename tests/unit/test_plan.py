"""plan: grouping strategies, branch names and fingerprints."""

from __future__ import annotations

from random import Random

from hypothesis import given
from hypothesis import strategies as st

from image_bot.model import Change
from image_bot.plan import Grouping, NamedGroup, Strategy, fingerprint, make_plans
from tests.unit.publish.factory import change

NGINX = change("nginx:1.25", "1.27", "apps/web/deploy.yaml", 3)
NGINX_DEV = change("nginx:1.25", "1.27", "envs/dev/web.yaml", 7)
REDIS = change("ghcr.io/acme/redis:7.0", "7.2", "envs/dev/cache.yaml", 5)
ALL_CHANGES = (NGINX, NGINX_DEV, REDIS)


def plans_for(grouping: Grouping, changes=ALL_CHANGES, hashes=None):  # type: ignore[no-untyped-def]
    return make_plans(
        "repo",
        "main",
        changes,
        grouping=grouping,
        branch_prefix="image-bot/",
        file_hashes=hashes or {},
    )


def test_by_default_one_branch_per_image() -> None:
    plans = plans_for(Grouping())
    assert [(p.branch, p.group, len(p.changes)) for p in plans] == [
        ("image-bot/ghcr.io-acme-redis", "ghcr.io/acme/redis", 1),
        ("image-bot/nginx", "nginx", 2),
    ]
    assert all(p.repo == "repo" and p.base == "main" for p in plans)


def test_all_in_one_branch() -> None:
    (plan,) = plans_for(Grouping(Strategy.ALL))
    assert plan.branch == "image-bot/all"
    assert [c.occurrence.path for c in plan.changes] == [
        "apps/web/deploy.yaml",
        "envs/dev/cache.yaml",
        "envs/dev/web.yaml",
    ]


def test_one_branch_per_directory() -> None:
    plans = plans_for(Grouping(Strategy.PER_DIRECTORY))
    assert [(p.branch, p.group) for p in plans] == [
        ("image-bot/apps-web", "apps/web"),
        ("image-bot/envs-dev", "envs/dev"),
    ]
    assert len(plans[1].changes) == 2


def test_named_groups_take_matching_images_and_leave_the_rest_per_image() -> None:
    grouping = Grouping(Strategy.NAMED, (NamedGroup("caches", ("ghcr.io/acme/*",)),))
    plans = plans_for(grouping)
    assert [(p.branch, p.group) for p in plans] == [
        ("image-bot/caches", "caches"),
        ("image-bot/nginx", "nginx"),
    ]


def test_groups_that_slug_alike_never_share_a_branch() -> None:
    plans = plans_for(Grouping(Strategy.PER_DIRECTORY), (
        change("nginx:1", "2", "a/b/x.yaml"),
        change("nginx:1", "2", "a-b/x.yaml"),
    ))  # fmt: skip
    branches = [p.branch for p in plans]
    assert len(set(branches)) == 2
    assert all(b.startswith("image-bot/a-b-") for b in branches)


def test_the_fingerprint_is_stable_and_follows_the_intended_changes() -> None:
    first = plans_for(Grouping(), (NGINX, NGINX_DEV))[0]
    reordered = plans_for(Grouping(), (NGINX_DEV, NGINX))[0]
    assert first.fingerprint == reordered.fingerprint
    other_target = plans_for(Grouping(), (change("nginx:1.25", "1.28", "apps/web/deploy.yaml"),))
    assert other_target[0].fingerprint != plans_for(Grouping(), (NGINX,))[0].fingerprint


def test_the_fingerprint_moves_when_a_touched_file_moves_on_the_base() -> None:
    plain = fingerprint("nginx", "main", [NGINX], {"apps/web/deploy.yaml": "aaa"})
    assert plain == fingerprint("nginx", "main", [NGINX], {"apps/web/deploy.yaml": "aaa"})
    assert plain != fingerprint("nginx", "main", [NGINX], {"apps/web/deploy.yaml": "bbb"})
    assert plain == fingerprint("nginx", "main", [NGINX], {"apps/web/deploy.yaml": "aaa", "x": "c"})


_IMAGES = st.sampled_from(["nginx", "ghcr.io/acme/api", "quay.io/a/b", "redis", "a-b/c", "a/b-c"])
_PATHS = st.sampled_from(["a/x.yaml", "a/b/x.yaml", "a-b/x.yaml", "x.yaml", "envs/prod/y.yaml"])
_CHANGES = st.lists(
    st.builds(lambda image, path, line: change(f"{image}:1.0", "2.0", path, line),
              _IMAGES, _PATHS, st.integers(1, 50)),
    max_size=12,
)  # fmt: skip
_GROUPINGS = st.sampled_from(
    [
        Grouping(),
        Grouping(Strategy.ALL),
        Grouping(Strategy.PER_DIRECTORY),
        Grouping(Strategy.NAMED, (NamedGroup("apps", ("*/acme/*", "redis")),)),
    ]
)


@given(_CHANGES, _GROUPINGS, st.randoms())
def test_every_change_lands_in_exactly_one_plan_whatever_the_order(
    changes: list[Change], grouping: Grouping, rng: Random
) -> None:
    plans = plans_for(grouping, changes)
    shuffled = list(changes)
    rng.shuffle(shuffled)
    again = plans_for(grouping, shuffled)
    assert [(p.branch, p.fingerprint, p.changes) for p in plans] == [
        (p.branch, p.fingerprint, p.changes) for p in again
    ]
    placed = [c for plan in plans for c in plan.changes]
    assert sorted(map(id, placed)) == sorted(map(id, changes))
    branches = [plan.branch for plan in plans]
    assert len(set(branches)) == len(branches)
    assert all(b.startswith("image-bot/") and ".." not in b for b in branches)
