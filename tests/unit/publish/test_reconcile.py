"""publish.reconcile: plans vs existing pull requests -> actions."""

from __future__ import annotations

import dataclasses

from image_bot.model import PullRequest, PullRequestState
from image_bot.plan import Grouping, make_plans
from image_bot.publish.pr.marker import NOTICE_CLOSED, NOTICE_OBSOLETE
from image_bot.publish.reconcile import (
    Acknowledge,
    Close,
    Create,
    Defer,
    Evidence,
    Hold,
    Keep,
    Prune,
    Update,
    limit_creates,
    reconcile,
)
from tests.unit.publish.factory import change

PLANS = make_plans(
    "repo",
    "main",
    [change("nginx:1.25", "1.27"), change("redis:7.0", "7.2", "cache.yaml")],
    grouping=Grouping(),
    branch_prefix="image-bot/",
    file_hashes={},
)
NGINX, REDIS = sorted(PLANS, key=lambda p: p.group)


def pr(branch: str, fingerprint: str | None, state: PullRequestState = PullRequestState.OPEN):  # type: ignore[no-untyped-def]
    return PullRequest(1, "u", branch, "main", "sha", state, fingerprint=fingerprint)


def test_new_plans_are_created() -> None:
    assert reconcile(PLANS, []) == [Create(p) for p in PLANS]


def test_an_unchanged_plan_is_kept_and_a_changed_one_updated() -> None:
    same, stale = pr(NGINX.branch, NGINX.fingerprint), pr(REDIS.branch, "old")
    actions = reconcile([NGINX, REDIS], [stale, same])
    assert actions == [Keep(same, NGINX, "up to date"), Update(stale, REDIS)]


def test_a_rebuild_request_updates_an_up_to_date_branch_but_never_a_held_one() -> None:
    same, other = pr(NGINX.branch, NGINX.fingerprint), pr(REDIS.branch, REDIS.fingerprint)
    actions = reconcile([NGINX, REDIS], [same, other], rebuild={NGINX.branch})
    assert actions == [Update(same, NGINX), Keep(other, REDIS, "up to date")]
    foreign = pr(NGINX.branch, None)
    assert [type(a) for a in reconcile([NGINX], [foreign], rebuild={NGINX.branch})] == [Hold]


def test_a_branch_with_a_human_commit_is_held_never_updated_or_closed() -> None:
    foreign = pr(NGINX.branch, None)
    orphan = pr("image-bot/gone", None)
    actions = reconcile([NGINX], [foreign, orphan])
    assert [type(a) for a in actions] == [Hold, Hold]
    assert actions[0] == Hold(foreign, NGINX, actions[0].reason)  # type: ignore[union-attr]


def test_pull_requests_without_a_plan_are_closed_on_evidence_unless_undecided() -> None:
    gone, unknown = pr("image-bot/gone", "f1"), pr("image-bot/unknown", "f2")
    proof = Evidence(obsolete=True, reason="no change is needed any more: a.yaml is gone")
    evidence = {gone.branch: proof, unknown.branch: proof}
    kept = {"image-bot/unknown": "its images could not be scanned this pass"}
    actions = reconcile([], [gone, unknown], kept=kept, evidence=evidence)
    assert actions == [
        Close(gone, "no change is needed any more: a.yaml is gone"),
        Keep(unknown, None, "its images could not be scanned this pass"),
    ]


def test_a_pull_request_without_a_plan_is_kept_without_evidence() -> None:
    found_nothing, doubtful = pr("image-bot/a", "f1"), pr("image-bot/b", "f2")
    unread = Evidence(obsolete=False, reason="a.yaml could not be read this pass; left open")
    actions = reconcile([], [found_nothing, doubtful], evidence={doubtful.branch: unread})
    assert actions == [
        Keep(found_nothing, None, "nothing shows it is obsolete; left open"),
        Keep(doubtful, None, "a.yaml could not be read this pass; left open"),
    ]


def test_a_proposal_closed_by_a_human_is_not_reopened_but_a_new_one_is() -> None:
    closed = pr(NGINX.branch, NGINX.fingerprint, PullRequestState.CLOSED)
    acknowledged = dataclasses.replace(closed, notices=(NOTICE_CLOSED,))
    assert reconcile([NGINX], [acknowledged]) == [
        Prune(acknowledged),  # its leftover branch: no pull request uses it
        Keep(acknowledged, NGINX, "closed without merging; not proposed again"),
    ]
    older = dataclasses.replace(acknowledged, fingerprint="older-proposal")
    assert reconcile([NGINX], [older]) == [Create(NGINX)]  # the push reuses the branch


def test_a_human_close_is_acknowledged_once_then_never_again() -> None:
    closed = dataclasses.replace(
        pr(NGINX.branch, NGINX.fingerprint, PullRequestState.CLOSED), head_sha=""
    )
    assert reconcile([NGINX], [closed])[0] == Acknowledge(closed)
    newer = dataclasses.replace(closed, fingerprint="older-proposal")
    assert reconcile([NGINX], [newer]) == [Acknowledge(newer), Create(NGINX)]
    done = dataclasses.replace(closed, notices=(NOTICE_CLOSED,))
    assert not any(isinstance(a, Acknowledge) for a in reconcile([NGINX], [done]))
    by_the_bot = dataclasses.replace(closed, notices=(NOTICE_OBSOLETE,))
    assert not any(isinstance(a, Acknowledge) for a in reconcile([], [by_the_bot]))


def test_leftover_branches_of_closed_or_merged_pull_requests_are_pruned_unless_used() -> None:
    merged = pr("image-bot/merged", "f1", PullRequestState.MERGED)
    gone = dataclasses.replace(merged, branch="image-bot/gone", head_sha="")
    reopened = pr("image-bot/again", "f2", PullRequestState.CLOSED)
    again = dataclasses.replace(reopened, number=2, state=PullRequestState.OPEN)
    actions = reconcile([], [merged, gone, dataclasses.replace(reopened, notices=("closed",))])
    assert actions[0] == Prune(merged)
    assert Prune(gone) not in actions
    assert not any(isinstance(a, Prune) for a in reconcile([], [reopened, again]))


def test_creates_beyond_the_limit_are_deferred_in_order() -> None:
    kept = pr(NGINX.branch, NGINX.fingerprint)
    actions = reconcile([NGINX, REDIS], [kept])
    assert limit_creates(actions, None) == actions
    assert limit_creates(actions, 1) == actions
    assert limit_creates(reconcile(PLANS, []), 1) == [
        Create(PLANS[0]),
        Defer(PLANS[1], "the pull request limit is reached"),
    ]
    assert [type(a) for a in limit_creates(reconcile(PLANS, []), 0)] == [Defer, Defer]
