"""CI pipeline files, each its own kind: GitHub Actions, GitLab CI, Woodpecker and Drone.

A CI file is known by its path (`.github/workflows/*.yml`, `.gitlab-ci.yml`,
`.woodpecker/*.yaml`, `.drone.yml`) or its shape (`on` + `jobs` whose jobs run somewhere, a
Drone `kind: pipeline`). Only the fields those tools run as containers are references:

* GitHub Actions: `jobs.<id>.container` (a string or its `image`), `jobs.<id>.services.<id>`
  (`image`), `docker://` steps (`uses: docker://alpine:3.20`), and `runs.image` of a Docker
  action (`action.yml`);
* GitLab CI: `image` and `services` (strings or their `name`) at the top, under `default`, and
  in every job (hidden `.templates` too);
* Woodpecker: `image` of `steps`, `pipeline`, `services` and `clone` entries (lists or maps);
* Drone: `image` of `steps` and `services` in each `kind: pipeline` document.

`find_in_text` gives a CI file to these finders only (and to setter markers and config
targets), so turning CI files off leaves them entirely alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from image_bot.edit.refs import Found, whole_occurrence
from image_bot.edit.yaml.document import YamlDocument, child, mapping_items, string_value
from image_bot.model import OccurrenceKind
from image_bot.yaml_path import YamlPath

__all__ = [
    "CI_KINDS",
    "DroneFinder",
    "GitHubActionsFinder",
    "GitLabCIFinder",
    "WoodpeckerFinder",
    "ci_kind",
]

CI_KINDS = frozenset(
    {
        OccurrenceKind.GITHUB_ACTIONS,
        OccurrenceKind.GITLAB_CI,
        OccurrenceKind.WOODPECKER,
        OccurrenceKind.DRONE,
    }
)
# by path: one search tells which CI system (the group that matched)
_BY_PATH = re.compile(
    r"(?P<github>(?:^|/)\.(?:github|gitea|forgejo)/workflows/[^/]+\.ya?ml$)"
    r"|(?P<gitlab>(?:^|/)(?:[^/]*\.)?gitlab-ci\.ya?ml$|(?:^|/)\.gitlab(?:-ci|/ci)/.+\.ya?ml$)"
    r"|(?P<woodpecker>(?:^|/)\.woodpecker(?:\.ya?ml|/[^/]+\.ya?ml)$)"
    r"|(?P<drone>(?:^|/)\.drone\.ya?ml$)"
    r"|(?P<action>(?:^|/)action\.ya?ml$)"
)
_PATH_HINTS = (
    ".git",
    "gitlab-ci",
    ".woodpecker",
    ".drone",
    ".forgejo",
    "action.",
)  # cheap first look
_SHAPE_KEYS = frozenset({"on", "jobs", "runs", "kind", "apiVersion"})
_PATH_KINDS = {
    "github": OccurrenceKind.GITHUB_ACTIONS,
    "gitlab": OccurrenceKind.GITLAB_CI,
    "woodpecker": OccurrenceKind.WOODPECKER,
    "drone": OccurrenceKind.DRONE,
}
_DOCKER_STEP = "docker://"
# top-level GitLab CI keys that are not jobs
_GITLAB_GLOBALS = frozenset(
    {"default", "include", "stages", "variables", "workflow", "image", "services", "cache"}
    | {"before_script", "after_script", "spec"}
)


def ci_kind(document: YamlDocument) -> OccurrenceKind | None:
    """The CI system `document` configures, by path or shape; None for other files."""
    root = document.root
    if document.inner is not None or not isinstance(root, MappingNode):
        return None
    path = document.path
    matched = _BY_PATH.search(path) if any(hint in path for hint in _PATH_HINTS) else None
    group = matched.lastgroup if matched else None
    if group in _PATH_KINDS:
        return _PATH_KINDS[group]
    keys: dict[str, Node] = {}
    for key, value in root.value:
        if isinstance(key, ScalarNode) and key.value in _SHAPE_KEYS:
            keys[key.value] = value
    if not keys:
        return None
    if group == "action" and string_value(child(keys.get("runs"), "using")) in ("docker", "Docker"):
        return OccurrenceKind.GITHUB_ACTIONS
    if "on" in keys and _runs_jobs(keys.get("jobs")):
        return OccurrenceKind.GITHUB_ACTIONS
    if "apiVersion" not in keys and string_value(keys.get("kind")) == "pipeline":
        return OccurrenceKind.DRONE
    return None


def _runs_jobs(jobs: Node | None) -> bool:
    """Jobs that have `runs-on` or `steps` (a GitHub Actions workflow anywhere)."""
    return isinstance(jobs, MappingNode) and any(
        child(job, "runs-on") is not None or child(job, "steps") is not None
        for _, job in mapping_items(jobs)
    )


def _image(
    document: YamlDocument, node: Node | None, path: YamlPath, kind: OccurrenceKind, skip: int = 0
) -> Iterator[Found]:
    found = whole_occurrence(document, node, path, kind, skip_prefix=skip, report_invalid=True)
    if found is not None:
        yield found


def _named(node: Node | None) -> Iterator[tuple[str | int, Node]]:
    """Entries of a map (by key) or a list (by position)."""
    if isinstance(node, MappingNode):
        for key, value in mapping_items(node):
            yield key.value, value
    elif isinstance(node, SequenceNode):
        yield from enumerate(node.value)


class GitHubActionsFinder:
    """Job containers, service containers and `docker://` steps of GitHub Actions."""

    kind: ClassVar[str] = OccurrenceKind.GITHUB_ACTIONS

    def find(self, document: YamlDocument) -> Iterator[Found]:
        if ci_kind(document) is not OccurrenceKind.GITHUB_ACTIONS:
            return
        kind = OccurrenceKind.GITHUB_ACTIONS
        runs = child(document.root, "runs")
        image = string_value(child(runs, "image")) or ""
        if image.startswith(_DOCKER_STEP):
            skip = len(_DOCKER_STEP)
            yield from _image(document, child(runs, "image"), ("runs", "image"), kind, skip)
        for job_id, job in mapping_items(child(document.root, "jobs")):
            here: YamlPath = ("jobs", job_id.value)
            container = child(job, "container")
            if isinstance(container, ScalarNode):
                yield from _image(document, container, (*here, "container"), kind)
            else:
                node = child(container, "image")
                yield from _image(document, node, (*here, "container", "image"), kind)
            for name, service in _named(child(job, "services")):
                node = service if isinstance(service, ScalarNode) else child(service, "image")
                yield from _image(document, node, (*here, "services", name, "image"), kind)
            for i, step in _named(child(job, "steps")):
                uses = child(step, "uses")
                if (string_value(uses) or "").startswith(_DOCKER_STEP):
                    path = (*here, "steps", i, "uses")
                    yield from _image(document, uses, path, kind, len(_DOCKER_STEP))


class GitLabCIFinder:
    """`image` and `services` of a GitLab CI file: top level, `default`, every job."""

    kind: ClassVar[str] = OccurrenceKind.GITLAB_CI

    def find(self, document: YamlDocument) -> Iterator[Found]:
        if ci_kind(document) is not OccurrenceKind.GITLAB_CI:
            return
        root = document.root
        yield from self._job(document, root, ())
        yield from self._job(document, child(root, "default"), ("default",))
        for key, job in mapping_items(root):
            if key.value not in _GITLAB_GLOBALS and isinstance(job, MappingNode):
                yield from self._job(document, job, (key.value,))

    @staticmethod
    def _job(document: YamlDocument, job: Node | None, here: YamlPath) -> Iterator[Found]:
        kind = OccurrenceKind.GITLAB_CI
        image = child(job, "image")
        if isinstance(image, MappingNode):
            yield from _image(document, child(image, "name"), (*here, "image", "name"), kind)
        else:
            yield from _image(document, image, (*here, "image"), kind)
        services = child(job, "services")
        for i, service in _named(services if isinstance(services, SequenceNode) else None):
            if isinstance(service, MappingNode):
                node = child(service, "name")
                yield from _image(document, node, (*here, "services", i, "name"), kind)
            else:
                yield from _image(document, service, (*here, "services", i), kind)


class WoodpeckerFinder:
    """`image` of each step and service of a Woodpecker pipeline."""

    kind: ClassVar[str] = OccurrenceKind.WOODPECKER

    def find(self, document: YamlDocument) -> Iterator[Found]:
        if ci_kind(document) is OccurrenceKind.WOODPECKER:
            yield from _steps(document, ("steps", "pipeline", "services", "clone"), self.kind)


class DroneFinder:
    """`image` of each step and service of a Drone `kind: pipeline` document."""

    kind: ClassVar[str] = OccurrenceKind.DRONE

    def find(self, document: YamlDocument) -> Iterator[Found]:
        if ci_kind(document) is OccurrenceKind.DRONE:
            yield from _steps(document, ("steps", "services"), self.kind)


def _steps(document: YamlDocument, sections: tuple[str, ...], kind: str) -> Iterator[Found]:
    for section in sections:
        for name, step in _named(child(document.root, section)):
            path = (section, name, "image")
            yield from _image(document, child(step, "image"), path, OccurrenceKind(kind))
