"""git's machine output read back: the commit records of a first-parent walk (`git log -z
--raw` with our own record marker) and the objects of a `git cat-file --batch` run.

Pure parsing of bytes git printed; running git stays in `publish.git`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = ["LOG_FORMAT", "RECORD", "LogCommit", "TreeChange", "parse_batch", "parse_log_record"]

RECORD = "\x01\x02IMAGE-BOT-COMMIT\x02\x01"  # starts each commit of a log walk
LOG_FORMAT = "%x01%x02IMAGE-BOT-COMMIT%x02%x01%H%x00%ct%x00%an%x00%ae%x00%B%x00"


@dataclass(frozen=True, slots=True)
class TreeChange:
    """A file a commit added, changed or deleted: its new blob and mode (None: deleted)."""

    path: str
    blob: str | None
    mode: str


@dataclass(frozen=True, slots=True)
class LogCommit:
    """A commit of a first-parent walk and the files it changed against its first parent."""

    sha: str
    committed: datetime  # committer time: when it landed on the branch
    author_name: str
    author_email: str
    message: str
    changes: tuple[TreeChange, ...]


def parse_log_record(record: bytes) -> LogCommit | None:
    """One commit of `Git.first_parent_log`'s output (None when it is not one: left out)."""
    fields = record.split(b"\x00", 5)
    if len(fields) < 6 or not fields[1].isdigit():
        return None
    sha, stamp, name, email, message, rest = fields
    changes = []
    tokens = rest.lstrip(b"\x00\n").split(b"\x00")
    for meta, path in zip(tokens[0::2], tokens[1::2], strict=False):
        parts = meta.lstrip(b"\n").decode("ascii", "replace").split(" ")
        if len(parts) != 5 or not parts[0].startswith(":"):
            continue
        _, new_mode, _, new_blob, status = parts
        deleted = status.startswith("D")
        changes.append(
            TreeChange(path.decode("utf-8", "replace"), None if deleted else new_blob, new_mode)
        )
    return LogCommit(
        sha=sha.decode("ascii", "replace"),
        committed=datetime.fromtimestamp(int(stamp), UTC),
        author_name=name.decode("utf-8", "replace"),
        author_email=email.decode("utf-8", "replace"),
        message=message.decode("utf-8", "replace"),
        changes=tuple(changes),
    )


def parse_batch(out: bytes) -> dict[str, bytes]:
    """Parse `git cat-file --batch` output: `<sha> <type> <size>\\n<content>\\n` per object."""
    objects: dict[str, bytes] = {}
    position = 0
    while position < len(out):
        end = out.find(b"\n", position)
        if end < 0:
            break
        header = out[position:end].decode("ascii", "replace").split(" ")
        position = end + 1
        if len(header) != 3 or not header[2].isdigit():
            continue
        size = int(header[2])
        objects[header[0]] = out[position : position + size]
        position += size + 1
    return objects
