"""The timeline's values: a commit on the base branch, and an entry (one version, from when
to when, in one stage or file)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from image_bot.model import ImageName

__all__ = ["Commit", "Entry", "Timeline", "Version"]

Version = tuple[str | None, str | None]  # (tag, digest)


@dataclass(frozen=True, slots=True)
class Commit:
    """A commit on the base branch: when it landed there (committer time), by whom, and the
    pull/merge request it merged (`#12`, `!12`), when its message says so."""

    sha: str
    time: datetime
    author: str  # `Name <email>`
    pull_request: str | None = None
    position: int = 0  # its place in the walk, oldest first (times may tie or go backwards)


@dataclass(frozen=True, slots=True)
class Entry:
    """One version of an image in one stage (or, without stages, one file) for a while.

    `ended` (and `until`) is None while it still runs there. `promoted_from` names the
    upstream stage that ran this very version (tag and digest) before this stage did.
    """

    stage: str | None
    file: str | None
    image: ImageName
    tag: str | None
    digest: str | None
    commit: Commit  # the commit that put it there
    ended: Commit | None = None  # the commit that replaced or removed it (None: still there)
    promoted_from: str | None = None

    @property
    def since(self) -> datetime:
        return self.commit.time

    @property
    def until(self) -> datetime | None:
        return self.ended.time if self.ended is not None else None

    @property
    def version(self) -> Version:
        return (self.tag, self.digest)

    @property
    def order(self) -> tuple[int, datetime]:
        """Sort key: by the commit that started it (its position on the branch)."""
        return (self.commit.position, self.since)

    @property
    def place(self) -> str:
        """The stage, or the file when there are no stages."""
        return self.stage if self.stage is not None else (self.file or "")


@dataclass(frozen=True, slots=True)
class Timeline:
    """Every entry of a repository's history, oldest first per place and image."""

    entries: tuple[Entry, ...] = ()
    head: str = ""  # the commit the walk ended at
    commits: int = 0  # commits read
    parsed: int = 0  # file versions parsed
    skipped: tuple[str, ...] = field(default_factory=tuple)  # files that could not be read

    def of(self, place: str, image: ImageName) -> list[Entry]:
        """The entries of `image` in `place` (a stage, or a file), oldest first."""
        found = [e for e in self.entries if e.place == place and e.image == image]
        return sorted(found, key=lambda e: e.order)

    def current(self, place: str | None = None) -> Iterator[Entry]:
        """The entries still running (`until` is None), in `place` or everywhere."""
        return (e for e in self.entries if e.until is None and (place is None or e.place == place))

    def images(self) -> list[ImageName]:
        """Every image the timeline knows, sorted."""
        return sorted({e.image for e in self.entries})


def by_place_and_image(entries: Sequence[Entry]) -> dict[tuple[str, ImageName], list[Entry]]:
    """Entries grouped by (place, image), each list oldest first."""
    grouped: dict[tuple[str, ImageName], list[Entry]] = {}
    for entry in sorted(entries, key=lambda e: e.order):
        grouped.setdefault((entry.place, entry.image), []).append(entry)
    return grouped
