"""The end of a repository's pass on the forge: rewrite the dashboard when its text changed,
and post the replies to this pass's commands (`explain` needs the decisions, so it waits
until here)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence

from image_bot.errors import ForgeError
from image_bot.model import Decision, Occurrence, ScanFailure, Skipped
from image_bot.pipeline.inbox import Inbox
from image_bot.publish.pr.body import version_text
from image_bot.publish.steering.dashboard import (
    DashboardView,
    Deferred,
    OpenPull,
    Stages,
    Waiting,
    render_dashboard,
)
from image_bot.report import BranchReport, RepositoryReport

__all__ = ["explain_text", "finish_inbox"]

log = logging.getLogger("image_bot.pipeline")

_SHOWN = 30  # rejected tags an explain reply lists
_OPEN_ACTIONS = frozenset({"create", "update", "keep", "hold"})


def explain_text(image: str, decisions: Iterable[tuple[Occurrence, Decision | None, str]]) -> str:
    """What `image-bot tags` would say of each reference to `image` in the repository."""
    lines: list[str] = []
    seen: set[str] = set()
    for occurrence, decision, policy in decisions:
        if str(occurrence.ref.name) != image or occurrence.ref.canonical in seen:
            continue
        seen.add(occurrence.ref.canonical)
        where = f"{occurrence.path}:{occurrence.line}"
        if decision is None:
            lines += ["", f"`{version_text(occurrence.ref)}` ({where}): not decided this pass"]
            continue
        target = decision.target.tag if decision.target else None
        lines += [
            "",
            f"`{version_text(occurrence.ref)}` ({where}, policy `{policy}`): {decision.reason}",
            f"- selected: `{target}`" if target else "- selected: none",
        ]
        rejected = list(decision.rejected)
        lines += [f"- `{tag}`: {why}" for tag, why in rejected[:_SHOWN]]
        if len(rejected) > _SHOWN:
            lines.append(f"- and {len(rejected) - _SHOWN} more")
    if not lines:
        return f"no reference to `{image}` in this repository"
    return "the candidate tags and each one's verdict:" + "\n".join(lines)


def _view(
    repository: str,
    report: RepositoryReport,
    decisions: Sequence[tuple[Occurrence, Decision | None, str]],
    problems: Sequence[str],
) -> DashboardView:
    branches = report.branches
    open_pulls = tuple(
        OpenPull(b.branch, b.title or b.branch, b.url)
        for b in branches
        if b.action in _OPEN_ACTIONS and b.url and b.error is None
    )
    deferred = tuple(
        Deferred(
            b.branch,
            ", ".join(sorted({f"{c.old.name} -> {version_text(c.new)}" for c in b.changes})),
            b.reason,
        )
        for b in branches
        if b.action == "defer"
    )
    waiting = {
        (str(o.ref.name), tag): Waiting(str(o.ref.name), tag, "waits for min_age", when)
        for o, decision, _ in decisions
        if decision is not None
        for tag, when in decision.ready
    }
    stages = Stages(report.stages, report.environments, report.waiting) if report.stages else None
    return DashboardView(
        repository, open_pulls, deferred, tuple(waiting.values()), tuple(problems), stages
    )


def problems_of(
    skipped: Iterable[Skipped],
    failures: Iterable[ScanFailure],
    errors: Iterable[str],
    branches: Iterable[BranchReport],
) -> list[str]:
    """One line per thing that failed in the repository's pass."""
    lines = [f"skipped `{s.path}`{f':{s.line}' if s.line else ''}: {s.reason}" for s in skipped]
    lines += [f"scan failed: `{f.image}`: {f.error.message}" for f in failures]
    lines += [f"error: {error}" for error in errors]
    lines += [f"`{b.branch}`: {b.error}" for b in branches if b.error]
    return [line.replace("\n", " ")[:300] for line in lines]


def finish_inbox(
    inbox: Inbox,
    repo_id: str,
    *,
    title: str,
    label: str,
    report: RepositoryReport,
    decisions: Sequence[tuple[Occurrence, Decision | None, str]],
    problems: Sequence[str],
    dry_run: bool,
    explain: Callable[[str], str] | None = None,
) -> None:
    """Rewrite the dashboard if its text changed (opening it the first time), then reply.

    `report` is the repository's pass so far: its branches and, with stages, the matrix and
    the promotions waiting."""
    if dry_run:
        return
    if inbox.dashboard_enabled:
        body = render_dashboard(_view(repo_id, report, decisions, problems), inbox.memory)
        current = inbox.dashboard
        try:
            if current is None:
                inbox.dashboard = inbox.forge.open_issue(repo_id, title, body, (label,))
            elif current.body.replace("\r\n", "\n") != body or current.title != title:
                inbox.dashboard = inbox.forge.edit_issue(repo_id, current, title, body)
        except ForgeError as error:
            log.warning("dashboard not written", extra={"error": error.message})
    images = {reply.explain for reply in inbox.replies if reply.explain}
    texts = {
        image: (explain(image) if explain else explain_text(image, decisions)) for image in images
    }
    inbox.post_replies(repo_id, texts)
