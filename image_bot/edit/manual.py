"""`image-bot set IMAGE=TAG ... PATH`: set tags by hand through the same find and rewrite."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from image_bot.edit.files import read_file
from image_bot.edit.find import CustomTarget, find_references
from image_bot.edit.rewrite import rewrite_tree, write_changes
from image_bot.model import Change, FileChange, ImageName, ImageRef, Skipped
from image_bot.reference import validate_tag

__all__ = ["SetResult", "set_tags", "unified_diff"]


@dataclass(frozen=True, slots=True)
class SetResult:
    """What `set_tags` did: the file changes, the diff, and what it left alone and why."""

    changes: tuple[FileChange, ...]
    diff: str
    skipped: tuple[Skipped, ...]  # files the finder could not read (templates, bad YAML)
    refused: tuple[Skipped, ...]  # files holding a reference that could not be set safely
    unmatched: tuple[ImageName, ...]  # requested images with no reference under the root


def set_tags(
    root: Path,
    assignments: Mapping[ImageName, str],
    *,
    dry_run: bool,
    targets: Sequence[CustomTarget] = (),
) -> SetResult:
    """Set every reference under `root` (a directory, or one file) whose normalized name is a
    key to that key's tag.

    A digest that pinned the old tag is dropped (`nginx:1.25@sha256:...` becomes `nginx:1.27`,
    a separate `digest:` key becomes `""`): it would pin the old image. Nothing is written
    when `dry_run`; the unified diff (`a/`, `b/`, paths relative to `root`, or to a file
    root's directory) is returned either way. `targets` are config-declared fields to look in
    too. Raises InvalidReference for a tag that is not valid.
    """
    for tag in assignments.values():
        validate_tag(tag)
    found = find_references(root, targets=targets)
    root = root if root.is_dir() else root.parent  # a file named as the root: paths are beside it
    changes = [
        Change(occurrence, occurrence.ref, ImageRef(occurrence.ref.name, new_tag))
        for occurrence in found.occurrences
        if (new_tag := assignments.get(occurrence.ref.name)) is not None
    ]
    befores = {path: read_file(root, path) for path in {c.occurrence.path for c in changes}}
    file_changes, refused = rewrite_tree(root, changes)
    diff = "".join(
        unified_diff(fc.path, befores[fc.path].decode("utf-8"), fc.after) for fc in file_changes
    )
    if not dry_run:
        write_changes(root, file_changes)
    matched = {change.occurrence.ref.name for change in changes}
    return SetResult(
        tuple(file_changes),
        diff,
        found.skipped,
        tuple(refused),
        tuple(name for name in assignments if name not in matched),
    )


def unified_diff(path: str, before: str, after: str) -> str:
    """A git-style unified diff of one file (`\\ No newline at end of file` included)."""
    lines = difflib.unified_diff(
        _lines(before), _lines(after), fromfile=f"a/{path}", tofile=f"b/{path}"
    )
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def _lines(text: str) -> Sequence[str]:
    """Lines split at `\\n` only, ends kept (a CR stays part of its line)."""
    parts = text.split("\n")
    return [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])
