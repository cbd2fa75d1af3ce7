"""Walk paths with include/exclude globs, run finders per document, return Occurrences + Skipped."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import ScalarNode

from image_bot.edit.document import Lines, YamlDocument, embedded_documents, walk
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
from image_bot.edit.spans import index_text
from image_bot.model import Occurrence, Skipped

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
    among `occurrences`) sets the image; `kustomizations` are the kustomization files read.
    """

    occurrences: tuple[Occurrence, ...]
    skipped: tuple[Skipped, ...]
    managed: tuple[Managed, ...] = ()
    kustomizations: tuple[Kustomization, ...] = ()


def find_references(
    root: Path,
    *,
    include: Sequence[str] = DEFAULT_INCLUDE,
    exclude: Sequence[str] = (),
    extra_names: Sequence[str] = (),
    targets: Sequence[CustomTarget] = (),
    max_bytes: int = 1_000_000,
    workers: int = 1,
) -> FindResult:
    """Every image reference in the YAML files under `root` (paths in results are relative).

    Files are those matching `include` (or named like `extra_names`, or `Kustomization`) and no
    `exclude` glob. A cheap bytes search decides which files are parsed at all. Files over
    `max_bytes`, not UTF-8, unparsable, or Helm templates are reported in `skipped`. With
    `workers` > 1 a big tree is read in that many processes (the result is the same).
    Container images that a kustomization's `images:` entry renames or retags (a placeholder
    `image: api` in a base) are moved from `occurrences` to `managed` (see `edit/managed.py`).
    """
    paths = _files(root, include, exclude, extra_names)
    job = partial(_find_in_files, root, tuple(targets), max_bytes)
    results = map_chunks(job, paths, workers)
    kustomizations = tuple(k for result in results for k in result.kustomizations)
    occurrences, managed = set_aside_managed(
        (occ for result in results for occ in result.occurrences), kustomizations, paths
    )
    return FindResult(
        occurrences,
        tuple(skip for result in results for skip in result.skipped),
        managed,
        kustomizations,
    )


def _find_in_files(
    root: Path, targets: Sequence[CustomTarget], max_bytes: int, paths: Sequence[str]
) -> FindResult:
    occurrences: list[Occurrence] = []
    skipped: list[Skipped] = []
    kustomizations: list[Kustomization] = []
    for path in paths:
        full = root / path
        try:
            size = full.stat().st_size
            if size > max_bytes:
                skipped.append(Skipped(path, f"larger than {max_bytes} bytes ({size})"))
                continue
            data = full.read_bytes()
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


def _files(
    root: Path, include: Sequence[str], exclude: Sequence[str], extra_names: Sequence[str]
) -> list[str]:
    """The relative paths of the files to read, sorted."""
    found: list[str] = []
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if d not in ALWAYS_EXCLUDED_DIRS)
        relative_dir = Path(directory).relative_to(root).as_posix()
        for name in sorted(files):
            path = name if relative_dir == "." else f"{relative_dir}/{name}"
            if reads(path, include, exclude, extra_names):
                found.append(path)
    return sorted(found)


def reads(
    path: str, include: Sequence[str], exclude: Sequence[str], extra_names: Sequence[str]
) -> bool:
    """Whether a file at the relative `path` is read: included (by glob, or named like
    `extra_names` or `Kustomization`) and not excluded. Directories are not looked at."""
    name = path.rsplit("/", 1)[-1]
    if not (
        name in extra_names
        or name == "Kustomization"
        or any(glob_match(path, pattern) for pattern in include)
    ):
        return False
    return not any(glob_match(path, pattern) for pattern in exclude)


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
    except YAMLError as exc:
        return FindResult((), (_parse_skip(path, text, exc),))
    if tree.problems:
        return FindResult((), (Skipped(path, f"not YAML we can edit safely: {tree.problems[0]}"),))
    all_finders: tuple[Finder, ...] = (*((CustomFinder(targets),) if targets else ()), *finders)
    lines = Lines.of(text)
    occurrences: list[Occurrence] = []
    skipped: dict[tuple[int | None, str], Skipped] = {}
    claimed: set[int] = set()
    kustomizations: list[Kustomization] = []
    index = -1
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
    line = None
    if isinstance(exc, MarkedYAMLError) and exc.problem_mark is not None:
        line = exc.problem_mark.line + 1
    if "{{" in text:
        return Skipped(path, "Helm template ({{ }}): not YAML until rendered", line)
    problem = exc.problem if isinstance(exc, MarkedYAMLError) and exc.problem else str(exc)
    return Skipped(path, f"not valid YAML: {' '.join(str(problem).split())}", line)
