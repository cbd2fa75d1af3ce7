"""Walk paths with include/exclude globs, run finders per document, return Occurrences + Skipped."""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import ScalarNode

from image_bot.edit.document import Lines, YamlDocument, embedded_documents, walk
from image_bot.edit.files import LINK_OUT, inside, read_file, real_root
from image_bot.edit.finders import FINDERS, Finder
from image_bot.edit.finders.custom import CustomFinder, CustomTarget, parse_path
from image_bot.edit.finders.kustomize import KUSTOMIZATION_NAMES
from image_bot.edit.globs import glob_match
from image_bot.edit.managed import (
    ImageOverride,
    Kustomization,
    Managed,
    kustomization_of,
    set_aside_managed,
)
from image_bot.edit.parallel import map_chunks
from image_bot.edit.spans import Tree, index_text
from image_bot.edit.yaml_limits import YamlTooComplex
from image_bot.errors import ManifestError
from image_bot.model import Occurrence, Skipped
from image_bot.yaml_errors import describe_yaml_error

__all__ = [
    "ALWAYS_EXCLUDED_DIRS",
    "DEFAULT_INCLUDE",
    "CustomTarget",
    "FindResult",
    "ImageOverride",
    "Kustomization",
    "Managed",
    "find_in_text",
    "find_references",
    "may_hold_reference",
    "reads",
]

DEFAULT_INCLUDE = ("**/*.yaml", "**/*.yml")
ALWAYS_EXCLUDED_DIRS = frozenset({".git", ".hg", ".svn", "node_modules"})
_NEEDLES = (b"image", b"Image", b"IMAGE")


@dataclass(frozen=True, slots=True)
class FindResult:
    """The references found under a root, and the files (or fields) left alone with why.

    `managed` are references left as they are because a kustomization `images:` entry (itself
    among `occurrences`) sets the image; `kustomizations` are the kustomization files read;
    `files` every file selected for reading, under its real path.
    """

    occurrences: tuple[Occurrence, ...]
    skipped: tuple[Skipped, ...]
    managed: tuple[Managed, ...] = ()
    kustomizations: tuple[Kustomization, ...] = ()
    files: tuple[str, ...] = ()  # every file the paths and globs selected (read or skipped)


def find_references(
    root: Path,
    *,
    include: Sequence[str] = DEFAULT_INCLUDE,
    exclude: Sequence[str] = (),
    extra_names: Sequence[str] = (),
    targets: Sequence[CustomTarget] = (),
    max_bytes: int = 1_000_000,
    workers: int = 1,
    boundary: Path | None = None,
) -> FindResult:
    """Every image reference in the YAML files under `root` (paths in results are relative).

    Files are those matching `include` (or named like `extra_names`, or `Kustomization`) and no
    `exclude` glob; a `root` that is a file is read whatever its name (paths are then relative
    to its directory). A cheap bytes search decides which files are parsed at all. Files over
    `max_bytes`, not UTF-8, unparsable, or Helm templates are reported in `skipped`. With
    `workers` > 1 a big tree is read in that many processes (the result is the same).
    Container images that a kustomization's `images:` entry renames or retags (a placeholder
    `image: api` in a base) are moved from `occurrences` to `managed` (see `edit/managed.py`).

    Nothing outside `boundary` (default: `root`, or a file root's directory) is read: a
    symbolic link resolving outside it (or into `.git`) is skipped with a reason; one inside
    it is read at its target, whose path (relative to `root`, `..` where it lies beside it) is
    the one reported, once however many links lead to it.
    """
    directory = root if root.is_dir() else root.parent
    limit = real_root(boundary or directory)
    base = real_root(directory)
    if inside(limit, base) is None:
        return FindResult((), (Skipped(".", LINK_OUT),))
    if root.is_file() or (root.is_symlink() and not root.is_dir()):
        paths, unread = _named_file(root, base, limit)
    else:
        walk = _Walk(base, limit, include, exclude, frozenset(extra_names) | {"Kustomization"})
        paths, unread = walk.files()
    job = partial(_find_in_files, limit, _relative(limit, base), tuple(targets), max_bytes)
    results = map_chunks(job, paths, workers)
    kustomizations = tuple(k for result in results for k in result.kustomizations)
    occurrences, managed = set_aside_managed(
        (occ for result in results for occ in result.occurrences), kustomizations, paths
    )
    return FindResult(
        occurrences,
        (*unread, *(skip for result in results for skip in result.skipped)),
        managed,
        kustomizations,
        tuple(paths),
    )


def _find_in_files(
    limit: Path,
    base: str,
    targets: Sequence[CustomTarget],
    max_bytes: int,
    paths: Sequence[str],
) -> FindResult:
    """Find in each of `paths` (relative to `base`, itself relative to `limit`)."""
    occurrences: list[Occurrence] = []
    skipped: list[Skipped] = []
    kustomizations: list[Kustomization] = []
    for path in paths:
        try:
            data = read_file(
                limit, posixpath.normpath(posixpath.join(base, path)), max_bytes=max_bytes
            )
        except ManifestError as exc:
            skipped.append(Skipped(path, exc.reason))
            continue
        except OSError as exc:
            skipped.append(Skipped(path, f"cannot read: {exc.strerror or exc}"))
            continue
        if not may_hold_reference(data, path, targets):
            continue
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            skipped.append(Skipped(path, "not UTF-8 text"))
            continue
        result = find_in_text(text, path, targets=targets)
        occurrences.extend(result.occurrences)
        skipped.extend(result.skipped)
        kustomizations.extend(result.kustomizations)
    return FindResult(tuple(occurrences), tuple(skipped), kustomizations=tuple(kustomizations))


