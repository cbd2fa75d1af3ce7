"""One repository's part of a pass: checkout, find, plan, rewrite, publish (with retries)."""

from __future__ import annotations

import dataclasses
import hashlib
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
from image_bot.model import (
    BranchReport,
    Change,
    ChangeDetails,
    PullRequest,
    PullRequestState,
    RepositoryReport,
    Skipped,
    UpdatePlan,
)
from image_bot.pipeline.checkout import Checkout, PathsMissing, refresh
from image_bot.pipeline.dashboard import finish_inbox, problems_of
from image_bot.pipeline.decisions import Decided
from image_bot.pipeline.inbox import Inbox
from image_bot.pipeline.obsolete import PassFacts, obsolete_evidence
from image_bot.pipeline.remembered import held, remembered_settings
from image_bot.plan import Grouping, NamedGroup, Strategy, make_plans
from image_bot.publish.apply import PlanContent, Publisher
from image_bot.publish.committer import BranchCommitter
from image_bot.publish.forge_kind import RepositoryForge
from image_bot.publish.git import BranchHead, Git
from image_bot.publish.limits import PullRequestLimits
from image_bot.publish.memory import Memory
from image_bot.publish.pr_marker import PrMarker
from image_bot.publish.reconcile import Create, Defer, Update, limit_creates, reconcile
from image_bot.reference import with_tag

