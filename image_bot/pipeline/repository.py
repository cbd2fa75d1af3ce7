"""One repository's part of a pass: checkout, find, plan, rewrite, publish (with retries)."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from image_bot.config import Config, RepositorySpec
from image_bot.edit.files import read_file
from image_bot.edit.manual import unified_diff
from image_bot.edit.rewrite import rewrite_tree
from image_bot.errors import ForgeError, GitError, PushRejected, redact
from image_bot.history.entries import Timeline
from image_bot.history.matrix import environments
from image_bot.model import (
    BranchReport,
    Change,
    ImageName,
    PullRequest,
    PullRequestState,
    RepositoryReport,
    Skipped,
    StageVersion,
    UpdatePlan,
    Waiting,
)
from image_bot.pipeline.checkout import Checkout, PathsMissing, refresh
from image_bot.pipeline.decisions import Decided, PlanBasis
from image_bot.pipeline.obsolete import PassFacts, obsolete_evidence
from image_bot.pipeline.sources import route
from image_bot.publish.apply import PlanContent, Publisher
from image_bot.publish.committer import BranchCommitter
from image_bot.publish.forge import Forge
from image_bot.publish.forge_kind import RepositoryForge
from image_bot.publish.git import BranchHead, Git
from image_bot.publish.limits import PullRequestLimits
from image_bot.publish.pr_marker import PrMarker
from image_bot.publish.reconcile import limit_creates, reconcile

__all__ = [
    "Context",
    "ForgeFactory",
    "PassOptions",
    "as_fetched",
    "committer_for",
    "plan_content",
    "publish_repository",
    "rollback_prefix",
]

log = logging.getLogger("image_bot.pipeline")

ForgeFactory = Callable[[RepositorySpec], RepositoryForge]
"""A repository's forge: its kind bound to frozen settings (`wiring.forges.Forges`)."""


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


# --- plan, rewrite, publish ----------------------------------------------------------------


def publish_repository(
    context: Context, repo: RepositorySpec, checkout: Checkout | str
) -> RepositoryReport:
    """Publish one repository; a moved remote (push rejected) restarts it from fresh state."""
    report = RepositoryReport(repository=redact(repo.url), base=repo.base)
    written: dict[str, BranchReport] = {}  # survives restarts: what earlier attempts pushed
    attempts = context.options.max_attempts
    for attempt in range(1, attempts + 1):
        if isinstance(checkout, str):
            return dataclasses.replace(report, errors=(checkout,), attempts=attempt)
        git = checkout.git
        try:
            done = _publish(context, repo, checkout, written)
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


@dataclass(frozen=True, slots=True)
class _Planned:
    """A repository's plans, the branches held as they are (why, and what their sources'
    references run now), the promotions held back, the files left alone, and the
    references whose outcome is unknown this pass (path, image)."""

    plans: list[UpdatePlan]
    held: dict[str, tuple[str, frozenset[str]]]
    waiting: list[Waiting]
    unsafe: list[Skipped]
    timeline: Timeline | None
    undecided: set[tuple[str, ImageName]]


def _plan(
    context: Context, repo: RepositorySpec, checkout: Checkout, forge: Forge, repo_id: str
) -> _Planned:
    root = checkout.git.workdir
    sources, timeline = route(
        repo, checkout, forge, repo_id,
        config=context.config, decided=context.decided, now=context.now,
    )  # fmt: skip
    proposed = [(source, found, source.propose(found)) for source, found in sources]
    every = [change for _, _, proposals in proposed for change in proposals.changes]
    _, unsafe = rewrite_tree(root, every)  # files that cannot take their edits: left alone
    unsafe_paths = {s.path for s in unsafe}
    hashes = {
        path: hashlib.sha256(read_file(root, path)).hexdigest()
        for path in {c.occurrence.path for c in every} - unsafe_paths
    }
    basis = PlanBasis(repo_id, repo.base, repo.branch_prefix, hashes)
    planned = _Planned([], {}, [], unsafe, timeline, set())
    for source, found, proposals in proposed:
        safe = [c for c in proposals.changes if c.occurrence.path not in unsafe_paths]
        planned.plans.extend(source.plans(safe, basis))
        running = frozenset(o.ref.canonical for o in found)
        planned.held.update(
            (branch, (reason, running)) for branch, reason in source.kept(proposals, basis).items()
        )
        planned.waiting.extend(proposals.waiting)
        planned.undecided.update((o.path, o.ref.name) for o in proposals.unknown)
    planned.plans.sort(key=lambda plan: plan.branch)
    return planned