def may_hold_reference(data: bytes, path: str, targets: Sequence[CustomTarget] = ()) -> bool:
    """The pre-filter: could this file hold a reference at all? (No parsing.)"""
    if any(needle in data for needle in _NEEDLES) or path.rsplit("/", 1)[-1] in KUSTOMIZATION_NAMES:
        return True  # a kustomization without images: may still say what another one renders
    for target in targets:
        if glob_match(path, target.files):
            keys = [step for step in parse_path(target.path) if isinstance(step, str)]
            if keys and keys[-1].encode() in data:
                return True
    return False


def _named_file(file: Path, base: Path, limit: Path) -> tuple[list[str], list[Skipped]]:
    """A file named as the root: read whatever its name, at its target when a link."""
    target = inside(limit, file)
    if target is None:
        return [], [Skipped(file.name, LINK_OUT)]
    return [posixpath.relpath(target, _relative(limit, base))], []


def _relative(limit: Path, path: Path) -> str:
    return path.relative_to(limit).as_posix() if path != limit else "."


class _Walk:
    """The files under a real directory `base` to read, links resolved inside `limit`."""

    def __init__(
        self,
        base: Path,
        limit: Path,
        include: Sequence[str],
        exclude: Sequence[str],
        names: frozenset[str],
    ) -> None:
        self.base, self.limit = base, limit
        self.include, self.exclude, self.names = include, exclude, names
        self.base_in_limit = _relative(limit, base)
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


def find_in_text(
    text: str,
    path: str,
    *,
    targets: Sequence[CustomTarget] = (),
    finders: Sequence[Finder] = FINDERS,
) -> FindResult:
    """The references in one file's decoded text (`path` is only recorded, never opened).

    Kustomization documents are listed in `kustomizations`; nothing is set aside as
    `managed` here (that needs the whole tree: see `find_references`).
    """
    templated = "{{" in text and ("templates/" in path or path.startswith("templates"))
    if templated and not path.rsplit("/", 1)[-1].startswith("values"):
        return FindResult((), (Skipped(path, "Helm template ({{ }}): not rendered YAML"),))
    try:
        tree = index_text(text)
    except YamlTooComplex as exc:
        return FindResult((), (Skipped(path, f"not read: {exc.reason}"),))
    except YAMLError as exc:
        return FindResult((), (_parse_skip(path, text, exc),))
    if tree.problems:
        return FindResult((), (Skipped(path, f"not YAML we can edit safely: {tree.problems[0]}"),))
    all_finders: tuple[Finder, ...] = (*((CustomFinder(targets),) if targets else ()), *finders)
    try:
        return _find_in_tree(tree, path, all_finders)
    except YamlTooComplex as exc:  # a block scalar holding YAML over the bounds
        return FindResult((), (Skipped(path, f"not read: {exc.reason}"),))


def _find_in_tree(tree: Tree, path: str, all_finders: Sequence[Finder]) -> FindResult:
    text = tree.text
    occurrences: list[Occurrence] = []
    skipped: dict[tuple[int | None, str], Skipped] = {}
    claimed: set[int] = set()
    kustomizations: list[Kustomization] = []
    index = -1
    lines = Lines.of(text)
    for region in tree.documents:
        index += region.count
        document = YamlDocument(path, index, region.root, text, lines)
        documents = [document, *_embedded(document, tree.literals, region.start, region.end)]
        if (kustomization := kustomization_of(document)) is not None:
            kustomizations.append(kustomization)
        found: list[Occurrence] = []
        for finder in all_finders:
            for each in documents:
                for item in finder.find(each):
                    if isinstance(item, Skipped):
                        skipped.setdefault((item.line, item.reason), item)
                        continue
                    starts = {span.start for span in item.spans.values()}
                    if starts & claimed:
                        continue
                    claimed |= starts
                    found.append(item)
        found.sort(key=lambda occ: min(span.start for span in occ.spans.values()))
        occurrences.extend(found)
    return FindResult(
        tuple(occurrences), tuple(skipped.values()), kustomizations=tuple(kustomizations)
    )


def _embedded(
    document: YamlDocument, literals: Iterable[ScalarNode], start: int, end: int
) -> list[YamlDocument]:
    """Documents held in literal block scalars of `document` that mention images."""
    wanted = {
        id(node)
        for node in literals
        if start <= node.start_mark.index < end and "image" in node.value
    }
    if not wanted:
        return []
    out: list[YamlDocument] = []
    for here, node in walk(document.root):
        if id(node) in wanted and isinstance(node, ScalarNode) and here[:1] != ("metadata",):
            out += embedded_documents(document, node, here)
    return out


def _parse_skip(path: str, text: str, exc: YAMLError) -> Skipped:
    where = describe_yaml_error(exc)
    if "{{" in text:
        return Skipped(path, "Helm template ({{ }}): not YAML until rendered", where.line)
    return Skipped(path, f"not valid YAML: {where.reason}", where.line)
