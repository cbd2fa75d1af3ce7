"""Walk paths with include/exclude globs, run finders per document, return Occurrences + Skipped."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import ScalarNode

from image_bot.edit.files import LINK_OUT, inside, read_file, real_root
from image_bot.edit.finders import (
    CI_KINDS,
    FINDERS,
    TEXT_FINDERS,
    Finder,
    TextFinder,
    finders_for,
)
from image_bot.edit.finders.ci import ci_kind
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
from image_bot.edit.templates.charts import set_aside_registry_prefixes
from image_bot.edit.walk import Walk, relative_to
from image_bot.edit.yaml.document import (
    Lines,
    YamlDocument,
    embedded_documents,
    may_mention_image,
    walk,
)
from image_bot.edit.yaml.limits import YamlTooComplex
from image_bot.edit.yaml.spans import Tree, index_text
from image_bot.errors import ManifestError
from image_bot.model import Occurrence, OccurrenceKind, Skipped
from image_bot.yaml_errors import describe_yaml_error

__all__ = [
    "DEFAULT_INCLUDE",
    "CustomTarget",
    "FindResult",
    "ImageOverride",
    "Kustomization",
    "Managed",
    "find_in_text",
    "find_references",
    "may_hold_reference",
]

DEFAULT_INCLUDE = ("**/*.yaml", "**/*.yml")
_ANY_FILE = frozenset({OccurrenceKind.MARKER, OccurrenceKind.CUSTOM})  # read in CI files too
# What a file must contain to be parsed: what `may_mention_image` looks for (`mage` is image
# and Image), or `jobs:` (a workflow's job `container: node:20` and `docker://` steps say no image).
# Each needle is a scan of the whole file when absent, as in most files: keep them few.
_NEEDLES = (b"mage", b"MAGE", b"repository:", b"jobs:")


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
    ci_files: bool = True,
    boundary: Path | None = None,
) -> FindResult:
    """Every image reference in the YAML files under `root` (paths in results are relative).

    Files are those matching `include` (or named like `extra_names`, or `Kustomization`) and no
    `exclude` glob; a `root` that is a file is read whatever its name (paths are then relative
    to its directory). A cheap bytes search decides which files are parsed at all. Files over
    `max_bytes`, not UTF-8, unparsable, or Helm templates are reported in `skipped`. With
    `workers` > 1 a big tree is read in that many processes (the result is the same).
    Without `ci_files`, CI pipeline files (GitHub Actions, GitLab CI, Woodpecker, Drone) are
    left alone.
    Container images that a kustomization's `images:` entry renames or retags (a placeholder
    `image: api` in a base) are moved from `occurrences` to `managed` (see `edit/managed.py`);
    a chart's values key its templates use as a registry prefix is moved to `skipped` (see
    `edit/templates/charts.py`).

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
        walker = Walk(base, limit, include, exclude, frozenset(extra_names) | {"Kustomization"})
        paths, unread = walker.files()
    finders = finders_for(ci_files=ci_files)
    job = partial(
        _find_in_files,
        limit,
        relative_to(limit, base),
        targets=tuple(targets),
        max_bytes=max_bytes,
        finders=finders,
    )
    results = map_chunks(job, paths, workers)
    kustomizations = tuple(k for result in results for k in result.kustomizations)
    occurrences, managed = set_aside_managed(
        (occ for result in results for occ in result.occurrences), kustomizations, paths
    )
    occurrences, prefixes = set_aside_registry_prefixes(
        limit, relative_to(limit, base), occurrences, max_bytes=max_bytes
    )
    return FindResult(
        occurrences,
        (*unread, *(skip for result in results for skip in result.skipped), *prefixes),
        managed,
        kustomizations,
        tuple(paths),
    )


def _find_in_files(
    limit: Path,
    base: str,
    paths: Sequence[str],
    *,
    targets: Sequence[CustomTarget],
    max_bytes: int,
    finders: Sequence[Finder],
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
        result = find_in_text(text, path, targets=targets, finders=finders)
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
    return [posixpath.relpath(target, relative_to(limit, base))], []


def find_in_text(
    text: str,
    path: str,
    *,
    targets: Sequence[CustomTarget] = (),
    finders: Sequence[Finder] = FINDERS,
    text_finders: Sequence[TextFinder] = TEXT_FINDERS,
) -> FindResult:
    """The references in one file's decoded text (`path` is only recorded, never opened).

    Kustomization documents are listed in `kustomizations`; nothing is set aside as
    `managed` here (that needs the whole tree: see `find_references`).
    """
    as_text = _read_as_text(text_finders, path, text, not_yaml=False)
    if as_text is not None:
        return as_text
    try:
        tree = index_text(text)
    except YamlTooComplex as exc:
        return FindResult((), (Skipped(path, f"not read: {exc.reason}"),))
    except YAMLError as exc:
        as_text = _read_as_text(text_finders, path, text, not_yaml=True)
        return as_text or FindResult((), (_parse_skip(path, text, exc),))
    if tree.problems:
        return FindResult((), (Skipped(path, f"not YAML we can edit safely: {tree.problems[0]}"),))
    all_finders: tuple[Finder, ...] = (*((CustomFinder(targets),) if targets else ()), *finders)
    try:
        return _find_in_tree(tree, path, all_finders)
    except YamlTooComplex as exc:  # a block scalar holding YAML over the bounds
        return FindResult((), (Skipped(path, f"not read: {exc.reason}"),))


def _find_in_tree(tree: Tree, path: str, all_finders: Sequence[Finder]) -> FindResult:
    text = tree.text
    # a CI file is read by its own finders only (and by markers and targets); others never
    for_ci = tuple(f for f in all_finders if f.kind in CI_KINDS or f.kind in _ANY_FILE)
    not_ci = tuple(f for f in all_finders if f.kind not in CI_KINDS)
    lines = Lines.of(text)
    literals = [node for node in tree.literals if may_mention_image(node.value)]  # once a file
    occurrences: list[Occurrence] = []
    skipped: dict[tuple[int | None, str], Skipped] = {}
    claimed: set[int] = set()
    kustomizations: list[Kustomization] = []
    index = -1
    for region in tree.documents:
        index += region.count
        document = YamlDocument(path, index, region.root, text, lines)
        documents = [document, *_embedded(document, literals, region.start, region.end)]
        if (kustomization := kustomization_of(document)) is not None:
            kustomizations.append(kustomization)
        found: list[Occurrence] = []
        for finder in not_ci if ci_kind(document) is None else for_ci:
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


def _read_as_text(
    text_finders: Sequence[TextFinder], path: str, text: str, *, not_yaml: bool
) -> FindResult | None:
    """The result of the first text finder that reads `path`, or None."""
    for finder in text_finders:
        if finder.applies(path, text, not_yaml=not_yaml):
            items = list(finder.find_text(path, text))
            return FindResult(
                tuple(item for item in items if isinstance(item, Occurrence)),
                tuple(item for item in items if isinstance(item, Skipped)),
            )
    return None


def _embedded(
    document: YamlDocument, literals: Iterable[ScalarNode], start: int, end: int
) -> list[YamlDocument]:
    """Documents held in the `literals` (block scalars that mention images) of `document`."""
    wanted = {id(node) for node in literals if start <= node.start_mark.index < end}
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
