"""References a kustomization sets: a resource's `image: api` placeholder renamed by `images:`.

Kustomize matches an `images:` entry's `name` against the image name *as written* (no tag or
digest, no `docker.io/library/` added) in the resources it renders. When an entry sets
`newName`, `newTag` or `digest`, the written value in the resource never reaches a cluster: the
entry is the reference to update, and the resource's value is reported as managed by it.

Which kustomization renders which resource (`resources: [../base]`) is not followed: an entry
anywhere in the scanned tree manages every matching container image. Only what kustomize
rewrites is considered: `image` of `containers`/`initContainers` in Kubernetes objects (never
Compose or Helm values, which kustomize does not render), written as one string, and not
pinned by a Flux marker or a config target (those the user declared).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from ruamel.yaml.nodes import SequenceNode

from image_bot.edit.document import YamlDocument, YamlPath, child, string_value
from image_bot.edit.kustomize import kustomize_images
from image_bot.model import Occurrence, OccurrenceKind, Part
from image_bot.reference import split_reference

__all__ = ["ImageOverride", "Managed", "image_overrides", "set_aside_managed"]

_RENDERED_KINDS = frozenset({OccurrenceKind.POD_SPEC, OccurrenceKind.IMAGE_FIELD})
_CONTAINER_LISTS = frozenset({"containers", "initContainers"})
_SETTING_KEYS = ("newName", "newTag", "digest")


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
        dotted = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in self.yaml_path)
        return f"{self.path}:{self.line} {dotted.lstrip('.')}"

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


def image_overrides(document: YamlDocument) -> Iterator[ImageOverride]:
    """The `images:` entries of a kustomization that set `newName`, `newTag` or `digest`.

    Entries the kustomize finder reports as invalid are included: kustomize still applies them
    (or fails), so the resource's value is not the one deployed either way.
    """
    images, path = kustomize_images(document) or (None, ())
    if not isinstance(images, SequenceNode):
        return
    for i, entry in enumerate(images.value):
        name = string_value(child(entry, "name"))
        if name and any(child(entry, key) is not None for key in _SETTING_KEYS):
            yield ImageOverride(document.path, entry.start_mark.line + 1, (*path, i), name)


def set_aside_managed(
    occurrences: Iterable[Occurrence], overrides: Sequence[ImageOverride]
) -> tuple[tuple[Occurrence, ...], tuple[Managed, ...]]:
    """Split `occurrences` into those to update and those a kustomization `images:` entry sets."""
    kept: list[Occurrence] = []
    managed: list[Managed] = []
    for occurrence in occurrences:
        by = _override_for(occurrence, overrides) if overrides else None
        if by is None:
            kept.append(occurrence)
        else:
            managed.append(Managed(occurrence, by))
    return tuple(kept), tuple(managed)


def _override_for(
    occurrence: Occurrence, overrides: Sequence[ImageOverride]
) -> ImageOverride | None:
    if occurrence.kind not in _RENDERED_KINDS or occurrence.policy is not None:
        return None
    if set(occurrence.spans) != {Part.WHOLE} or occurrence.yaml_path[-1:] != ("image",):
        return None
    if not _CONTAINER_LISTS & set(occurrence.yaml_path[:-1]):
        return None
    return next((o for o in overrides if o.selects(occurrence.ref.text)), None)
