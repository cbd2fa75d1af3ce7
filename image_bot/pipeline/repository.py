"""One repository's part of a pass: checkout, find, plan, rewrite, publish (with retries), and
at the end the dashboard and the replies to this pass's commands (`pipeline.dashboard`)."""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from image_bot.config import Config, RepositorySpec
from image_bot.edit.files import read_file
from image_bot.edit.find import FindResult
from image_bot.edit.manual import unified_diff
from image_bot.edit.rewrite import rewrite_tree
from image_bot.errors import ForgeError, GitError, PushRejected, redact
from image_bot.history.entries import Timeline
from image_bot.history.matrix import environments
from image_bot.model import (
    Change,
    ChangeDetails,
    PullRequest,
    PullRequestState,
    Skipped,
    StageVersion,
    UpdatePlan,
    Waiting,
)
from image_bot.pipeline.checkout import Checkout, LeftTo, PathsMissing, refresh
from image_bot.pipeline.dashboard import finish_inbox, problems_of
from image_bot.pipeline.decisions import Decided
from image_bot.pipeline.inbox import Inbox
from image_bot.pipeline.obsolete import PassFacts, obsolete_evidence
from image_bot.pipeline.remembered import remembered_settings
from image_bot.pipeline.sources import Proposed, propose
from image_bot.publish.apply import PlanContent, Publisher
from image_bot.publish.committer import BranchCommitter
from image_bot.publish.forge import Forge
from image_bot.publish.forge_kind import RepositoryForge
from image_bot.publish.git import BranchHead, Git
from image_bot.publish.limits import PullRequestLimits
from image_bot.publish.pr.marker import PrMarker
from image_bot.publish.reconcile import Action, Create, Defer, Update, limit_creates, reconcile
from image_bot.publish.steering.memory import Memory
from image_bot.report import BranchReport, RepositoryReport

__all__ = [
    "Context",
    "ForgeFactory",
    "PassOptions",
    "as_fetched",
    "committer_for",
    "plan_contents",
    "publish_repository",
    "rollback_prefix",
]

log = logging.getLogger("image_bot.pipeline")

ForgeFactory = Callable[[RepositorySpec], RepositoryForge]
"""A repository's forge: its kind bound to frozen settings (`wiring.forges.Forges`)."""

Describe = Callable[
    [Sequence[Change], Callable[[Change], str]], Mapping[tuple[str, str], ChangeDetails]
]
"""What pull requests tell about changes (`pipeline.details.Describer`): given the changes
to write and who names each one's policy."""


@dataclass(frozen=True, slots=True)
class PassOptions:
    """How a pass runs: where clones live, dry run, retries, tag cache lifetime, how long a
    remembered digest is trusted (`state.RememberedFacts`), and the pull requests someone
    asked to rebuild from the current base (`/image-bot rebase`): pairs of (project, pull
    request number), rebuilt even when up to date.

    `concurrency`: repositories worked on at once per forge host; `rate_limit_reserve`: the
    API requests left in a forge's rate-limit window at which no further repository of it
    starts publishing; `lease_holder` (with state): this process's name on the repositories'
    leases, held for `lease` and renewed while it works (None: no leases);
    `listings_since` (with state): tag listings that passes starting at or after it stored
    in the state are used instead of listing again (the jobs of one scheduled period)."""

    cache_dir: Path
    dry_run: bool = False
    max_attempts: int = 3
    tag_cache_ttl: timedelta = timedelta(0)
    digest_ttl: timedelta = timedelta(hours=6)
    rebuild: frozenset[tuple[str, int]] = frozenset()
    concurrency: int = 1
    rate_limit_reserve: int = 50
    lease_holder: str | None = None
    lease: timedelta = timedelta(minutes=2)
    listings_since: datetime | None = None


@dataclass(frozen=True)
class Context:
    """What every repository of a pass shares."""

    config: Config
    decided: Decided
    forge_for: ForgeFactory
    git: type[Git]
    options: PassOptions
    now: datetime
    describe: Describe | None = None


# --- plan, rewrite, publish ----------------------------------------------------------------


