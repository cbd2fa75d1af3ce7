"""Which files of a repository are read, and how: the scanned entries (directories with their
globs, or single files), extra file names, custom targets and size limit (from a repository's
config).

`find` reads a checked-out tree (what a pass sees); `locate` answers the same question for one
path of a commit, so `history` parses the files a pass would (regular files: git history holds
a symbolic link as a link, which history does not follow).
"""

from __future__ import annotations

import dataclasses
import posixpath
from dataclasses import dataclass
from pathlib import Path

from image_bot.edit.files import inside, real_root
from image_bot.edit.find import DEFAULT_INCLUDE, CustomTarget, FindResult, find_references
from image_bot.edit.finders import Finder, finders_for
from image_bot.edit.managed import Managed
from image_bot.edit.walk import reads
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
    ci_files: bool = True  # CI pipeline files are read too

    @property
    def finders(self) -> tuple[Finder, ...]:
        """The finders run over each document (without CI finders unless `ci_files`)."""
        return finders_for(ci_files=self.ci_files)

    @property
    def roots(self) -> tuple[str, ...]:
        """The entries (directories or files), normalised and without repeats."""
        return tuple(dict.fromkeys(posixpath.normpath(d) for d in self.directories))

    def targets_in(self, directory: str) -> tuple[CustomTarget, ...]:
        """The custom targets with their `files` globs relative to `directory`."""
        return tuple(dataclasses.replace(t, files=_under(t.files, directory)) for t in self.targets)

    def locate(self, path: str) -> tuple[str, str] | None:
        """(directory, path relative to it) when the repository file `path` is read: under a
        directory entry by the globs, or named by a file entry whatever its name."""
        for entry in self.roots:
            if path == entry:  # a file entry: read as the walk reads it, from its directory
                directory = posixpath.dirname(entry) or "."
                return directory, posixpath.basename(entry)
            if entry == ".":
                relative = path
            elif path.startswith(f"{entry}/"):
                relative = path[len(entry) + 1 :]
            else:
                continue
            exclude = [_under(glob, entry) for glob in self.exclude]
            if reads(relative, self.include or DEFAULT_INCLUDE, exclude, self.extra_names):
                return entry, relative
        return None

    def find(self, root: Path) -> FindResult:
        """The references in the checked-out tree at `root` (paths relative to `root`), each
        file once; nothing outside `root` is read (see `find_references`)."""
        occurrences: dict[tuple[str, int], Occurrence] = {}
        skipped: list[Skipped] = []
        managed: list[Managed] = []
        files: set[str] = set()
        real = real_root(root)
        for entry in self.roots:
            directory = entry if (root / entry).is_dir() else posixpath.dirname(entry) or "."
            where = inside(real, root / directory) or directory  # a linked entry: at its target
            found = find_references(
                root / entry,
                include=self.include or DEFAULT_INCLUDE,
                exclude=[_under(glob, directory) for glob in self.exclude],
                extra_names=self.extra_names,
                targets=self.targets_in(directory),
                max_bytes=self.max_bytes,
                ci_files=self.ci_files,
                boundary=root,
            )

            def at(path: str, where: str = where) -> str:
                return posixpath.normpath(posixpath.join(where, path))

            for o in found.occurrences:  # two entries (or links) may lead to one file: once
                moved = dataclasses.replace(o, path=at(o.path))
                occurrences.setdefault((moved.path, min(s.start for s in o.spans.values())), moved)
            skipped.extend(
                dataclasses.replace(s, path=entry if s.path == "." else at(s.path))
                for s in found.skipped
            )
            managed.extend(
                dataclasses.replace(
                    m, occurrence=dataclasses.replace(m.occurrence, path=at(m.occurrence.path))
                )
                for m in found.managed
            )
            files.update(at(path) for path in found.files)
        return FindResult(
            tuple(occurrences.values()),
            tuple(skipped),
            managed=tuple(managed),
            files=tuple(sorted(files)),
        )
