"""Stages of one repository (frozen settings from the config) and the graph they form.

A stage holds the files under its `paths`: a directory (`envs/dev`: every file below it) or a
glob (`envs/*/dev`, `clusters/**/prod.yaml`: matching files, and the files below matching
directories). No file belongs to two stages. A stage with `promote_from` takes its versions
from those upstream stages; the others (the first stages) from the registry, as without stages.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from fnmatch import fnmatchcase

from image_bot.edit.globs import glob_match
from image_bot.promote.calendar import Calendar

__all__ = [
    "Bundle",
    "Require",
    "Stage",
    "StageGraph",
    "graph_problems",
    "holds_path",
    "paths_overlap",
]

_GLOB_CHARS = frozenset("*?[")
Problem = tuple[tuple[str | int, ...], str]  # (location below `stages`, message)


class Require(StrEnum):
    """With several upstream stages: promote what all of them run, or what any of them runs."""

    ALL = "all"
    ANY = "any"


class Bundle(StrEnum):
    """What travels together: the images one upstream merge changed, or each image alone."""

    MERGE = "merge"
    IMAGE = "image"


@dataclass(frozen=True, slots=True)
class Stage:
    """One environment: its files, where its versions come from, and its gates."""

    name: str
    paths: tuple[str, ...]
    promote_from: tuple[str, ...] = ()
    require: Require = Require.ALL
    bundle: Bundle = Bundle.MERGE
    soak: timedelta | None = None
    checks: bool = False  # the upstream merge commit's checks must be green
    calendar: Calendar = field(default_factory=Calendar)
    hold: str | None = None  # why promotions into it are held (None: not held)
    automerge: bool | None = None  # None: the repository's pull_request.automerge

    @property
    def promoted(self) -> bool:
        """True when its versions come from upstream stages, not from the registry."""
        return bool(self.promote_from)

    def holds(self, path: str) -> bool:
        """Whether the repository file `path` belongs to this stage."""
        return any(holds_path(pattern, path) for pattern in self.paths)


def _is_glob(pattern: str) -> bool:
    return any(char in _GLOB_CHARS for char in pattern)


def _clean(pattern: str) -> str:
    return pattern.removeprefix("./").rstrip("/") or "."


def holds_path(pattern: str, path: str) -> bool:
    """Whether `path` is `pattern`, under the directory `pattern`, or matches the glob."""
    pattern = _clean(pattern)
    if pattern == ".":
        return True
    if _is_glob(pattern):
        return glob_match(path, pattern) or glob_match(path, f"{pattern}/**")
    return path == pattern or path.startswith(f"{pattern}/")


def _segments_meet(a: str, b: str) -> bool:
    if a == b or "**" in (a, b):
        return True
    if _is_glob(a) and _is_glob(b):
        return True  # two patterns: assume some name matches both
    if _is_glob(a):
        return fnmatchcase(b, a)
    if _is_glob(b):
        return fnmatchcase(a, b)
    return False


def paths_overlap(a: str, b: str) -> bool:
    """Whether some file could belong to both patterns (conservative for two globs)."""
    left, right = _clean(a), _clean(b)
    if "." in (left, right):
        return True
    first, second = left.split("/"), right.split("/")
    for x, y in zip(first, second, strict=False):
        if "**" in (x, y):
            return True
        if not _segments_meet(x, y):
            return False
    return True  # one is a prefix of the other: a directory holding the other's files


@dataclass(frozen=True, slots=True)
class StageGraph:
    """The stages of one repository in the order the config lists them."""

    stages: tuple[Stage, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.stages)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(stage.name for stage in self.stages)

    def get(self, name: str) -> Stage:
        """The stage called `name` (KeyError when there is none)."""
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise KeyError(name)

    def stage_of(self, path: str) -> Stage | None:
        """The stage holding the file `path`, if any."""
        return next((stage for stage in self.stages if stage.holds(path)), None)

    def upstreams(self, stage: Stage) -> tuple[Stage, ...]:
        """The stages `stage` promotes from, in its `promote_from` order."""
        return tuple(self.get(name) for name in stage.promote_from)

    def promoted(self) -> Iterator[Stage]:
        """The stages that take their versions from upstream stages."""
        return (stage for stage in self.stages if stage.promoted)


def graph_problems(stages: Sequence[Stage]) -> list[Problem]:
    """What is wrong with a list of stages: duplicate names, unknown or own upstreams, cycles,
    overlapping paths. Each problem names its location below `stages`."""
    problems: list[Problem] = []
    index_of: dict[str, int] = {}
    for index, stage in enumerate(stages):
        if stage.name in index_of:
            problems.append(((index, "name"), f"stage {stage.name!r} is listed twice"))
        index_of.setdefault(stage.name, index)
    for index, stage in enumerate(stages):
        for position, upstream in enumerate(stage.promote_from):
            where = (index, "promote_from", position)
            if upstream == stage.name:
                problems.append((where, f"stage {stage.name!r} cannot promote from itself"))
            elif upstream not in index_of:
                known = ", ".join(name for name in index_of if name != stage.name) or "none"
                problems.append((where, f"unknown upstream stage {upstream!r} (stages: {known})"))
    problems += _cycles(stages, index_of)
    problems += _overlaps(stages)
    return problems


def _cycles(stages: Sequence[Stage], index_of: dict[str, int]) -> list[Problem]:
    upstreams = {
        stage.name: [u for u in stage.promote_from if u in index_of and u != stage.name]
        for stage in stages
    }
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    problems: list[Problem] = []

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for upstream in upstreams.get(name, []):
            if state.get(upstream) == 1:
                loop = [*path[path.index(upstream) :], upstream]
                index = index_of[name]
                where = (index, "promote_from", stages[index].promote_from.index(upstream))
                problems.append((where, "stages promote in a cycle: " + " <- ".join(loop)))
            elif upstream not in state:
                visit(upstream, [*path, upstream])
        state[name] = 2

    for stage in stages:
        if stage.name not in state:
            visit(stage.name, [stage.name])
    return problems


def _overlaps(stages: Sequence[Stage]) -> list[Problem]:
    problems: list[Problem] = []
    for index, stage in enumerate(stages):
        for position, pattern in enumerate(stage.paths):
            for other in stages[:index]:
                clash = next((p for p in other.paths if paths_overlap(pattern, p)), None)
                if clash is not None:
                    problems.append(
                        (
                            (index, "paths", position),
                            f"{pattern!r} overlaps {clash!r} of stage {other.name!r}:"
                            " a file belongs to one stage only",
                        )
                    )
    return problems
