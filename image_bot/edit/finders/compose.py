"""Compose files: `services.*.image`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from image_bot.edit.refs import Found, whole_occurrence
from image_bot.edit.yaml.document import YamlDocument, child, mapping_items
from image_bot.edit.yaml.spans import MERGE_TAG
from image_bot.model import OccurrenceKind, Skipped

__all__ = ["ComposeFinder"]


class ComposeFinder:
    """`image:` of each service of a Compose file (a top-level `services` mapping, no `kind`).

    A service with `build:` names the image it builds there: not one to update.
    """

    kind: ClassVar[str] = OccurrenceKind.COMPOSE

    def find(self, document: YamlDocument) -> Iterator[Found]:
        if document.inner is not None or child(document.root, "kind") is not None:
            return
        for key, service in mapping_items(child(document.root, "services")):
            path = ("services", key.value, "image")
            image = _merged_image(service)
            if image is not None and child(service, "build") is not None:
                line = image.start_mark.line + 1
                yield Skipped(document.path, "the service builds this image (`build:`)", line)
                continue
            found = whole_occurrence(
                document, image, path, OccurrenceKind.COMPOSE, report_invalid=True
            )
            if found is not None:
                yield found


def _merged_image(service: Node, depth: int = 0) -> Node | None:
    """The service's `image`, or the one it takes from `<<: *defaults` merge keys."""
    image = child(service, "image")
    if image is not None or not isinstance(service, MappingNode) or depth > 8:
        return image
    for key, value in service.value:
        if isinstance(key, ScalarNode) and key.tag == MERGE_TAG:
            sources = value.value if isinstance(value, SequenceNode) else [value]
            for source in sources:
                found = _merged_image(source, depth + 1)
                if found is not None:
                    return found
    return None
