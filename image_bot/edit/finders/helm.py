"""Helm values: `image:` strings and split {registry, repository, tag, digest} at any depth.

The same walk finds `image`/`*Image` fields in any other object (CRs), kind `image-field`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode

from image_bot.edit.finders.kubernetes import pod_spec_paths
from image_bot.edit.refs import Found, SplitParts, split_occurrence, whole_occurrence
from image_bot.edit.yaml.document import YamlDocument, child, mapping_items, string_value, walk
from image_bot.model import OccurrenceKind
from image_bot.yaml_path import YamlPath

__all__ = ["HelmValuesFinder", "ImageFieldFinder", "find_in_tree"]

# Objects whose image fields are not deployed references: what to scan, or an update rule.
NOT_DEPLOYED = frozenset(
    {"ImageRepository", "ImagePolicy", "ImageUpdateAutomation", "ImageUpdater"}
)
# Built-in workloads hold images only in their pod template, which KubernetesFinder reads.
WORKLOADS = frozenset(
    {"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController"}
    | {"Job", "CronJob", "PodTemplate"}
)
_TAG_KEYS = ("tag", "imageTag")
_DIGEST_KEYS = ("digest", "sha")


def _values_roots(document: YamlDocument) -> list[tuple[YamlPath, Node]]:
    """Where Helm values live in `document`: all of it, or inside a HelmRelease/Application."""
    kind = document.kind
    if kind is None:
        is_compose = child(document.root, "services") is not None
        return [] if is_compose and document.inner is None else [((), document.root)]
    roots: list[tuple[YamlPath, Node]] = []
    if kind == "HelmRelease":
        values = child(child(document.root, "spec"), "values")
        if values is not None:
            roots.append((("spec", "values"), values))
    elif kind in ("Application", "ApplicationSet"):
        spec_path: YamlPath = ("spec",) if kind == "Application" else ("spec", "template", "spec")
        spec: Node | None = document.root
        for key in spec_path:
            spec = child(spec, str(key))
        source_path = (*spec_path, "source", "helm", "valuesObject")
        values = child(child(child(spec, "source"), "helm"), "valuesObject")
        if values is not None:
            roots.append((source_path, values))
    return roots


class HelmValuesFinder:
    """Values files (no `kind`), HelmRelease `spec.values`, Argo CD `helm.valuesObject`."""

    kind: ClassVar[str] = OccurrenceKind.HELM_VALUES

    def find(self, document: YamlDocument) -> Iterator[Found]:
        for path, root in _values_roots(document):
            yield from find_in_tree(document, root, path, OccurrenceKind.HELM_VALUES)


class ImageFieldFinder:
    """`image`, `*Image`, `*-image`, `imageName` fields and image mappings of other objects."""

    kind: ClassVar[str] = OccurrenceKind.IMAGE_FIELD

    def find(self, document: YamlDocument) -> Iterator[Found]:
        kind = document.kind
        if kind is None or kind in NOT_DEPLOYED:
            return
        if kind not in WORKLOADS:
            yield from find_in_tree(document, document.root, (), OccurrenceKind.IMAGE_FIELD)
            return
        for spec_path in pod_spec_paths(kind):  # only volumes are left to look at
            volumes: Node | None = document.root
            for key in (*spec_path, "volumes"):
                volumes = child(volumes, str(key))
            if volumes is not None:
                path = (*spec_path, "volumes")
                yield from find_in_tree(document, volumes, path, OccurrenceKind.IMAGE_FIELD)


def _is_image_key(key: str) -> bool:
    if "mage" not in key and "MAGE" not in key:  # a cheap first look
        return False
    lower = key.lower()
    return lower.endswith(("image", "imagename")) and lower != "pullimage"


def _may_split(keys: list[str], key: str) -> bool:
    """Whether `_split` could find a reference: the name keys it accepts are there."""
    if "repository" in keys or "image" in keys:
        return True
    return ("name" in keys or "repo" in keys) and "image" in key.lower()


def find_in_tree(
    document: YamlDocument, root: Node, path: YamlPath, kind: OccurrenceKind
) -> Iterator[Found]:
    """Every image string and split image mapping under `root`, in document order."""
    for here, node in walk(root, path):
        if not isinstance(node, MappingNode):
            continue
        keys = [key.value for key, _ in node.value if isinstance(key, ScalarNode)]
        key = here[-1] if here and isinstance(here[-1], str) else ""
        if _may_split(keys, key):
            split = _split(document, node, here, key, kind)
            if split is not None:
                yield split
                continue
        joined = "\n".join(keys)  # one look for `image` in any key, most mappings have none
        if ("mage" not in joined and "MAGE" not in joined) or not any(map(_is_image_key, keys)):
            continue
        for key_node, value in mapping_items(node):
            if not isinstance(value, ScalarNode) or not _is_image_key(key_node.value):
                continue
            text = string_value(value) or ""
            exact = key_node.value == "image"
            if not exact and not any(c in text for c in ":@/"):
                continue  # `fooImage: bar` is too vague to be a reference
            if key_node.value == "image" and _has_tag_sibling(node):
                continue  # `image: repo` + `tag: x` is a split reference, handled above
            found = whole_occurrence(
                document, value, (*here, key_node.value), kind, report_invalid=exact and bool(text)
            )
            if found is not None:
                yield found


def _has_tag_sibling(node: MappingNode) -> bool:
    return any(child(node, key) is not None for key in _TAG_KEYS)


def _split(
    document: YamlDocument, node: MappingNode, here: YamlPath, key: str, kind: OccurrenceKind
) -> Found | None:
    """A mapping that spells a reference in parts, or None."""
    fields = {k.value: (k, v) for k, v in mapping_items(node)}
    image_context = "image" in key.lower()
    name_key = None
    if "repository" in fields and isinstance(fields["repository"][1], ScalarNode):
        name_key = "repository"
    elif (
        "image" in fields and isinstance(fields["image"][1], ScalarNode) and _has_tag_sibling(node)
    ):
        name_key = "image"
    elif image_context and _has_tag_sibling(node):
        name_key = next((k for k in ("name", "repo") if k in fields), None)
    if name_key is None:
        return None
    tag_key = next((k for k in _TAG_KEYS if k in fields), None)
    if tag_key is None and image_context and "version" in fields:
        tag_key = "version"
    digest_key = next((k for k in _DIGEST_KEYS if k in fields), None)
    if tag_key is None and digest_key is None and "registry" not in fields and not image_context:
        return None
    name_text = string_value(fields[name_key][1]) or ""
    if name_key == "image" and any(c in name_text for c in ":@"):
        return None
    tag_pair = fields.get(tag_key) if tag_key else None
    parts = SplitParts(
        registry=fields["registry"][1] if "registry" in fields else None,
        name=fields[name_key][1],
        tag=tag_pair[1] if tag_pair else None,
        digest=fields[digest_key][1] if digest_key else None,
        tag_key=tag_pair[0] if tag_pair else None,
    )
    primary = tag_key or digest_key or name_key
    return split_occurrence(document, parts, (*here, primary), kind, report_invalid=image_context)
