"""Which files of a repository are read, and how: the scanned directories with their globs,
extra file names, custom targets and size limit (from a repository's config).

`find` reads a checked-out tree (what a pass and `refs` see); `locate` answers the same
question for one path of a commit, so `history` parses exactly the files a pass would.
"""

from __future__ import annotations

import dataclasses
import posixpath
from dataclasses import dataclass
from pathlib import Path

from image_bot.edit.find import (
    ALWAYS_EXCLUDED_DIRS,
    DEFAULT_INCLUDE,
    CustomTarget,
    FindResult,
    find_references,
    reads,
)
from image_bot.edit.managed import Managed
from image_bot.model import Occurrence, Skipped

__all__ = ["Scope"]


def _under(glob: str, directory: str) -> str:
    return glob if directory == "." else glob.removeprefix(f"{directory}/")


@dataclass(frozen=True, slots=True)
class Scope:
    """The files a repository's references are read from. Globs and targets' `files` are
    relative to the repository root; each directory is walked on its own."""

    directories: tuple[str, ...] = (".",)
    include: tuple[str, ...] = ()  # empty: DEFAULT_INCLUDE
    exclude: tuple[str, ...] = ()
    extra_names: tuple[str, ...] = ()
    targets: tuple[CustomTarget, ...] = ()
    max_bytes: int = 1_048_576

    @property
    def roots(self) -> tuple[str, ...]:
        """The directories, normalised and without repeats."""
        return tuple(dict.fromkeys(posixpath.normpath(d) for d in self.directories))

    def targets_in(self, directory: str) -> tuple[CustomTarget, ...]:
        """The custom targets with their `files` globs relative to `directory`."""
        return tuple(dataclasses.replace(t, files=_under(t.files, directory)) for t in self.targets)

    def locate(self, path: str) -> tuple[str, str] | None:
        """(directory, path relative to it) when the repository file `path` is read."""
        parts = path.split("/")
        if any(part in ALWAYS_EXCLUDED_DIRS for part in parts[:-1]):
            return None
        for directory in self.roots:
            if directory == ".":
                relative = path
            elif path.startswith(f"{directory}/"):
                relative = path[len(directory) + 1 :]
            else:
                continue
            exclude = [_under(glob, directory) for glob in self.exclude]
            if reads(relative, self.include or DEFAULT_INCLUDE, exclude, self.extra_names):
                return directory, relative
        return None

    def find(self, root: Path) -> FindResult:
        """The references in the checked-out tree at `root` (paths relative to `root`)."""
        occurrences: list[Occurrence] = []
        skipped: list[Skipped] = []
        managed: list[Managed] = []
        for directory in self.roots:
            found = find_references(
                root / directory,
                include=self.include or DEFAULT_INCLUDE,
                exclude=[_under(glob, directory) for glob in self.exclude],
                extra_names=self.extra_names,
                targets=self.targets_in(directory),
                max_bytes=self.max_bytes,
            )
            prefix = "" if directory == "." else f"{directory}/"
            occurrences += [dataclasses.replace(o, path=prefix + o.path) for o in found.occurrences]
            skipped += [dataclasses.replace(s, path=prefix + s.path) for s in found.skipped]
            managed += [
                dataclasses.replace(
                    m, occurrence=dataclasses.replace(m.occurrence, path=prefix + m.occurrence.path)
                )
                for m in found.managed
            ]
        return FindResult(tuple(occurrences), tuple(skipped), managed=tuple(managed))
