"""Repository files read and written without leaving the root: links resolved, links out refused.

A repository is hostile input: a symbolic link in it may point at a host file
(`apps/evil.yaml -> /etc/shadow`), into `.git`, at a FIFO that blocks a reader forever, or at
a directory that holds a link back to itself. Finding resolves every link once
(`inside`): a link whose target stays inside the boundary is read, and edited, at its target's
path; anything else is skipped with a reason. Reading and writing then take only such
resolved paths: `read_file` and `write_file` open them one component at a time without
following links, and refuse a path with a link in it, anything that is not a regular file,
and (for reads) anything larger than the bound.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

from image_bot.errors import ManifestError

__all__ = ["LINK_OUT", "inside", "read_file", "real_root", "write_file"]

LINK_OUT = "a symbolic link to outside the repository: not read, not written"
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NO_LINK = os.O_NOFOLLOW | _CLOEXEC
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


def _open(root: Path, relative: str, flags: int) -> int:
    """A descriptor of `relative` under `root`, opened one component at a time without
    following any link (so nothing can swap a link in between a check and the open)."""
    parts = relative.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise ManifestError(relative, "not a plain path inside the repository")
    directory = os.open(root, os.O_RDONLY | os.O_DIRECTORY | _CLOEXEC)
    try:
        for part in parts[:-1]:
            inner = os.open(part, os.O_RDONLY | os.O_DIRECTORY | _NO_LINK, dir_fd=directory)
            os.close(directory)
            directory = inner
        return os.open(parts[-1], flags | _NO_LINK, dir_fd=directory)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            reason = "a symbolic link (or a path through one): not followed"
            raise ManifestError(relative, reason) from None
        raise
    finally:
        os.close(directory)


def read_file(root: Path, relative: str, *, max_bytes: int | None = None) -> bytes:
    """The bytes of the regular file `relative` (`/`-separated, no `..`) under `root`.

    ManifestError when the path goes through a link, is not a regular file (a FIFO, a
    device) or holds more than `max_bytes`; OSError when it cannot be read.
    """
    with os.fdopen(_open(root, relative, os.O_RDONLY | os.O_NONBLOCK), "rb") as handle:
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
    fd = _open(root, relative, os.O_RDONLY | os.O_NONBLOCK)
    try:
        mode = os.fstat(fd).st_mode
    finally:
        os.close(fd)
    if not stat.S_ISREG(mode):
        raise ManifestError(relative, "not a regular file")
    target = root / relative
    handle, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        Path(temp).chmod(stat.S_IMODE(mode))
        Path(temp).replace(target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
