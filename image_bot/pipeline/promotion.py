"""The second decision source: a stage with `promote_from` takes the exact versions its upstream
stages run on the base branch (the timeline), once the gates pass.

Promotion pull requests live on their own branches: `<prefix>promote/<stage>` (`bundle:
merge`) or `<prefix>promote/<stage>/<image>` (`bundle: image`), with the same lifecycle as
update pull requests. A promotion a gate holds back keeps its open pull request as it is and
is reported with the reason and the time it will open.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from image_bot.edit.written import written_ref
from image_bot.history.entries import Entry, Timeline, Version
from image_bot.model import (
    Change,
    CheckState,
    ImageName,
    Occurrence,
    Promotion,
    UpdatePlan,
    Waiting,
)
from image_bot.pipeline.decisions import PlanBasis, Proposals
from image_bot.plan import Grouping, Strategy, make_plans, plan_for
from image_bot.promote.gates import Verdict, all_of, short_duration, short_sha
from image_bot.promote.offers import Offer, bundle_offers, offer, version_text
from image_bot.promote.stages import Bundle, Stage, StageGraph

__all__ = ["CachedChecks", "PromotionSource"]


@dataclass
class CachedChecks:
    """A commit's checks, asked of the forge once per pass (`read`: the forge's method)."""

    read: Callable[[str], CheckState]
    seen: dict[str, CheckState] = field(default_factory=dict)

    def __call__(self, sha: str) -> CheckState:
        if sha not in self.seen:
            self.seen[sha] = self.read(sha)
        return self.seen[sha]


def _runs(occurrence: Occurrence, version: Version) -> bool:
    """Whether `occurrence` already says `version` as its shape writes it (`edit.written`:
    `tag@digest` where it can keep a digest, the tag alone where it cannot)."""
    new = written_ref(occurrence, *version)
    return (occurrence.ref.tag, occurrence.ref.digest) == (new.tag, new.digest)


def _running(found: Sequence[Occurrence]) -> Callable[[Version], bool]:
    """Does the stage (these references) already run a version, as far as each can say?"""
    return lambda version: all(_runs(o, version) for o in found)


@dataclass
class PromotionSource:
    """Targets of one promoted stage's references, from its upstreams' entries in `timeline`.

    `holds`: images held on the repository's dashboard (`/image-bot hold IMAGE`, canonical
    names); their promotions wait, as a stage's `hold` makes all of its own wait.
    """

    stage: Stage
    graph: StageGraph
    timeline: Timeline
    checks: Callable[[str], CheckState]
    now: datetime
    holds: Collection[str] = ()
    _offers: dict[ImageName, Offer] = field(default_factory=dict)
    _held: dict[ImageName, list[Occurrence]] = field(default_factory=dict)

    def propose(self, occurrences: Sequence[Occurrence]) -> Proposals:
        by_image: dict[ImageName, list[Occurrence]] = {}
        for occurrence in occurrences:
            by_image.setdefault(occurrence.ref.name, []).append(occurrence)
        made = []
        for image, found in sorted(by_image.items()):
            offered = offer(
                self.stage, self.graph, self.timeline, image, _running(found),
                now=self.now, checks=self.checks,
            )  # fmt: skip
            if offered is not None and str(image) in self.holds:
                held = Verdict(ready=False, reason=f"held (`/image-bot unhold {image}` lifts it)")
                offered = replace(offered, verdict=all_of([offered.verdict, held]))
            if offered is not None:
                made.append(offered)
        changes: list[Change] = []
        waiting: list[Waiting] = []
        for offered in bundle_offers(self.stage, made):
            self._offers[offered.image] = offered
            if not offered.verdict.ready:
                self._held[offered.image] = by_image[offered.image]
                version = version_text(offered.version) if offered.sources else ""
                waiting.append(
                    Waiting(
                        self.stage.name, offered.image, version, offered.verdict.reason,
                        offered.verdict.opens_at,
                    )
                )  # fmt: skip
                continue
            tag, digest = offered.version
            changes += [
                Change(o, o.ref, written_ref(o, tag, digest))
                for o in by_image[offered.image]
                if not _runs(o, offered.version)
            ]
        return Proposals(tuple(changes), (), tuple(waiting))

    @property
    def _branch(self) -> str:
        return f"promote/{self.stage.name}"

    def plans(self, changes: Sequence[Change], basis: PlanBasis) -> list[UpdatePlan]:
        if not changes:
            return []
        if self.stage.bundle is Bundle.MERGE:
            branch = f"{basis.branch_prefix}{self._branch}"
            plans = [
                plan_for(
                    basis.repo,
                    basis.base,
                    changes,
                    group=self._branch,
                    branch=branch,
                    file_hashes=basis.file_hashes,
                )
            ]
        else:
            plans = make_plans(
                basis.repo, basis.base, changes, grouping=Grouping(Strategy.PER_IMAGE),
                branch_prefix=f"{basis.branch_prefix}{self._branch}/",
                file_hashes=basis.file_hashes,
            )  # fmt: skip
        return [self._promoting(plan) for plan in plans]

    def _promoting(self, plan: UpdatePlan) -> UpdatePlan:
        images = sorted({change.old.name for change in plan.changes})
        trail = tuple(
            self._trail(image, entry)
            for image in images
            if image in self._offers
            for entry in self._offers[image].sources
        )
        promotion = Promotion(self.stage.name, self.stage.promote_from, trail)
        return replace(plan, promotion=promotion, automerge=self.stage.automerge)

    def _trail(self, image: ImageName, entry: Entry) -> str:
        commit = entry.commit
        via = f", {commit.pull_request}" if commit.pull_request else ""
        when = entry.since.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        line = (
            f"`{image}` `{version_text(entry.version)}` ran in `{entry.place}` since {when}"
            f" (commit {short_sha(commit.sha)}{via}, by {commit.author});"
            f" soaked {short_duration(self.now - entry.since)}"
        )
        if self.stage.checks:
            line += f"; checks {self.checks(commit.sha).value}"
        if entry.digest:
            line += f"; digest `{entry.digest}`"
        return line

    def kept(self, proposals: Proposals, basis: PlanBasis) -> dict[str, str]:
        waiting = {w.image: w.reason for w in proposals.waiting}
        if not waiting:
            return {}
        if self.stage.bundle is Bundle.MERGE:
            return {f"{basis.branch_prefix}{self._branch}": "; ".join(waiting.values())}
        placeholders = [
            Change(o, o.ref, o.ref) for image in waiting for o in self._held.get(image, [])
        ]
        return {
            plan.branch: waiting[plan.changes[0].old.name]
            for plan in make_plans(
                basis.repo, basis.base, placeholders, grouping=Grouping(Strategy.PER_IMAGE),
                branch_prefix=f"{basis.branch_prefix}{self._branch}/",
                file_hashes=basis.file_hashes,
            )
        }  # fmt: skip