def _kept(
    repo: RepositorySpec, planned: _Planned, existing: Sequence[PullRequest]
) -> dict[str, str]:
    """The open pull requests to leave as they are: those their source holds (unless all they
    propose already runs: then they are obsolete) and `image-bot rollback`'s."""
    open_prs = {pr.branch: pr for pr in existing if pr.state is PullRequestState.OPEN}
    kept = {
        branch: reason
        for branch, (reason, running) in planned.held.items()
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
    context: Context, repo: RepositorySpec, checkout: Checkout, written: dict[str, BranchReport]
) -> RepositoryReport:
    root = checkout.git.workdir
    repository_forge = context.forge_for(repo)
    repo_id = repository_forge.repository_id
    forge = repository_forge.open(checkout.git)
    planned = _plan(context, repo, checkout, forge, repo_id)
    plans = planned.plans
    contents = {plan.branch: plan_content(root, plan.changes) for plan in plans}
    heads = {head.branch: head for head in checkout.git.branch_heads(repo.branch_prefix)}
    publisher = Publisher(
        checkout.git, forge, repo.publish_settings(), repo_id, checkout.base_sha, context.now,
        dry_run=context.options.dry_run, heads=heads, written=written,
        committer=committer_for(repository_forge, repo, checkout.git),
    )  # fmt: skip
    if repo.direct_commit:
        branches = [publisher.direct(plan, contents[plan.branch]) for plan in plans]
    else:
        existing = [
            as_fetched(pr, heads.get(pr.branch), publisher.marker_of)
            for pr in forge.bot_pull_requests(repo_id)
        ]
        facts = PassFacts(
            found=checkout.found,
            base=repo.base,
            unread={s.path: s.reason for s in reversed(checkout.found.skipped)},
            unsafe={s.path: s.reason for s in reversed(planned.unsafe)},
            undecided=planned.undecided,
            exists=lambda path: os.path.lexists(root / path),
            changed_files=lambda sha: _changed_files(checkout.git, sha),
        )
        evidence = obsolete_evidence(existing, {plan.branch for plan in plans}, facts)
        limits = PullRequestLimits(
            repo.limits.max_open_pull_requests, repo.limits.max_pull_requests_per_hour
        )
        wanted = context.options.rebuild
        rebuild = {pr.branch for pr in existing if (repo_id, pr.number) in wanted}
        publisher.rebuild = rebuild - set(written)  # an earlier attempt already rebuilt it
        kept = _kept(repo, planned, existing)
        actions = limit_creates(
            reconcile(plans, existing, kept=kept, rebuild=publisher.rebuild, evidence=evidence),
            limits.remaining(existing, context.now),
        )
        branches = [publisher.apply(action, contents) for action in actions]
    _log(context, repo, branches, planned.waiting)
    return RepositoryReport(
        repository=redact(repo.url),
        base=repo.base,
        base_sha=checkout.base_sha,
        occurrences=len(checkout.found.occurrences),
        managed=len(checkout.found.managed),
        skipped=(*checkout.found.skipped, *planned.unsafe),
        branches=tuple(branches),
        stages=tuple(stage.name for stage in repo.stages),
        environments=_environments(repo, planned.timeline),
        waiting=tuple(planned.waiting),
    )


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


def plan_content(root: Path, changes: Sequence[Change]) -> PlanContent:
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
