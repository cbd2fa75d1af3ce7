"""The environments matrix (`image-bot envs`, the status page): what each place runs of each
image since when, and how far each stage is behind its upstream."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from image_bot.history.entries import Entry, Timeline
from image_bot.model import ImageName, StageVersion

__all__ = ["environments", "places"]


def places(timeline: Timeline, order: Sequence[str] = ()) -> list[str]:
    """The places of the timeline's running entries: `order` first (stages), then the rest."""
    seen = dict.fromkeys(order)
    for entry in sorted(timeline.current(), key=lambda e: e.place):
        seen.setdefault(entry.place)
    return list(seen)


def _behind(current: Entry, upstream: Sequence[Entry]) -> tuple[int, Entry | None]:
    """(versions the upstream ran after `current`'s version, the first of them)."""
    matching = [i for i, e in enumerate(upstream) if e.version == current.version]
    if matching:
        newer = upstream[matching[-1] + 1 :]
    else:
        newer = [e for e in upstream if e.commit.position > current.commit.position]
    versions = list(dict.fromkeys(e.version for e in newer if e.version != current.version))
    if not versions:
        return 0, None
    first = next(e for e in newer if e.version != current.version)
    return len(versions), first


def environments(
    timeline: Timeline, upstreams: Mapping[str, tuple[str, ...]] | None = None
) -> tuple[StageVersion, ...]:
    """One cell per (place, image) the timeline runs now: the newest running version (when a
    place runs several, the one it got last) and, for a stage with upstreams, how far behind
    the most advanced upstream it is."""
    upstreams = upstreams or {}
    newest: dict[tuple[str, ImageName], Entry] = {}
    for entry in timeline.current():
        key = (entry.place, entry.image)
        if key not in newest or entry.order > newest[key].order:
            newest[key] = entry
    cells = []
    for (place, image), entry in sorted(newest.items(), key=lambda item: str(item[0])):
        behind_versions: int | None = None
        behind_since = None
        for upstream in upstreams.get(place, ()):
            count, first = _behind(entry, timeline.of(upstream, entry.image))
            if behind_versions is None or count > behind_versions:
                behind_versions = count
                behind_since = first.since if first else None
        cells.append(
            StageVersion(
                stage=place,
                image=image,
                tag=entry.tag,
                digest=entry.digest,
                since=entry.since,
                behind_versions=behind_versions,
                behind_since=behind_since,
            )
        )
    return tuple(cells)
