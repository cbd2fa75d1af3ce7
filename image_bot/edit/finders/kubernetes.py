"""Pod templates: containers, initContainers, ephemeralContainers and image volumes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ruamel.yaml.nodes import Node, SequenceNode

from image_bot.edit.refs import Found, whole_occurrence
from image_bot.edit.yaml.document import YamlDocument, child
from image_bot.model import OccurrenceKind
from image_bot.yaml_path import YamlPath

__all__ = ["KubernetesFinder", "pod_spec_paths"]

CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")
# where the pod spec sits, by kind; any other object with `spec.template.spec` is tried too
_POD_SPEC_PATHS: dict[str, YamlPath] = {
    "Pod": ("spec",),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "PodTemplate": ("template", "spec"),
}
_TEMPLATE_SPEC: YamlPath = ("spec", "template", "spec")


def pod_spec_paths(kind: str | None) -> tuple[YamlPath, ...]:
    """Where a document of `kind` keeps its pod specs."""
    known = _POD_SPEC_PATHS.get(kind or "")
    return (known,) if known else (_TEMPLATE_SPEC,)


def _at(node: Node | None, path: YamlPath) -> Node | None:
    for key in path:
        node = child(node, str(key))
    return node


class KubernetesFinder:
    """`image:` of every container of a pod template, and `volumes[].image.reference`."""

    kind: ClassVar[str] = OccurrenceKind.POD_SPEC

    def find(self, document: YamlDocument) -> Iterator[Found]:
        if document.kind is None:
            return
        for spec_path in pod_spec_paths(document.kind):
            spec = _at(document.root, spec_path)
            if spec is None:
                continue
            for list_name in CONTAINER_LISTS:
                containers = child(spec, list_name)
                if not isinstance(containers, SequenceNode):
                    continue
                for i, container in enumerate(containers.value):
                    path = (*spec_path, list_name, i, "image")
                    found = whole_occurrence(
                        document,
                        child(container, "image"),
                        path,
                        OccurrenceKind.POD_SPEC,
                        report_invalid=True,
                    )
                    if found is not None:
                        yield found
            volumes = child(spec, "volumes")
            if isinstance(volumes, SequenceNode):
                for i, volume in enumerate(volumes.value):
                    node = child(child(volume, "image"), "reference")
                    path = (*spec_path, "volumes", i, "image", "reference")
                    found = whole_occurrence(
                        document, node, path, OccurrenceKind.POD_SPEC, report_invalid=True
                    )
                    if found is not None:
                        yield found
