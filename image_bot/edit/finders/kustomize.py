"""Kustomize `images:` entries (newName/newTag/digest) and Argo CD's kustomize/helm overrides."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

from ruamel.yaml.nodes import Node, ScalarNode, SequenceNode

from image_bot.edit.refs import Found, SplitParts, split_occurrence, whole_occurrence
from image_bot.edit.yaml.document import YamlDocument, child, mapping_items, string_value
from image_bot.model import OccurrenceKind, Skipped
from image_bot.reference import split_reference
from image_bot.yaml_path import YamlPath

__all__ = ["ArgoCDFinder", "KustomizeFinder", "kustomize_images"]

KUSTOMIZATION_KINDS = frozenset({"Kustomization", "Component"})
KUSTOMIZATION_NAMES = frozenset({"kustomization.yaml", "kustomization.yml", "Kustomization"})
_DIGEST = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-fA-F0-9]+")  # kustomize checks no length
_APPLICATION_KINDS = frozenset({"Application", "ApplicationSet"})


def _file_name(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def _is_image_list(node: Node | None) -> bool:
    """A list of mappings that each select an image by `name` (kustomize's shape)."""
    return (
        isinstance(node, SequenceNode)
        and bool(node.value)
        and all(child(entry, "name") is not None for entry in node.value)
    )


class KustomizeFinder:
    """`images:` of a Kustomization: `newName` (possibly `name:tag@digest`), `newTag`, `digest`.

    An entry with only `name` (and maybe `tagSuffix`) selects an image without setting it,
    so it is not a reference. Without `newName` the reference's name is `name`.
    """

    kind: ClassVar[str] = OccurrenceKind.KUSTOMIZE

    def find(self, document: YamlDocument) -> Iterator[Found]:
        located = kustomize_images(document)
        if located is not None:
            yield from _entries(document, *located)


def kustomize_images(document: YamlDocument) -> tuple[Node | None, YamlPath] | None:
    """The `images:` list of a Kustomization/Component (or Flux's `spec.images`) and its path.

    None when the document is not a kustomization.
    """
    if document.inner is not None:
        return None
    kind = string_value(child(document.root, "kind"))
    api = string_value(child(document.root, "apiVersion")) or ""
    if kind in KUSTOMIZATION_KINDS and api.startswith("kustomize.toolkit.fluxcd.io"):
        return child(child(document.root, "spec"), "images"), ("spec", "images")
    if kind in KUSTOMIZATION_KINDS or (
        kind is None
        and child(document.root, "apiVersion") is None
        and (
            _file_name(document.path) in KUSTOMIZATION_NAMES
            or _is_image_list(child(document.root, "images"))
        )
    ):
        return child(document.root, "images"), ("images",)
    return None


def _entries(document: YamlDocument, images: Node | None, path: YamlPath) -> Iterator[Found]:
    if not isinstance(images, SequenceNode):
        return
    for i, entry in enumerate(images.value):
        found = _entry(document, entry, (*path, i))
        if found is not None:
            yield found


def _entry(document: YamlDocument, entry: Node, path: YamlPath) -> Found | None:
    """One `images:` entry; entries kustomize would render wrongly are Skipped, not guessed."""
    fields = {key.value: (key, value) for key, value in mapping_items(entry)}
    new_name = fields.get("newName", (None, None))[1]
    tag_key, new_tag = fields.get("newTag", (None, None))
    digest = fields.get("digest", (None, None))[1]
    name = string_value(fields.get("name", (None, None))[1])
    if new_name is None and new_tag is None and digest is None:
        return None  # it only selects an image (maybe for tagSuffix)
    line = entry.start_mark.line + 1
    if new_tag is not None and digest is not None:
        return Skipped(document.path, "kustomize images entry sets both newTag and digest", line)
    if digest is not None and not _DIGEST.fullmatch(string_value(digest) or ""):
        return Skipped(document.path, f"kustomize digest {digest.value!r} is not a digest", line)
    if (string_value(new_tag) or "").startswith("sha256:"):
        return Skipped(document.path, "kustomize newTag holds a digest (use `digest:`)", line)
    new_name_text = string_value(new_name) or ""
    if new_tag is None and digest is None and any(c in new_name_text for c in ":@"):
        return whole_occurrence(document, new_name, (*path, "newName"), OccurrenceKind.KUSTOMIZE)
    fixed_tag = None
    if new_name is None and name is not None and any(c in name for c in ":@"):
        name, fixed_tag, _ = split_reference(name)  # `name: postgres:11` + `digest:`
    parts = SplitParts(
        name=new_name,
        tag=new_tag,
        digest=digest,
        tag_key=tag_key if isinstance(tag_key, ScalarNode) else None,
    )
    primary = "newTag" if new_tag is not None else "digest" if digest else "newName"
    return split_occurrence(
        document,
        parts,
        (*path, primary),
        OccurrenceKind.KUSTOMIZE,
        image=name,
        image_tag=fixed_tag,
        report_invalid=True,
    )


class ArgoCDFinder:
    """Argo CD Applications: `kustomize.images` strings (`[alias=]image:tag`) and
    `helm.parameters` pairs (`image.repository` + `image.tag`), also in `.argocd-source*.yaml`.
    """

    kind: ClassVar[str] = OccurrenceKind.KUSTOMIZE

    def find(self, document: YamlDocument) -> Iterator[Found]:
        if document.inner is not None:
            return
        kind = document.kind
        sources: list[tuple[YamlPath, Node | None]] = []
        if kind in _APPLICATION_KINDS:
            spec_path: YamlPath = (
                ("spec",) if kind == "Application" else ("spec", "template", "spec")
            )
            spec: Node | None = document.root
            for key in spec_path:
                spec = child(spec, str(key))
            sources.append(((*spec_path, "source"), child(spec, "source")))
            many = child(spec, "sources")
            if isinstance(many, SequenceNode):
                sources += [((*spec_path, "sources", i), s) for i, s in enumerate(many.value)]
        elif kind is None and (
            _file_name(document.path).startswith(".argocd-source")
            or child(child(document.root, "kustomize"), "images") is not None
            or child(child(document.root, "helm"), "parameters") is not None
        ):
            sources.append(((), document.root))  # an Argo CD write-back file
        for path, source in sources:
            yield from _kustomize_images(
                document, child(child(source, "kustomize"), "images"), path
            )
            yield from _helm_parameters(document, child(child(source, "helm"), "parameters"), path)


def _kustomize_images(
    document: YamlDocument, images: Node | None, path: YamlPath
) -> Iterator[Found]:
    if not isinstance(images, SequenceNode):
        return
    for i, node in enumerate(images.value):
        value = string_value(node)
        if value is None:
            continue
        alias, sep, _ = value.partition("=")
        skip = len(alias) + 1 if sep else 0
        found = whole_occurrence(
            document,
            node,
            (*path, "kustomize", "images", i),
            OccurrenceKind.KUSTOMIZE,
            skip_prefix=skip,
            report_invalid=True,
        )
        if found is not None:
            yield found


def _helm_parameters(
    document: YamlDocument, params: Node | None, path: YamlPath
) -> Iterator[Found]:
    if not isinstance(params, SequenceNode):
        return
    groups: dict[str, dict[str, tuple[int, Node | None]]] = {}
    for i, param in enumerate(params.value):
        name = string_value(child(param, "name")) or ""
        prefix, _, last = name.rpartition(".")
        if last in ("repository", "tag", "registry", "digest"):
            groups.setdefault(prefix, {})[last] = (i, child(param, "value"))
    for group in groups.values():
        if "repository" not in group or "tag" not in group:
            continue  # a tag alone names no image: declare it as a target in the config
        index, _ = group["tag"]
        parts = SplitParts(
            registry=group.get("registry", (0, None))[1],
            name=group["repository"][1],
            tag=group["tag"][1],
            digest=group.get("digest", (0, None))[1],
        )
        found = split_occurrence(
            document,
            parts,
            (*path, "helm", "parameters", index, "value"),
            OccurrenceKind.HELM_VALUES,
        )
        if found is not None:
            yield found
