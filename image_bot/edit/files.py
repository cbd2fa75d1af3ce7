"""Repository files read and written without leaving the root: links resolved, links out refused.

A repository is hostile input: a symbolic link in it may point at a host file
(`apps/evil.yaml -> /etc/shadow`), into `.git`, at a FIFO that blocks a reader forever, or at
a directory that holds a link back to itself. Finding resolves every link once
(`inside`): a link whose target stays inside the boundary is read, and edited, at its target's
path; anything else is skipped with a reason. Reading and writing then take only such
resolved paths: `read_file` and `write_file` refuse any path with a link in it, anything
that is not a regular file, and (for reads) anything larger than the bound.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from image_bot.errors import ManifestError

__all__ = ["LINK_OUT", "inside", "read_file", "real_root", "write_file"]

LINK_OUT = "a symbolic link to outside the repository: not read, not written"
_PRIVATE = frozenset({".git", ".hg", ".svn"})  # a repository's own database is never content


def real_root(path: Path) -> Path:
    """`path` with every symbolic link resolved (the form `inside` compares against)."""
    return Path(os.path.realpath(path))


def inside(boundary: Path, target: str | Path) -> str | None:
    """The `/`-separated path of `target` (links resolved) relative to the real `boundary`, or
    None when it resolves outside it or into a version-control directory (`.git`)."""
    resolved = os.path.realpath(target)
    base = str(boundary)
    if resolved == base:
        return "."
    if not resolved.startswith(base.rstrip(os.sep) + os.sep):
        return None
    relative = Path(resolved).relative_to(boundary).as_posix()
    if relative.split("/", 1)[0] in _PRIVATE:
        return None
    return relative


def _checked(root: Path, relative: str) -> Path:
    """`root / relative` when no part of it below `root` is a link; else ManifestError."""
    base = real_root(root)
    full = Path(os.path.normpath(base / relative))
    if inside(base, full) is None or os.path.realpath(full) != str(full):
        raise ManifestError(relative, "a symbolic link (or a path through one): not followed")
    return full


def read_file(root: Path, relative: str, *, max_bytes: int | None = None) -> bytes:
    """The bytes of the regular file `relative` under `root`.

    ManifestError when the path goes through a link, leaves `root`, is not a regular file
    (a FIFO, a device) or holds more than `max_bytes`; OSError when it cannot be read.
    """
    full = _checked(root, relative)
    fd = os.open(full, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ManifestError(relative, "not a regular file")
        if max_bytes is not None and info.st_size > max_bytes:
            raise ManifestError(relative, f"larger than {max_bytes} bytes ({info.st_size})")
        data = handle.read(max_bytes + 1 if max_bytes is not None else -1)
    if max_bytes is not None and len(data) > max_bytes:
        raise ManifestError(relative, f"larger than {max_bytes} bytes (it grew while read)")
    return data


def write_file(root: Path, relative: str, data: bytes) -> None:
    """Replace the regular file `relative` under `root` with `data` (atomically, mode kept).

    A link is never replaced by a file: ManifestError when the path is or goes through one.
    """
    target = _checked(root, relative)
    mode = target.lstat().st_mode
    if not stat.S_ISREG(mode):
        raise ManifestError(relative, "not a regular file")
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        Path(temp).chmod(stat.S_IMODE(mode))
        Path(temp).replace(target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
