"""References a kustomization sets: a resource's `image: api` placeholder renamed by `images:`.

Kustomize matches an `images:` entry's `name` against the image name *as written* (no tag or
digest, no `docker.io/library/` added) in the resources it renders. When an entry sets
`newName`, `newTag` or `digest`, the written value in the resource never reaches a cluster: the
entry is the reference to update, and the resource's value is reported as managed by it.

An entry manages the files its kustomization renders: its `resources`, `bases` and
`components`, followed through the kustomizations of the directories they name (a directory
whose kustomization was not read counts whole; remote and out-of-tree entries are not
followed). Flux's Kustomization renders `spec.path` of some source: its entries manage
matching images anywhere in the tree. Only what kustomize rewrites is considered: `image` of
`containers`/`initContainers` in Kubernetes objects (never Compose or Helm values, which
kustomize does not render), written as one string, and not set by a Flux marker or a config
target (those the user declared).
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from ruamel.yaml.nodes import Node, SequenceNode

from image_bot.edit.finders.kustomize import kustomize_images
from image_bot.edit.yaml.document import YamlDocument, child, string_value
from image_bot.model import Occurrence, OccurrenceKind, Part
from image_bot.reference import split_reference
from image_bot.yaml_path import YamlPath, format_yaml_path

__all__ = [
    "ImageOverride",
    "Kustomization",
    "Managed",
    "ManagedIndex",
    "kustomization_of",
    "set_aside_managed",
]

_RENDERED_KINDS = frozenset({OccurrenceKind.POD_SPEC, OccurrenceKind.IMAGE_FIELD})
_CONTAINER_LISTS = frozenset({"containers", "initContainers"})
_SETTING_KEYS = ("newName", "newTag", "digest")
_RESOURCE_KEYS = ("resources", "bases", "components")
_Scoped = tuple["ImageOverride", Callable[[str], bool]]  # an entry, and "does it render this file?"
_REMOTE = ("http://", "https://", "git@", "ssh://", "github.com/", "gitlab.com/")


@dataclass(frozen=True, slots=True)
class ImageOverride:
    """A kustomization `images:` entry that sets the image it selects by `name`."""

    path: str
    line: int
    yaml_path: YamlPath
    name: str  # as written in the entry: `api`, or `postgres:11`

    @property
    def where(self) -> str:
        """`apps/api/kustomization.yaml:5 images[0]`."""
        return f"{self.path}:{self.line} {format_yaml_path(self.yaml_path)}"

    def selects(self, written: str) -> bool:
        """Does this entry select the image written as `written` (`api`, `api:1.0`, ...)?"""
        if written == self.name:
            return True
        return not any(c in self.name for c in ":@") and split_reference(written)[0] == self.name


@dataclass(frozen=True, slots=True)
class Managed:
    """A reference left as it is because a kustomization sets the image it names."""

    occurrence: Occurrence
    by: ImageOverride

    @property
    def reason(self) -> str:
        """`set by apps/api/kustomization.yaml:5 images[0]`."""
        return f"set by {self.by.where}"


@dataclass(frozen=True, slots=True)
class Kustomization:
    """A kustomization file: what it renders (`None`: Flux, not followed) and what it sets."""

    path: str
    resources: tuple[str, ...] | None
    overrides: tuple[ImageOverride, ...]


def kustomization_of(document: YamlDocument) -> Kustomization | None:
    """The document as a Kustomization, or None when it is not one."""
    located = kustomize_images(document)
    if located is None:
        return None
    images, path = located
    resources: tuple[str, ...] | None = None
    if path == ("images",):
        resources = tuple(
            text
            for key in _RESOURCE_KEYS
            if isinstance(entries := child(document.root, key), SequenceNode)
            for entry in entries.value
            if (text := string_value(entry))
        )
    return Kustomization(document.path, resources, tuple(_overrides(document, images, path)))


def _overrides(
    document: YamlDocument, images: Node | None, path: YamlPath
) -> Iterator[ImageOverride]:
    """The `images:` entries that set `newName`, `newTag` or `digest`.

    Entries the kustomize finder reports as invalid are included: kustomize still applies them
    (or fails), so the resource's value is not the one deployed either way.
    """
    if not isinstance(images, SequenceNode):
        return
    for i, entry in enumerate(images.value):
        name = string_value(child(entry, "name"))
        if name and any(child(entry, key) is not None for key in _SETTING_KEYS):
            yield ImageOverride(document.path, entry.start_mark.line + 1, (*path, i), name)


class ManagedIndex:
    """Which kustomization `images:` entry (if any) sets each reference of a tree.

    Built from the tree's kustomizations and `files` (every file read, to tell a rendered
    directory's files); `history` keeps one per tree and rebuilds it only when a
    kustomization's resources or entries change.
    """

    def __init__(self, kustomizations: Sequence[Kustomization], files: Iterable[str]) -> None:
        by_dir = {_directory(k.path): k for k in kustomizations if k.resources is not None}
        known = frozenset(files)
        self._by_name: dict[str, list[_Scoped]] = {}
        for kustomization in kustomizations:
            if kustomization.overrides:
                renders = _renders(kustomization, by_dir, known)
                for override in kustomization.overrides:
                    self._by_name.setdefault(override.name, []).append((override, renders))

    def __bool__(self) -> bool:
        return bool(self._by_name)

    def override_for(self, occurrence: Occurrence) -> ImageOverride | None:
        """The entry that sets `occurrence`, or None when the reference is the one to update."""
        return _override_for(occurrence, self._by_name) if self._by_name else None


def set_aside_managed(
    occurrences: Iterable[Occurrence],
    kustomizations: Sequence[Kustomization],
    files: Sequence[str],
) -> tuple[tuple[Occurrence, ...], tuple[Managed, ...]]:
    """Split `occurrences` into those to update and those a kustomization `images:` entry sets.

    `files` are all the files read (to tell a rendered directory's files).
    """
    index = ManagedIndex(kustomizations, files)
    kept: list[Occurrence] = []
    managed: list[Managed] = []
    for occurrence in occurrences:
        by = index.override_for(occurrence)
        if by is None:
            kept.append(occurrence)
        else:
            managed.append(Managed(occurrence, by))
    return tuple(kept), tuple(managed)


def _directory(path: str) -> str:
    return posixpath.dirname(path) or "."


def _renders(
    top: Kustomization, by_dir: dict[str, Kustomization], known: frozenset[str]
) -> Callable[[str], bool]:
    """Does `top` render this file? (Flux's Kustomization: every file.)"""
    if top.resources is None:
        return lambda path: True
    rendered: set[str] = set()
    whole_dirs: list[str] = []
    seen: set[str] = set()
    pending = [top]
    while pending:
        kustomization = pending.pop()
        here = _directory(kustomization.path)
        if here in seen:
            continue
        seen.add(here)
        for entry in kustomization.resources or ():
            target = posixpath.normpath(posixpath.join(here, entry))
            if entry.startswith(_REMOTE) or target == ".." or target.startswith("../"):
                continue  # remote, or outside the scanned tree
            if target in by_dir:
                pending.append(by_dir[target])
            elif target in known:
                rendered.add(target)
            else:  # a directory whose kustomization was not read (excluded): all of it
                whole_dirs.append("" if target == "." else target + "/")
    prefixes = tuple(whole_dirs)
    return lambda path: path in rendered or (bool(prefixes) and path.startswith(prefixes))


def _override_for(
    occurrence: Occurrence, by_name: dict[str, list[_Scoped]]
) -> ImageOverride | None:
    if occurrence.kind not in _RENDERED_KINDS or occurrence.policy is not None:
        return None
    if set(occurrence.spans) != {Part.WHOLE} or occurrence.yaml_path[-1:] != ("image",):
        return None
    if not _CONTAINER_LISTS & set(occurrence.yaml_path[:-1]):
        return None
    written = occurrence.ref.text
    candidates = by_name.get(written, []) + by_name.get(split_reference(written)[0], [])
    return next(
        (o for o, renders in candidates if o.selects(written) and renders(occurrence.path)),
        None,
    )
