"""Desired UpdatePlans vs the bot's existing PullRequests -> Actions (pure).

Matching is by branch. An unchanged fingerprint means `Keep`: no git or forge writes. A
branch whose head is not the bot's commit (a human pushed to it) is never overwritten: `Hold`.
A pull request closed without merging is `Acknowledge`d once (a comment; the marker records
it) and its leftover branch, like a merged one's, is `Prune`d. Notices already recorded in a
PR's marker (`PullRequest.notices`) are never repeated, so a no-op pass writes nothing.
A branch in `rebuild` (someone asked `/image-bot rebase`) is `Update`d even when up to date.
An open PR that no plan wants is `Close`d only on positive `Evidence` that it is obsolete
(the pipeline's `obsolete` module gathers it); without, it is kept: a pass that found nothing
never closes anything.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from image_bot.model import PullRequest, PullRequestState, UpdatePlan
from image_bot.publish.pr.marker import NOTICE_CLOSED, NOTICE_OBSOLETE

__all__ = [
    "Acknowledge",
    "Action",
    "Close",
    "Create",
    "Defer",
    "Evidence",
    "Hold",
    "Keep",
    "Prune",
    "Update",
    "limit_creates",
    "reconcile",
]


@dataclass(frozen=True, slots=True)
class Create:
    """Push a new bot branch for `plan` and open its pull request."""

    plan: UpdatePlan


@dataclass(frozen=True, slots=True)
class Update:
    """Rebuild `pr`'s branch from the base for `plan` and bring its text up to date."""

    pr: PullRequest
    plan: UpdatePlan


@dataclass(frozen=True, slots=True)
class Keep:
    """Nothing to do: `pr` already proposes `plan` (or a human closed that very proposal)."""

    pr: PullRequest
    plan: UpdatePlan | None
    reason: str


@dataclass(frozen=True, slots=True)
class Close:
    """Close `pr`: nothing it proposes is wanted any more."""

    pr: PullRequest
    reason: str


@dataclass(frozen=True, slots=True)
class Hold:
    """Leave `pr` alone although it differs from the plan: someone else committed on it."""

    pr: PullRequest
    plan: UpdatePlan | None
    reason: str


@dataclass(frozen=True, slots=True)
class Defer:
    """Not now: opening `plan`'s pull request would exceed a limit; a later pass will."""

    plan: UpdatePlan
    reason: str


@dataclass(frozen=True, slots=True)
class Acknowledge:
    """Tell `pr` (closed without merging) once that what it proposed is not proposed again."""

    pr: PullRequest


@dataclass(frozen=True, slots=True)
class Prune:
    """Delete the leftover bot branch of `pr` (closed or merged), still at `pr.head_sha`."""

    pr: PullRequest


Action = Create | Update | Keep | Close | Hold | Defer | Acknowledge | Prune


@dataclass(frozen=True, slots=True)
class Evidence:
    """Whether an open bot PR that no plan wants is proven obsolete, and why (or why not)."""

    obsolete: bool
    reason: str


_NO_EVIDENCE = Evidence(obsolete=False, reason="nothing shows it is obsolete; left open")

_FOREIGN = "its head is not the bot's commit (someone pushed to it); not overwritten"


def reconcile(
    plans: Sequence[UpdatePlan],
    prs: Sequence[PullRequest],
    *,
    kept: Mapping[str, str] | None = None,
    rebuild: Collection[str] = (),
    evidence: Mapping[str, Evidence] | None = None,
) -> list[Action]:
    """The actions that bring `prs` in line with `plans`, in plan order, then closes.

    Open pull requests on branches in `kept` are kept even without a plan, for the reason
    given (groups whose images could not be scanned this pass: their outcome is unknown; a
    promotion a gate holds back: it is still wanted; a rollback). Others without a plan are
    closed only when `evidence` (by branch) proves them obsolete. Those on branches in
    `rebuild` are rebuilt from the base even when up to date (never a branch someone else
    committed on: that stays held).
    """
    open_prs = {pr.branch: pr for pr in prs if pr.state is PullRequestState.OPEN}
    closed_prs = {pr.branch: pr for pr in prs if pr.state is PullRequestState.CLOSED}
    actions: list[Action] = []
    for plan in plans:
        pr = open_prs.pop(plan.branch, None)
        if pr is None:
            closed = closed_prs.get(plan.branch)
            declined = closed is not None and NOTICE_OBSOLETE not in closed.notices
            if closed is not None and declined and closed.fingerprint == plan.fingerprint:
                actions.append(Keep(closed, plan, "closed without merging; not proposed again"))
            else:
                actions.append(Create(plan))
        elif pr.fingerprint is None:
            actions.append(Hold(pr, plan, _FOREIGN))
        elif pr.fingerprint == plan.fingerprint and pr.branch not in rebuild:
            actions.append(Keep(pr, plan, "up to date"))
        else:
            actions.append(Update(pr, plan))
    for branch, pr in sorted(open_prs.items()):
        if pr.fingerprint is None:
            actions.append(Hold(pr, None, _FOREIGN))
        elif kept and branch in kept:
            actions.append(Keep(pr, None, kept[branch]))
        elif (proof := (evidence or {}).get(branch, _NO_EVIDENCE)).obsolete:
            actions.append(Close(pr, proof.reason))
        else:
            actions.append(Keep(pr, None, proof.reason))
    pushed = {a.plan.branch for a in actions if isinstance(a, Create | Update)}
    return [*_retire(prs, pushed), *actions]


def _retire(prs: Sequence[PullRequest], pushed: Collection[str]) -> list[Action]:
    """Acknowledge human-closed pull requests once; prune branches no pull request uses.

    A closed or merged PR's branch is pruned unless an open PR or this pass's push uses it;
    its `head_sha` is "" when the branch is gone or its head is not the bot's commit.
    """
    open_branches = {pr.branch for pr in prs if pr.state is PullRequestState.OPEN}
    actions: list[Action] = []
    for pr in prs:
        if pr.state is PullRequestState.OPEN or pr.fingerprint is None:
            continue
        bot_closed = NOTICE_OBSOLETE in pr.notices
        if (
            pr.state is PullRequestState.CLOSED
            and not bot_closed
            and NOTICE_CLOSED not in pr.notices
        ):
            actions.append(Acknowledge(pr))
        if pr.head_sha and pr.branch not in open_branches and pr.branch not in pushed:
            actions.append(Prune(pr))
    return actions


def limit_creates(actions: Sequence[Action], remaining: int | None) -> list[Action]:
    """Keep the first `remaining` Creates (None: all); defer the rest, in order."""
    if remaining is None:
        return list(actions)
    limited: list[Action] = []
    for action in actions:
        if isinstance(action, Create):
            if remaining <= 0:
                action = Defer(action.plan, "the pull request limit is reached")  # noqa: PLW2901
            remaining -= 1
        limited.append(action)
    return limited
