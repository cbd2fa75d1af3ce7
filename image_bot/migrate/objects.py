"""Kubernetes objects read from a file or a directory of manifests, for the importers.

Only what an importer needs: kind, apiVersion, name, namespace and the raw mapping. Files
that cannot be read or parsed are reported (`Note`), never fatal. Reading is bounded: file
size, number of files, and links that lead outside the directory are not followed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from image_bot.migrate.result import Note
from image_bot.yaml_errors import describe_yaml_error

__all__ = ["KubeObject", "field", "mapping", "read_objects", "text"]

_SUFFIXES = (".yaml", ".yml")
_SKIPPED_DIRS = frozenset({".git", ".hg", ".svn", "node_modules"})
MAX_FILE_BYTES = 2_000_000
MAX_FILES = 20_000


@dataclass(frozen=True, slots=True)
class KubeObject:
    """One object of a manifest: its identity and its data as parsed."""

    api_version: str
    kind: str
    name: str
    namespace: str | None
    data: Mapping[str, object]
    path: str  # where it was read, relative to the directory given

    @property
    def group(self) -> str:
        """The API group: `image.toolkit.fluxcd.io` of `image.toolkit.fluxcd.io/v1`."""
        return self.api_version.rpartition("/")[0]

    @property
    def version(self) -> str:
        """The API version: `v1` of `image.toolkit.fluxcd.io/v1`."""
        return self.api_version.rpartition("/")[2]

    @property
    def ref(self) -> str:
        """`Kind namespace/name` (or `Kind name`), as notes name it."""
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind} {where}"

    @property
    def spec(self) -> Mapping[str, object]:
        """`.spec`, or an empty mapping."""
        return mapping(self.data.get("spec"))


def mapping(value: object) -> Mapping[str, object]:
    """`value` if it is a mapping with text keys, else an empty one."""
    if isinstance(value, Mapping) and all(isinstance(key, str) for key in value):
        return value
    return {}


def field(data: Mapping[str, object], *path: str) -> object:
    """`data[path[0]][path[1]]...`, or None where the way breaks."""
    node: object = data
    for key in path:
        node = mapping(node).get(key)
    return node


def text(data: Mapping[str, object], *path: str) -> str | None:
    """The scalar at `path` as text (`true` -> `true`, `5` -> `5`), or None."""
    value = field(data, *path)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return None


def _files(root: Path) -> Iterator[Path]:
    if root.is_file():
        yield root
        return
    top = root.resolve()
    for directory, subdirectories, names in os.walk(root):
        subdirectories[:] = sorted(d for d in subdirectories if d not in _SKIPPED_DIRS)
        for name in sorted(names):
            if name.endswith(_SUFFIXES):
                path = Path(directory) / name
                if path.resolve().is_relative_to(top):
                    yield path


def read_objects(root: Path) -> tuple[list[KubeObject], list[Note]]:
    """Every object with `kind` and `metadata.name` in the YAML files under `root` (or in
    the file `root`), in path order; notes for what could not be read."""
    objects: list[KubeObject] = []
    notes: list[Note] = []
    for count, path in enumerate(_files(root)):
        shown = path.name if root.is_file() else path.relative_to(root).as_posix()
        if count >= MAX_FILES:
            notes.append(Note(str(root), f"more than {MAX_FILES} files: the rest were not read"))
            break
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                notes.append(Note(shown, f"larger than {MAX_FILE_BYTES} bytes: not read"))
                continue
            documents = list(YAML(typ="safe", pure=True).load_all(path.read_text("utf-8")))
        except (OSError, UnicodeDecodeError) as error:
            notes.append(Note(shown, f"cannot read: {getattr(error, 'strerror', None) or error}"))
            continue
        except YAMLError as error:
            problem = describe_yaml_error(error)
            where = f"{shown}:{problem.line}" if problem.line else shown
            notes.append(Note(where, f"not valid YAML: {problem.reason}"))
            continue
        objects.extend(_objects(documents, shown))
    return objects, notes


def _objects(documents: list[object], shown: str) -> Iterator[KubeObject]:
    for document in documents:
        data = mapping(document)
        kind, version = text(data, "kind"), text(data, "apiVersion")
        name = text(data, "metadata", "name")
        if kind and version and name:
            namespace = text(data, "metadata", "namespace")
            yield KubeObject(version, kind, name, namespace, data, shown)
