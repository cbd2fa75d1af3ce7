"""Config-declared targets: a file glob plus a YAML path to a field that holds an image or tag."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import ClassVar

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from image_bot.edit.globs import glob_match
from image_bot.edit.refs import Found, SplitParts, split_occurrence, whole_occurrence
from image_bot.edit.yaml.document import YamlDocument, mapping_items
from image_bot.errors import ConfigError
from image_bot.model import OccurrenceKind, Part
from image_bot.yaml_path import YamlPath, parse_yaml_path

__all__ = ["CustomFinder", "CustomTarget", "parse_path"]


@dataclass(frozen=True, slots=True)
class CustomTarget:
    """A config-declared field that holds (part of) an image reference.

    `files` is a glob relative to the root, `path` a dotted YAML path (`spec.image`,
    `spec.versions[*].tag`, `metadata.annotations["x/y"]`), `image` the image the value
    belongs to when it holds only a tag (`part=TAG`).
    """

    files: str
    path: str
    image: str | None = None
    part: Part = Part.WHOLE

    def __post_init__(self) -> None:
        if self.part not in (Part.WHOLE, Part.TAG):
            raise ConfigError("a target holds a whole reference or a tag", field="part")
        if self.part is Part.TAG and not self.image:
            raise ConfigError("a tag-only target needs `image`", field="image")
        parse_path(self.path)


def parse_path(path: str) -> tuple[str | int | None, ...]:
    """`spec.containers[*].image` -> ('spec', 'containers', None, 'image'); None is `[*]`."""
    try:
        return parse_yaml_path(path)
    except ValueError as error:
        raise ConfigError(str(error), field="path") from None


def _resolve(
    node: Node, steps: tuple[str | int | None, ...], here: YamlPath
) -> Iterator[tuple[YamlPath, Node]]:
    if not steps:
        yield here, node
        return
    step, rest = steps[0], steps[1:]
    if isinstance(step, str) and isinstance(node, MappingNode):
        for key, value in mapping_items(node):
            if key.value == step:
                yield from _resolve(value, rest, (*here, step))
    elif isinstance(node, SequenceNode) and not isinstance(step, str):
        for i, item in enumerate(node.value):
            if step is None or step == i:
                yield from _resolve(item, rest, (*here, i))
    elif step is None and isinstance(node, MappingNode):
        for key, value in mapping_items(node):
            yield from _resolve(value, rest, (*here, key.value))


class CustomFinder:
    """The fields named by the config's targets, in the files their globs match."""

    kind: ClassVar[str] = OccurrenceKind.CUSTOM

    def __init__(self, targets: Sequence[CustomTarget]) -> None:
        self.targets = tuple((target, parse_path(target.path)) for target in targets)

    def find(self, document: YamlDocument) -> Iterator[Found]:
        if document.inner is not None:
            return
        for target, steps in self.targets:
            if not glob_match(document.path, target.files):
                continue
            for path, node in _resolve(document.root, steps, ()):
                if not isinstance(node, ScalarNode):
                    continue
                found: Found | None
                if target.part is Part.TAG:
                    parts = SplitParts(tag=node)
                    found = split_occurrence(
                        document, parts, path, OccurrenceKind.CUSTOM, image=target.image
                    )
                else:
                    found = whole_occurrence(
                        document, node, path, OccurrenceKind.CUSTOM, report_invalid=True
                    )
                if found is not None:
                    yield found
