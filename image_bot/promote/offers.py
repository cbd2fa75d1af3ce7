"""What a stage is offered for each image: the exact version its upstream stage(s) run, and
whether the gates let it through now.

The offer is always what the upstream runs *now* on the base branch (tag and digest as
written there, never looked up in a registry). A version the stage was rolled back from is
not offered again: the stage waits for a newer one (or a human promotes it by hand).
With `bundle: merge`, images whose upstream versions came in one upstream merge wait for
each other, so they travel in one pull request.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from image_bot.history.entries import Entry, Timeline, Version
from image_bot.model import CheckState, ImageName
from image_bot.promote.gates import Verdict, all_of, gate, short_sha
from image_bot.promote.stages import Bundle, Require, Stage, StageGraph

__all__ = ["Offer", "Runs", "bundle_offers", "offer", "rolled_back", "version_text"]

Checks = Callable[[str], CheckState | None]  # commit sha -> its checks (None: not asked)
Runs = Callable[[Version], bool]  # does the stage already run this version (as far as it can)?


def version_text(version: Version) -> str:
    """`1.2.0@sha256:0123456789ab`, `1.2.0`, or a digest alone."""
    tag, digest = version
    short = digest[: len("sha256:") + 12] if digest else None
    if tag and short:
        return f"{tag}@{short}"
    return tag or short or "latest"


@dataclass(frozen=True, slots=True)
class Offer:
    """The upstream version offered to `stage` for `image` and the verdict on promoting it.

    `sources` are the upstream entries that run it (one per upstream with `require: all`).
    """

    stage: str
    image: ImageName
    sources: tuple[Entry, ...]
    verdict: Verdict

    @property
    def entry(self) -> Entry:
        """The upstream entry whose version is offered (the newest of `sources`)."""
        return max(self.sources, key=lambda e: e.order)

    @property
    def version(self) -> Version:
        return self.entry.version


def rolled_back(entries: Sequence[Entry]) -> dict[Version, datetime]:
    """Versions a place moved away from *back to* a version it ran before, and when."""
    ordered = sorted(entries, key=lambda e: e.order)
    rejected: dict[Version, datetime] = {}
    for index, entry in enumerate(ordered):
        if entry.ended is None:
            continue
        end = entry.ended.position
        earlier = {e.version for e in ordered[:index]} - {entry.version}
        following = [e for e in ordered[index + 1 :] if e.commit.position >= end]
        if following and following[0].version in earlier:
            rejected[entry.version] = entry.ended.time
    return rejected


def _single(entries: Sequence[Entry]) -> Entry | str | None:
    versions = {e.version for e in entries}
    if not entries:
        return None
    if len(versions) > 1:
        return ", ".join(sorted(version_text(v) for v in versions))
    return max(entries, key=lambda e: e.order)


def offer(
    stage: Stage,
    graph: StageGraph,
    timeline: Timeline,
    image: ImageName,
    runs: Runs,
    *,
    now: datetime,
    checks: Checks,
) -> Offer | None:
    """What `stage` is offered for `image`; None: nothing to do (no upstream runs the image,
    or the stage already `runs` what it would be offered)."""
    running: dict[str, Entry] = {}
    problems: list[str] = []
    for upstream in graph.upstreams(stage):
        found = _single([e for e in timeline.current(upstream.name) if e.image == image])
        if isinstance(found, Entry):
            running[upstream.name] = found
        elif isinstance(found, str):
            problems.append(f"{upstream.name} runs several versions ({found})")
    if not running and not problems:
        return None
    verdicts = {
        name: gate(stage, entry, now=now, checks=checks(entry.commit.sha) if stage.checks else None)
        for name, entry in running.items()
    }
    if stage.require is Require.ANY:
        return _any(stage, image, runs, (running, verdicts), problems)
    missing = [u for u in stage.promote_from if u not in running and not _mentions(problems, u)]
    problems += [f"{name} does not run it" for name in missing]
    versions = {entry.version for entry in running.values()}
    if len(versions) > 1:
        problems.append(
            "upstreams disagree: "
            + ", ".join(f"{n} runs {version_text(e.version)}" for n, e in running.items())
        )
    if not running:
        return Offer(stage.name, image, (), Verdict(ready=False, reason="; ".join(problems)))
    sources = tuple(running.values())
    if problems:
        return Offer(stage.name, image, sources, Verdict(ready=False, reason="; ".join(problems)))
    if runs(next(iter(versions))):
        return None
    made = Offer(stage.name, image, sources, all_of(list(verdicts.values())))
    return _not_rolled_back(made, timeline)


def _mentions(problems: Sequence[str], upstream: str) -> bool:
    return any(problem.startswith(f"{upstream} ") for problem in problems)


def _any(
    stage: Stage,
    image: ImageName,
    runs: Runs,
    judged: tuple[Mapping[str, Entry], Mapping[str, Verdict]],
    problems: Sequence[str],
) -> Offer | None:
    running, verdicts = judged
    if not running:
        return Offer(stage.name, image, (), Verdict(ready=False, reason="; ".join(problems)))
    ready = [name for name in running if verdicts[name].ready]
    pool = ready or list(running)
    best = max(pool, key=lambda name: running[name].order)
    if runs(running[best].version):
        return None
    return Offer(stage.name, image, (running[best],), verdicts[best])


def _not_rolled_back(made: Offer, timeline: Timeline) -> Offer:
    rejected = rolled_back(timeline.of(made.stage, made.image))
    when = rejected.get(made.version)
    if when is None:
        return made
    stamp = when.strftime("%Y-%m-%d %H:%M UTC")
    reason = (
        f"{made.stage} was rolled back from {version_text(made.version)} on {stamp};"
        " waiting for a newer version"
    )
    return replace(made, verdict=Verdict(ready=False, reason=reason))


def bundle_offers(stage: Stage, offers: Sequence[Offer]) -> list[Offer]:
    """With `bundle: merge`, an image waits while another image of its upstream merge waits."""
    if stage.bundle is Bundle.IMAGE:
        return list(offers)
    by_commit: dict[str, list[Offer]] = {}
    for made in offers:
        if made.sources:
            by_commit.setdefault(made.entry.commit.sha, []).append(made)
    out = []
    for made in offers:
        if not made.sources or not made.verdict.ready:
            out.append(made)
            continue
        waiting = [o for o in by_commit[made.entry.commit.sha] if not o.verdict.ready]
        if not waiting:
            out.append(made)
            continue
        other = waiting[0]
        sha = short_sha(made.entry.commit.sha)
        reason = f"waiting with {other.image} (same upstream merge {sha}): {other.verdict.reason}"
        opens = all_of([o.verdict for o in waiting]).opens_at
        out.append(replace(made, verdict=Verdict(ready=False, reason=reason, opens_at=opens)))
    return out