__all__ = [
    "Context",
    "ForgeFactory",
    "PassOptions",
    "publish_repository",
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
    """How a pass runs: where clones live, dry run, retries, tag cache lifetime, and the pull
    requests someone asked to rebuild from the current base (`/image-bot rebase`): pairs of
    (project, pull request number), rebuilt even when up to date."""

    cache_dir: Path
    dry_run: bool = False
    max_attempts: int = 3
    tag_cache_ttl: timedelta = timedelta(0)
    rebuild: frozenset[tuple[str, int]] = frozenset()


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


def _grouping(repo: RepositorySpec) -> Grouping:
    groups = tuple(NamedGroup(g.name, g.images) for g in repo.grouping.groups)
    return Grouping(Strategy(repo.grouping.strategy), groups)


def _changes(
    config: Config, found: FindResult, decided: Decided, memory: Memory | None
) -> tuple[list[Change], list[Change]]:
    """(changes to make, placeholders for references whose outcome is unknown this pass or
    whose image is held: their pull requests stay as they are)."""
    changes, unknown = [], []
    for occurrence in found.occurrences:
        decision = decided.decisions.get(
            (remembered_settings(config, occurrence, memory), occurrence.ref.canonical)
        )
        if decision is None or held(occurrence, memory):
            unknown.append(Change(occurrence, occurrence.ref, occurrence.ref))
        elif decision.changes and decision.target is not None:
            target = decision.target
            new = with_tag(occurrence.ref, target.tag, target.digest)
            changes.append(Change(occurrence, occurrence.ref, new))
    return changes, unknown


def publish_repository(
    context: Context, repo: RepositorySpec, checkout: Checkout | str, inbox: Inbox | None = None
) -> RepositoryReport:
    """Publish one repository; a moved remote (push rejected) restarts it from fresh state.

    `inbox` is what the forge held at the start of the pass (its listing serves the first
    attempt; a restart lists again); its dashboard is rewritten and its replies posted last.
    """
    report = RepositoryReport(repository=redact(repo.url), base=repo.base)
    written: dict[str, BranchReport] = {}  # survives restarts: what earlier attempts pushed
    attempts = context.options.max_attempts
    for attempt in range(1, attempts + 1):
        if isinstance(checkout, str):
            return dataclasses.replace(report, errors=(checkout,), attempts=attempt)
        git = checkout.git
        try:
            done = _publish(context, repo, checkout, written, inbox, first=attempt == 1)
        except PushRejected as error:
            log.info("push rejected; retrying from fresh state", extra={"error": error.message})
            if attempt < attempts:
                try:
                    checkout = refresh(repo, git)
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
    memory = inbox.memory if inbox is not None and inbox.dashboard_enabled else None
    changes, unknown = _changes(context.config, checkout.found, context.decided, memory)
    _, unsafe = rewrite_tree(root, changes)  # files that cannot take their edits: left alone
    unsafe_paths = {s.path for s in unsafe}
    changes = [c for c in changes if c.occurrence.path not in unsafe_paths]
    hashes = {
        path: hashlib.sha256(read_file(root, path)).hexdigest()
        for path in {c.occurrence.path for c in changes}
    }
    repository_forge = context.forge_for(repo)
    repo_id = repository_forge.repository_id
    grouping = Grouping(Strategy.ALL) if repo.direct_commit else _grouping(repo)

    def plans_of(planned: Sequence[Change]) -> list[UpdatePlan]:
        return make_plans(
            repo_id, repo.base, planned, grouping=grouping,
            branch_prefix=repo.branch_prefix, file_hashes=hashes,
        )  # fmt: skip

    plans = plans_of(changes)
    contents = {plan.branch: _content(root, plan.changes) for plan in plans}
    forge = inbox.forge if inbox is not None else repository_forge.open(checkout.git)
    heads = {head.branch: head for head in checkout.git.branch_heads(repo.branch_prefix)}
    publisher = Publisher(
        checkout.git, forge, repo.publish_settings(), repo_id, checkout.base_sha, context.now,
        dry_run=context.options.dry_run, heads=heads, written=written,
        committer=_committer(repository_forge, repo, checkout.git),
    )  # fmt: skip
    if repo.direct_commit:
        branches = [publisher.direct(plan, contents[plan.branch]) for plan in plans]
    else:
        undecided = {plan.branch for plan in plans_of(unknown)}
        listed = inbox.listing if inbox is not None and first else None
        existing = [
            _as_fetched(pr, heads.get(pr.branch), publisher.marker_of)
            for pr in (listed if listed is not None else forge.bot_pull_requests(repo_id))
        ]
        facts = PassFacts(
            found=checkout.found,
            base=repo.base,
            unread={s.path: s.reason for s in reversed(checkout.found.skipped)},
            unsafe={s.path: s.reason for s in reversed(unsafe)},
            undecided={(c.occurrence.path, c.occurrence.ref.name) for c in unknown},
            exists=lambda path: os.path.lexists(root / path),
            changed_files=lambda sha: _changed_files(checkout.git, sha),
        )
        evidence = obsolete_evidence(existing, {plan.branch for plan in plans}, facts)
        limits = PullRequestLimits(
            repo.limits.max_open_pull_requests, repo.limits.max_pull_requests_per_hour
        )
        wanted = context.options.rebuild
        rebuild = {pr.branch for pr in existing if (repo_id, pr.number) in wanted}
        if inbox is not None:
            rebuild |= inbox.rebuild
        publisher.rebuild = rebuild - set(written)  # an earlier attempt already rebuilt it
        actions = limit_creates(
            reconcile(
                plans, existing, undecided=undecided, rebuild=publisher.rebuild, evidence=evidence
            ),
            limits.remaining(existing, context.now),
        )
        if inbox is not None and inbox.open_now:  # ticked "open now": limits do not apply
            actions = [
                Create(a.plan) if isinstance(a, Defer) and a.plan.branch in inbox.open_now else a
                for a in actions
            ]
        publisher.details = _details(
            context, [a for a in actions if isinstance(a, Create | Update)]
        )
        branches = [publisher.apply(action, contents) for action in actions]
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
    skipped = (*checkout.found.skipped, *unsafe)
    if inbox is not None:
        _finish(context, repo, (repo_id, inbox, memory), branches, (skipped, checkout.found))
    return RepositoryReport(
        repository=redact(repo.url),
        base=repo.base,
        base_sha=checkout.base_sha,
        occurrences=len(checkout.found.occurrences),
        managed=len(checkout.found.managed),
        skipped=skipped,
        branches=tuple(branches),
    )


def _finish(
    context: Context,
    repo: RepositorySpec,
    forge_state: tuple[str, Inbox, Memory | None],
    branches: Sequence[BranchReport],
    read: tuple[Sequence[Skipped], FindResult],
) -> None:
    """The dashboard and the replies, with this repository's decisions."""
    repo_id, inbox, memory = forge_state
    skipped, found = read
    config = context.config
    decided = context.decided.decisions
    decisions = [
        (
            o,
            decided.get((remembered_settings(config, o, memory), o.ref.canonical)),
            config.policy_source(o.ref.name, o.policy),
        )
        for o in found.occurrences
    ]
    images = {o.ref.name for o in found.occurrences}
    failures = [f for name, f in context.decided.failures.items() if name in images]
    problems = problems_of(skipped, failures, (), branches)
    finish_inbox(
        inbox, repo_id, title=repo.dashboard.title, label=repo.dashboard.label,
        branches=branches, decisions=decisions, problems=problems,
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
    return context.describe(
        changes, lambda c: config.policy_source(c.occurrence.ref.name, c.occurrence.policy)
    )


def _content(root: Path, changes: Sequence[Change]) -> PlanContent:
    file_changes, _ = rewrite_tree(root, changes)
    files = {fc.path: fc.after for fc in file_changes}
    diff = "".join(
        unified_diff(fc.path, read_file(root, fc.path).decode("utf-8"), fc.after)
        for fc in file_changes
    )
    return PlanContent(files, diff)


def _changed_files(git: Git, sha: str) -> list[str]:
    """The files bot commit `sha` changes; none when git cannot say (the image decides then)."""
    try:
        return git.changed_files(sha)
    except GitError as error:
        log.warning("cannot list a bot commit's files", extra={"sha": sha, "error": error.message})
        return []


def _committer(forge: RepositoryForge, repo: RepositorySpec, git: Git) -> BranchCommitter | None:
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


def _as_fetched(
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
