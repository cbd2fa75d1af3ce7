"""The files to read under a directory: include/exclude globs, every symbolic link resolved once.

A link whose target stays inside the boundary is listed at its target's path (relative to
the walked directory, `..` where it lies beside it), once however many links lead there; a
link out of the boundary (or into `.git`) is skipped with `LINK_OUT`, a broken one with its
own reason. A directory reached twice (a link back up) is walked once. Shared by the
manifest walk (`edit/find.py`) and the chart reader (`edit/templates/charts.py`). `reads`
answers the same question for one path without a tree (history reads commits, not a checkout).
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Sequence
from pathlib import Path

from image_bot.edit.files import LINK_OUT, inside
from image_bot.edit.globs import glob_match
from image_bot.model import Skipped

__all__ = ["ALWAYS_EXCLUDED_DIRS", "Walk", "reads", "relative_to"]

ALWAYS_EXCLUDED_DIRS = frozenset({".git", ".hg", ".svn", "node_modules"})


def relative_to(limit: Path, path: Path) -> str:
    """`path` relative to `limit` (both real), `/`-separated; `.` for `limit` itself."""
    return path.relative_to(limit).as_posix() if path != limit else "."


class Walk:
    """The files under a real directory `base` to read, links resolved inside `limit`."""

    def __init__(
        self,
        base: Path,
        limit: Path,
        include: Sequence[str],
        exclude: Sequence[str] = (),
        names: frozenset[str] = frozenset(),
    ) -> None:
        self.base, self.limit = base, limit
        self.include, self.exclude, self.names = include, exclude, names
        self.base_in_limit = relative_to(limit, base)
        self.found: set[str] = set()
        self.skipped: list[Skipped] = []

    def files(self) -> tuple[list[str], list[Skipped]]:
        """The relative paths (to `base`) of the files to read, sorted, and links skipped."""
        seen: set[str] = set()
        stack: list[tuple[str, str]] = [("", str(self.base))]
        while stack:
            walked, real = stack.pop()
            if real in seen:
                continue  # a link back up, or two links to one directory: once
            seen.add(real)
            stack.extend(reversed(self._directory(walked, real)))
        return sorted(self.found), self.skipped

    def _directory(self, walked: str, real: str) -> list[tuple[str, str]]:
        """Note the files of one directory; its subdirectories to walk (walked, real path)."""
        try:
            entries = sorted(os.scandir(real), key=lambda entry: entry.name)
        except OSError as exc:
            self.skipped.append(Skipped(walked or ".", f"cannot list: {exc.strerror or exc}"))
            return []
        subdirs: list[tuple[str, str]] = []
        for entry in entries:
            path = f"{walked}/{entry.name}" if walked else entry.name
            if entry.is_symlink():
                self._link(path, entry, subdirs)
            elif entry.is_dir(follow_symlinks=False):
                if entry.name not in ALWAYS_EXCLUDED_DIRS and not self._excluded(path, "/"):
                    subdirs.append((path, entry.path))
            elif self._selected(path, entry.name):
                self._add(path, self._in_limit(real, entry.name))
        return subdirs

    def _link(self, path: str, entry: os.DirEntry[str], subdirs: list[tuple[str, str]]) -> None:
        target = inside(self.limit, entry.path)
        if entry.is_dir():
            if entry.name in ALWAYS_EXCLUDED_DIRS or self._excluded(path, "/"):
                return
            if target is None:
                self.skipped.append(Skipped(path, LINK_OUT))
            else:
                subdirs.append((path, str(self.limit / target)))
            return
        if not self._selected(path, entry.name):
            return
        if target is None:
            self.skipped.append(Skipped(path, LINK_OUT))
        elif not Path(entry.path).exists():
            self.skipped.append(Skipped(path, "a broken symbolic link"))
        else:
            self._add(path, target)

    def _selected(self, path: str, name: str) -> bool:
        if not (name in self.names or any(glob_match(path, p) for p in self.include)):
            return False
        return not self._excluded(path)

    def _excluded(self, path: str, probe: str = "") -> bool:
        """`path` (with `probe` appended: `/` tests a directory) matches an exclude glob."""
        return any(glob_match(path + probe, pattern) for pattern in self.exclude)

    def _in_limit(self, real_directory: str, name: str) -> str:
        """The path relative to `limit` of `name` in a real (link-free) directory under it."""
        below = real_directory[len(str(self.limit)) :].strip(os.sep).replace(os.sep, "/")
        return f"{below}/{name}" if below else name

    def _add(self, path: str, target: str) -> None:
        """Read the file at `path` under its real path `target` (relative to `limit`), once."""
        relative = posixpath.relpath(target, self.base_in_limit)
        if relative != path and self._excluded(relative):
            return
        self.found.add(relative)


def reads(
    path: str, include: Sequence[str], exclude: Sequence[str], extra_names: Sequence[str]
) -> bool:
    """Whether the walk reads a regular file at the relative `path`: included (by glob, or
    named like `extra_names` or `Kustomization`), not excluded, and in no directory the walk
    leaves out (always excluded, or matching an exclude glob)."""
    name = path.rsplit("/", 1)[-1]
    if not (
        name in extra_names
        or name == "Kustomization"
        or any(glob_match(path, pattern) for pattern in include)
    ):
        return False
    if any(glob_match(path, pattern) for pattern in exclude):
        return False
    directories = path.split("/")[:-1]
    if any(part in ALWAYS_EXCLUDED_DIRS for part in directories):
        return False
    return not any(
        glob_match("/".join(directories[: depth + 1]) + "/", pattern)
        for depth in range(len(directories))
        for pattern in exclude
    )