def publish_repository(
    context: Context,
    repo: RepositorySpec,
    checkout: Checkout | LeftTo | str,
    inbox: Inbox | None = None,
) -> RepositoryReport:
    """Publish one repository; a moved remote (push rejected) restarts it from fresh state.

    `inbox` is what the forge held at the start of the pass (its opened forge; its listing
    serves the first attempt, a restart lists again); its dashboard is rewritten and its
    replies posted last.
    """
    report = RepositoryReport(repository=redact(repo.url), base=repo.base)
    written: dict[str, BranchReport] = {}  # survives restarts: what earlier attempts pushed
    attempts = context.options.max_attempts
    for attempt in range(1, attempts + 1):
        if isinstance(checkout, str):
            return dataclasses.replace(report, errors=(checkout,), attempts=attempt)
        if isinstance(checkout, LeftTo):  # another process is passing it: not a failure
            return dataclasses.replace(report, held_by=checkout.holder)
        git = checkout.git
        try:
            done = _publish(context, repo, checkout, written, inbox, first=attempt == 1)
        except PushRejected as error:
            log.info("push rejected; retrying from fresh state", extra={"error": error.message})
            if attempt < attempts:
                try:
                    checkout = refresh(repo, git, context.config.images)
                except (GitError, PathsMissing) as fetch_error:
                    checkout = fetch_error.message
                continue
            done = dataclasses.replace(
                report, errors=(f"gave up after {attempt} attempts: {error.message}",)
            )
        except (GitError, ForgeError) as error:
            log.error(  # noqa: TRY400  (an expected failure: the message says it, no traceback)
                "repository failed", extra={"repository": report.repository, "error": error.message}
            )
            done = dataclasses.replace(report, errors=(error.message,))
        return dataclasses.replace(
            done,
            attempts=attempt,
            git_commands=sum(git.calls.values()),
            git_writes=git.writes,
            git_calls=dict(sorted(git.calls.items())),
        )
    raise AssertionError("unreachable")  # pragma: no cover


def _kept(
    repo: RepositorySpec, proposed: Proposed, existing: Sequence[PullRequest]
) -> dict[str, str]:
    """The open pull requests to leave as they are: those their source holds (unless all they
    propose already runs: then they are obsolete) and `image-bot rollback`'s."""
    open_prs = {pr.branch: pr for pr in existing if pr.state is PullRequestState.OPEN}
    kept = {
        branch: reason
        for branch, (reason, running) in proposed.held.items()
        if not ((pr := open_prs.get(branch)) and pr.proposals and set(pr.proposals) <= running)
    }
    rollbacks = rollback_prefix(repo)
    kept |= {
        branch: "a rollback (image-bot rollback): merge or close it"
        for branch in open_prs
        if branch.startswith(rollbacks)
    }
    return kept


def _publish(
    context: Context,
    repo: RepositorySpec,
    checkout: Checkout,
    written: dict[str, BranchReport],
    inbox: Inbox | None,
    *,
    first: bool,
) -> RepositoryReport:
    root = checkout.git.workdir
    repository_forge = context.forge_for(repo)
    repo_id = repository_forge.repository_id
    # Opened before planning (promotion asks its checks); the inbox opened it for commands.
    forge = inbox.forge if inbox is not None else repository_forge.open(checkout.git)
    memory = inbox.memory if inbox is not None and inbox.dashboard_enabled else None
    proposed = propose(
        repo, checkout, forge, repo_id,
        config=context.config, decided=context.decided, now=context.now, memory=memory,
    )  # fmt: skip
    # Files that cannot take their edits are left alone. Only the plans that are written (or
    # shown by a dry run) are rewritten in full and re-parsed; when one of their files fails
    # that check, it is left alone too and the plans are made again without it.
    _, refused = rewrite_tree(root, proposed.changes, verify=False)
    heads = {head.branch: head for head in checkout.git.branch_heads(repo.branch_prefix)}
    publisher = Publisher(
        checkout.git, forge, repo.publish_settings(), repo_id, checkout.base_sha, context.now,
        dry_run=context.options.dry_run, heads=heads, written=written,
        committer=committer_for(repository_forge, repo, checkout.git),
    )  # fmt: skip
    if not repo.direct_commit:
        choose = _reconciler(
            context, repo, checkout, repo_id=repo_id, forge=forge, publisher=publisher,
            proposed=proposed, inbox=inbox, first=first,
        )  # fmt: skip
    while True:
        plans = proposed.plans({skip.path for skip in refused})
        if repo.direct_commit:
            writes = plans
        else:
            actions = choose(plans, refused)
            writes = [a.plan for a in actions if isinstance(a, Create | Update)]
        contents, failed = plan_contents(root, writes)
        if not failed:
            break
        refused = [*refused, *failed]
    if repo.direct_commit:
        branches = [publisher.direct(plan, contents[plan.branch]) for plan in plans]
    else:
        publisher.details = _details(
            context, [a for a in actions if isinstance(a, Create | Update)]
        )
        branches = [publisher.apply(action, contents) for action in actions]
    _log(context, repo, branches, proposed.waiting)
    report = RepositoryReport(
        repository=redact(repo.url),
        base=repo.base,
        base_sha=checkout.base_sha,
        occurrences=len(checkout.found.occurrences),
        managed=len(checkout.found.managed),
        images=tuple(sorted({str(o.ref.name) for o in checkout.found.occurrences})),
        skipped=(*checkout.found.skipped, *refused),
        branches=tuple(branches),
        stages=tuple(stage.name for stage in repo.stages),
        environments=_environments(repo, proposed.timeline),
        waiting=proposed.waiting,
    )
    if inbox is not None:
        _finish(context, repo, (repo_id, inbox, memory), report, checkout.found)
    return report


