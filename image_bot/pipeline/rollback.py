"""`image-bot rollback STAGE IMAGE [--to VERSION]`: a pull request putting a stage back on a
version it ran before (the previous one, or the named one), exact tag and digest from its
history on the base branch.

The pull request lives on `<prefix>rollback/<stage>/<image>`, published like any other (updated
in place, never over a human's commits); passes keep it open and leave it alone. Once it is
merged, promotion does not offer the stage the version it was rolled back from again.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass

from image_bot.config import RepositorySpec
from image_bot.edit.files import read_file
from image_bot.edit.written import written_ref
from image_bot.errors import ForgeError, GitError, ImageBotError, redact
from image_bot.history.entries import Entry, Timeline
from image_bot.model import Change, ImageName, Promotion, UpdatePlan
from image_bot.pipeline.checkout import Checkout, checkout_or_error
from image_bot.pipeline.history import repository_timeline
from image_bot.pipeline.repository import (
    Context,
    as_fetched,
    committer_for,
    plan_contents,
    rollback_prefix,
)
from image_bot.plan import Grouping, Strategy, make_plans
from image_bot.promote.gates import short_sha
from image_bot.promote.offers import version_text
from image_bot.publish.apply import Publisher
from image_bot.publish.reconcile import reconcile
from image_bot.reference import name_matches
from image_bot.report import RepositoryReport

__all__ = ["RollbackError", "RollbackRequest", "rollback"]


class RollbackError(ImageBotError):
    """The rollback cannot be planned: no such stage, image or version in the history."""

    exit_code = 2


@dataclass(frozen=True, slots=True)
class RollbackRequest:
    """Roll `stage` back for the image matching `image` (a glob), to `to` (None: previous)."""

    stage: str
    image: str
    to: str | None = None


def _matches(entry: Entry, wanted: str) -> bool:
    tag, _, digest = wanted.partition("@")
    if wanted.startswith("sha256:"):
        return bool(entry.digest and entry.digest.startswith(wanted))
    if entry.tag != tag:
        return False
    return not digest or bool(entry.digest and entry.digest.startswith(digest))


def _target(timeline: Timeline, stage: str, image: ImageName, to: str | None) -> Entry:
    entries = timeline.of(stage, image)
    running = [e for e in entries if e.ended is None]
    if not running:
        raise RollbackError(f"{stage} does not run {image} now")
    now = {e.version for e in running}
    earlier = [e for e in entries if e.ended is not None and e.version not in now]
    if to is not None:
        earlier = [e for e in earlier if _matches(e, to)]
    if not earlier:
        what = f"version {to!r}" if to else "earlier version"
        raise RollbackError(f"{stage} never ran an {what} of {image} (see image-bot history)")
    return max(earlier, key=lambda e: e.order)


def _image(timeline: Timeline, stage: str, pattern: str) -> ImageName:
    images = sorted({e.image for e in timeline.current(stage) if name_matches(e.image, pattern)})
    if len(images) != 1:
        found = ", ".join(map(str, images)) or "none"
        raise RollbackError(f"{pattern!r} must name one image {stage} runs (matching: {found})")
    return images[0]


def _plan(
    repo: RepositorySpec,
    repo_id: str,
    checkout: Checkout,
    timeline: Timeline,
    request: RollbackRequest,
) -> UpdatePlan:
    graph = repo.stage_graph()
    if request.stage not in graph.names:
        known = ", ".join(graph.names) or "none: the repository has no stages"
        raise RollbackError(f"no stage {request.stage!r} (stages: {known})")
    image = _image(timeline, request.stage, request.image)
    target = _target(timeline, request.stage, image, request.to)
    written = [
        Change(o, o.ref, written_ref(o, target.tag, target.digest))
        for o in checkout.found.occurrences
        if o.ref.name == image
        and (stage := graph.stage_of(o.path)) is not None
        and stage.name == request.stage
    ]
    changes = [c for c in written if (c.new.tag, c.new.digest) != (c.old.tag, c.old.digest)]
    root = checkout.git.workdir
    hashes = {
        path: hashlib.sha256(read_file(root, path)).hexdigest()
        for path in {c.occurrence.path for c in changes}
    }
    (plan,) = make_plans(
        repo_id, repo.base, changes, grouping=Grouping(Strategy.PER_IMAGE),
        branch_prefix=f"{rollback_prefix(repo)}{request.stage}/", file_hashes=hashes,
    )  # fmt: skip
    commit = target.commit
    via = f", {commit.pull_request}" if commit.pull_request else ""
    until = target.until.strftime("%Y-%m-%d %H:%M UTC") if target.until else "now"
    trail = (
        f"`{image}` `{version_text(target.version)}` ran in `{request.stage}` from"
        f" {target.since.strftime('%Y-%m-%d %H:%M UTC')} to {until}"
        f" (commit {short_sha(commit.sha)}{via}, by {commit.author})",
    )
    promotion = Promotion(request.stage, (), trail, rollback=True)
    return dataclasses.replace(plan, promotion=promotion)


def rollback(context: Context, repo: RepositorySpec, request: RollbackRequest) -> RepositoryReport:
    """Open (or bring up to date) the rollback pull request; the report says what was done."""
    report = RepositoryReport(repository=redact(repo.url), base=repo.base)
    repository_forge = context.forge_for(repo)
    checkout = checkout_or_error(
        repo,
        context.git,
        context.options.cache_dir,
        credentials=repository_forge.git_credentials(),
        images=context.config.images,
    )
    if isinstance(checkout, str):
        return dataclasses.replace(report, errors=(checkout,))
    git = checkout.git
    try:
        timeline = repository_timeline(repo, git, checkout.base_sha)
        plan = _plan(repo, repository_forge.repository_id, checkout, timeline, request)
        if not plan.changes:
            raise RollbackError(f"{request.stage} already runs that version")
        forge = repository_forge.open(git)
        heads = {head.branch: head for head in git.branch_heads(repo.branch_prefix)}
        publisher = Publisher(
            git, forge, repo.publish_settings(), plan.repo, checkout.base_sha, context.now,
            dry_run=context.options.dry_run, heads=heads,
            committer=committer_for(repository_forge, repo, git),
        )  # fmt: skip
        existing = [
            as_fetched(pr, heads.get(pr.branch), publisher.marker_of)
            for pr in forge.bot_pull_requests(plan.repo)
            if pr.branch == plan.branch
        ]
        content, refused = plan_contents(git.workdir, [plan])
        if refused:
            where = "; ".join(f"{skip.path}: {skip.reason}" for skip in refused)
            raise RollbackError(f"the rollback cannot be written ({where})")
        branches = [publisher.apply(action, content) for action in reconcile([plan], existing)]
    except (GitError, ForgeError) as error:
        return dataclasses.replace(report, errors=(error.message,))
    finally:
        git.close()
    return dataclasses.replace(
        report,
        base_sha=checkout.base_sha,
        occurrences=len(checkout.found.occurrences),
        branches=tuple(branches),
        git_commands=sum(git.calls.values()),
        git_writes=git.writes,
        git_calls=dict(sorted(git.calls.items())),
    )
