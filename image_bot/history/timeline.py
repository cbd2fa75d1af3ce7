"""Build the timeline commit by commit from the references of the files each commit touched.

A version runs in a place (a stage, or a file without stages) from the commit that made the
first of its references there to the commit that removed the last one. Several versions of
one image may run in a place at once (two workloads pinned apart): each has its own entry.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace

from image_bot.history.entries import Commit, Entry, Timeline, Version, by_place_and_image
from image_bot.model import ImageName

__all__ = ["FileRef", "TimelineBuilder"]

FileRef = tuple[ImageName, str | None, str | None]  # (image, tag, digest) of one reference
Key = tuple[str, ImageName]  # (place, image)


@dataclass(frozen=True, slots=True)
class _Open:
    since: Commit


class TimelineBuilder:
    """Feed it each commit's touched files (oldest first), then `finish`.

    `place_of` maps a repository file to its place (a stage name, or None: not followed);
    with `by_file` the place is the file itself. `upstreams` names each stage's upstream
    stages, to tell which entries were promoted from where.
    """

    def __init__(
        self,
        place_of: Callable[[str], str | None],
        *,
        by_file: bool = False,
        upstreams: Mapping[str, tuple[str, ...]] | None = None,
    ) -> None:
        self._place_of = place_of
        self._by_file = by_file
        self._upstreams = dict(upstreams or {})
        self._refs: dict[str, tuple[FileRef, ...]] = {}
        self._counts: dict[Key, Counter[Version]] = {}
        self._open: dict[tuple[Key, Version], _Open] = {}
        self._closed: list[Entry] = []
        self.commits = 0

    def commit(self, commit: Commit, files: Mapping[str, Iterable[FileRef]]) -> None:
        """Record that `commit` left each of `files` with the given references (none: gone)."""
        self.commits += 1
        touched: set[Key] = set()
        for path, refs in files.items():
            place = path if self._by_file else self._place_of(path)
            new = tuple(refs) if place is not None else ()
            old = self._refs.pop(path, ())
            if new:
                self._refs[path] = new
            if place is None or old == new:
                continue
            for image, tag, digest in old:
                key = (place, image)
                self._counts[key][(tag, digest)] -= 1
                touched.add(key)
            for image, tag, digest in new:
                key = (place, image)
                self._counts.setdefault(key, Counter())[(tag, digest)] += 1
                touched.add(key)
        for key in sorted(touched, key=lambda k: (k[0], k[1])):
            self._settle(key, commit)

    def _settle(self, key: Key, commit: Commit) -> None:
        counts = self._counts[key]
        for version, count in list(counts.items()):
            opened = self._open.get((key, version))
            if count <= 0:
                del counts[version]
                if opened is not None:
                    del self._open[(key, version)]
                    self._closed.append(self._entry(key, version, opened.since, commit))
            elif opened is None:
                self._open[(key, version)] = _Open(commit)

    def _entry(self, key: Key, version: Version, since: Commit, until: Commit | None) -> Entry:
        place, image = key
        return Entry(
            stage=None if self._by_file else place,
            file=place if self._by_file else None,
            image=image,
            tag=version[0],
            digest=version[1],
            commit=since,
            ended=until,
        )

    def finish(self, *, head: str = "", parsed: int = 0, skipped: tuple[str, ...] = ()) -> Timeline:
        """The timeline: closed entries, then those still running; promotions marked."""
        running = [
            self._entry(key, v, opened.since, None) for (key, v), opened in self._open.items()
        ]
        entries = self._promotions([*self._closed, *running])
        entries.sort(key=lambda e: (e.place, e.image, e.order, e.tag or "", e.digest or ""))
        return Timeline(
            tuple(entries), head=head, commits=self.commits, parsed=parsed, skipped=skipped
        )

    def _promotions(self, entries: list[Entry]) -> list[Entry]:
        """Mark each entry whose exact version an upstream stage ran before it arrived."""
        if self._by_file or not self._upstreams:
            return entries
        grouped = by_place_and_image(entries)
        out = []
        for entry in entries:
            came_from = None
            for upstream in self._upstreams.get(entry.place, ()):
                earlier = grouped.get((upstream, entry.image), [])
                before = entry.commit.position
                if any(e.version == entry.version and e.commit.position < before for e in earlier):
                    came_from = upstream
                    break
            out.append(replace(entry, promoted_from=came_from) if came_from else entry)
        return out