def _reconciler(
    context: Context,
    repo: RepositorySpec,
    checkout: Checkout,
    *,
    repo_id: str,
    forge: Forge,
    publisher: Publisher,
    proposed: Proposed,
    inbox: Inbox | None,
    first: bool,
) -> Callable[[list[UpdatePlan], Sequence[Skipped]], list[Action]]:
    """Reconcile plans with the bot's pull requests, listed once however often it is asked
    (the inbox's listing on the first attempt).

    Open pull requests their source holds (images not scanned this pass or held, promotions
    a gate holds back) and rollbacks are kept; one no plan wants is closed only on evidence
    (`obsolete_evidence`), which counts the files `refused` this time as unsafe. A bot
    commit's files are asked of git once. Commands: `rebase` rebuilds, a ticked "open now"
    opens what a limit defers.
    """
    root = checkout.git.workdir
    listed = inbox.listing if inbox is not None and first else forge.bot_pull_requests(repo_id)
    existing = [
        as_fetched(pr, publisher.heads.get(pr.branch), publisher.marker_of) for pr in listed
    ]
    kept = _kept(repo, proposed, existing)
    limits = PullRequestLimits(
        repo.limits.max_open_pull_requests, repo.limits.max_pull_requests_per_hour
    )
    wanted = context.options.rebuild
    rebuild = {pr.branch for pr in existing if (repo_id, pr.number) in wanted}
    open_now = inbox.open_now if inbox is not None else set()
    if inbox is not None:
        rebuild |= inbox.rebuild
    publisher.rebuild = rebuild - set(publisher.written)  # an earlier attempt rebuilt it
    changed: dict[str, list[str]] = {}

    def changed_files(sha: str) -> list[str]:
        if sha not in changed:
            changed[sha] = _changed_files(checkout.git, sha)
        return changed[sha]

    def choose(plans: list[UpdatePlan], refused: Sequence[Skipped]) -> list[Action]:
        facts = PassFacts(
            found=checkout.found,
            base=repo.base,
            unread={s.path: s.reason for s in reversed(checkout.found.skipped)},
            unsafe={s.path: s.reason for s in reversed(refused)},
            undecided=proposed.undecided,
            exists=lambda path: os.path.lexists(root / path),
            changed_files=changed_files,
        )
        evidence = obsolete_evidence(existing, {plan.branch for plan in plans}, facts)
        actions = limit_creates(
            reconcile(plans, existing, kept=kept, rebuild=publisher.rebuild, evidence=evidence),
            limits.remaining(existing, context.now),
        )
        return [  # a ticked "open now": limits do not apply
            Create(a.plan) if isinstance(a, Defer) and a.plan.branch in open_now else a
            for a in actions
        ]

    return choose


def _finish(
    context: Context,
    repo: RepositorySpec,
    forge_state: tuple[str, Inbox, Memory | None],
    report: RepositoryReport,
    found: FindResult,
) -> None:
    """The dashboard and the replies, with this repository's decisions."""
    repo_id, inbox, memory = forge_state
    config = context.config
    decided = context.decided
    decisions = [
        (
            o,
            decided.decisions.get((remembered_settings(config, o, memory), o.ref.canonical)),
            config.policy_source(o.ref.name, o.policy),
        )
        for o in found.occurrences
    ]
    images = {o.ref.name for o in found.occurrences}
    failures = [f for name, f in decided.failures.items() if name in images]
    undecided = {o.ref.canonical for o in found.occurrences} & set(decided.failed_refs)
    errors = [f"`{ref}`: {decided.failed_refs[ref]}" for ref in sorted(undecided)]
    problems = problems_of(report.skipped, failures, errors, report.branches)
    finish_inbox(
        inbox, repo_id, title=repo.dashboard.title, label=repo.dashboard.label,
        report=report, decisions=decisions, problems=problems,
        dry_run=context.options.dry_run,
    )  # fmt: skip


