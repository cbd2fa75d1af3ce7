"""What a pass report means for the metrics and the status page (RunReport -> views).

The report says what changed and what failed, not every image seen: the status page lists
the images a branch proposes to move and the images that could not be checked; images
already up to date are not in the report.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from image_bot.report import RepositoryReport, RunReport
from image_bot.service.metrics import PassSummary
from image_bot.service.status import ImageStatus, PullRequestStatus, RepositoryStatus

__all__ = ["PassOutcome", "pass_summary", "repository_status"]

_PR_ACTIONS = {"create": "opened", "update": "updated", "close": "closed"}
_OPEN_ACTIONS = frozenset({"create", "update", "keep"})
_NUMBER = re.compile(r"/(\d+)/?$")


@dataclass(frozen=True, slots=True)
class PassOutcome:
    """A pass's report, plus what only the code running it saw: tags listed per registry
    host, and the rate-limit quotas left per (source, host) (see `PassSummary`)."""

    report: RunReport
    tags_fetched: Mapping[str, int] = field(default_factory=dict)
    rate_limits: Mapping[tuple[str, str], int] = field(default_factory=dict)


def pass_summary(
    outcome: PassOutcome, *, duration: float, targeted: bool, finished_at: float
) -> PassSummary:
    """What the metrics need from a pass."""
    report = outcome.report
    pull_requests: Counter[str] = Counter()
    if not report.dry_run:
        for repository in report.repositories:
            for branch in repository.branches:
                if branch.action in _PR_ACTIONS and branch.error is None:
                    pull_requests[_PR_ACTIONS[branch.action]] += 1
    return PassSummary(
        duration_seconds=duration,
        outcome=str(report.outcome),
        targeted=targeted,
        registry_errors=Counter(failure.image.registry for failure in report.scan_failures),
        pull_requests=pull_requests,
        tags_fetched=dict(outcome.tags_fetched),
        rate_limit_remaining=dict(outcome.rate_limits),
        finished_at=finished_at,
    )


def repository_status(
    name: str, report: RepositoryReport, *, finished: datetime, next_pass: datetime | None
) -> RepositoryStatus:
    """The status page's view of one repository after a pass (images from its changes)."""
    images: dict[tuple[str, str], ImageStatus] = {}
    pulls: list[PullRequestStatus] = []
    errors = list(report.errors)
    for failure in report.image_failures:
        images[(failure.reference, "")] = ImageStatus(
            failure.reference, failure.current, None, f"could not check: {failure.error}", True
        )
        errors.append(f"{failure.reference}: {failure.error}")
    for branch in report.branches:
        for change in branch.changes:
            old, new = change.old, change.new
            proposed = new.tag or new.digest or ""
            note = f"{branch.action} {branch.branch}"
            images[(old.text, proposed)] = ImageStatus(
                old.text or old.canonical, old.tag or old.digest or "", proposed, note
            )
        if branch.error:
            errors.append(f"{branch.branch}: {branch.error}")
        elif branch.url and branch.action in _OPEN_ACTIONS:
            number = _NUMBER.search(branch.url)
            pulls.append(
                PullRequestStatus(
                    title=branch.title or branch.branch,
                    url=branch.url,
                    branch=branch.branch,
                    base=report.base,
                    number=int(number.group(1)) if number else None,
                )
            )
    return RepositoryStatus(
        repository=name,
        last_pass=finished,
        next_pass=next_pass,
        images=tuple(images.values()),
        pull_requests=tuple(pulls),
        errors=tuple(errors),
        stages=report.stages,
        environments=report.environments,
        waiting=report.waiting,
        outcome=str(report.outcome),
        uses=report.images,
    )