def _details(
    context: Context, writing: Sequence[Create | Update]
) -> Mapping[tuple[str, str], ChangeDetails]:
    """What the pull requests this pass writes tell about their changes (nothing to write:
    nothing asked, so a no-op pass reads no registry label and no release)."""
    changes = [change for action in writing for change in action.plan.changes]
    if not changes or context.describe is None:
        return {}
    config = context.config
    promoted = {
        id(change): f"promotion from {', '.join(plan.promotion.upstream) or 'a rollback'}"
        for plan in (action.plan for action in writing)
        if plan.promotion is not None
        for change in plan.changes
    }

    def policy_of(change: Change) -> str:
        ref = change.occurrence
        return promoted.get(id(change)) or config.policy_source(ref.ref.name, ref.policy)

    return context.describe(changes, policy_of)


def rollback_prefix(repo: RepositorySpec) -> str:
    """Where `image-bot rollback` puts its branches; passes keep their pull requests open."""
    return f"{repo.branch_prefix}rollback/"


def _environments(repo: RepositorySpec, timeline: Timeline | None) -> tuple[StageVersion, ...]:
    if timeline is None:
        return ()
    return environments(timeline, {stage.name: stage.promote_from for stage in repo.stages})


def _log(
    context: Context,
    repo: RepositorySpec,
    branches: Sequence[BranchReport],
    waiting: Sequence[Waiting],
) -> None:
    for branch in branches:
        log.info(
            "branch %s",
            branch.action,
            extra={
                "repository": redact(repo.url),
                "branch": branch.branch,
                "changes": len(branch.changes),
                **({"error": branch.error} if branch.error else {}),
                **({"dry_run": True} if context.options.dry_run else {}),
            },
        )
    for wait in waiting:
        opens = {"opens_at": wait.opens_at.isoformat()} if wait.opens_at else {}
        log.info(
            "%s: %s",
            wait.stage,
            wait.reason,
            extra={"repository": redact(repo.url), "image": str(wait.image), **opens},
        )


def plan_contents(
    root: Path, plans: Sequence[UpdatePlan]
) -> tuple[dict[str, PlanContent], list[Skipped]]:
    """Each plan's files rewritten from the base and checked, with their diff; and the files
    that failed the check. File by file, so a file touched by many plans is parsed once."""
    by_path: dict[str, dict[str, list[Change]]] = {}
    for plan in plans:
        for change in plan.changes:
            by_path.setdefault(change.occurrence.path, {}).setdefault(plan.branch, []).append(
                change
            )
    files: dict[str, dict[str, str]] = {plan.branch: {} for plan in plans}
    diffs: dict[str, list[str]] = {plan.branch: [] for plan in plans}
    failed: list[Skipped] = []
    for path in sorted(by_path):
        for branch, changes in by_path[path].items():
            rewritten, refused = rewrite_tree(root, changes)
            if refused:
                failed.extend(refused)
                break
            for file_change in rewritten:
                before = read_file(root, path).decode("utf-8")
                files[branch][path] = file_change.after
                diffs[branch].append(unified_diff(path, before, file_change.after))
    contents = {branch: PlanContent(files[branch], "".join(diffs[branch])) for branch in files}
    return contents, failed


def _changed_files(git: Git, sha: str) -> list[str]:
    """The files bot commit `sha` changes; none when git cannot say (the image decides then)."""
    try:
        return git.changed_files(sha)
    except GitError as error:
        log.warning("cannot list a bot commit's files", extra={"sha": sha, "error": error.message})
        return []


def committer_for(forge: RepositoryForge, repo: RepositorySpec, git: Git) -> BranchCommitter | None:
    """The forge's committer for a `commit.signed` repository (None: git commits and pushes)."""
    if not repo.commit.signed:
        return None
    committer = forge.committer(git)
    if committer is None:
        log.warning(
            "commit.signed: this forge cannot make commits; pushing unsigned commits with git",
            extra={"repository": redact(repo.url)},
        )
    return committer


def as_fetched(
    pr: PullRequest, head: BranchHead | None, marker_of: Callable[[BranchHead], PrMarker | None]
) -> PullRequest:
    """`pr` as its branch really is: the fetched head (the push lease) and whether it is ours.

    A forge's marker lives in the PR body, which survives a human pushing to the branch; only
    a head the bot committed (its email, its marker) may be rebuilt, else the PR is held.
    A closed or merged PR keeps `head_sha` only while its branch still holds a bot commit
    (a leftover to prune); else "".
    """
    marker = marker_of(head) if head is not None else None
    if pr.state is not PullRequestState.OPEN:
        return dataclasses.replace(pr, head_sha=head.sha if head and marker else "")
    if head is None:  # the branch is gone: pushing it again creates it
        return dataclasses.replace(pr, head_sha="")
    fingerprint = pr.fingerprint if marker is not None else None
    return dataclasses.replace(pr, head_sha=head.sha, fingerprint=fingerprint)
