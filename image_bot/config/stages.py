"""Environments as stages of one repository (`repositories[].stages`): paths, upstreams, gates.

The graph is checked when the repository is validated (unknown upstream, a cycle, paths two
stages share, a window that never opens), and each problem names the field it is about
(`repositories[0].stages[2].promote_from[0]`) through the error's `at` (see `errors.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from image_bot.config.fields import BranchSafe, RepoPath, Section
from image_bot.config.policy import Duration
from image_bot.promote.calendar import (
    Calendar,
    Window,
    freeze_between,
    parse_days,
    parse_hours,
    zone,
)
from image_bot.promote.stages import (
    Bundle,
    Require,
    Stage,
    StageGraph,
    graph_problems,
    paths_overlap,
)

__all__ = [
    "FORGES_WITH_CHECKS",
    "FreezeSpec",
    "StageSpec",
    "WindowSpec",
    "check_stages",
    "located",
    "stage_graph",
]

FORGES_WITH_CHECKS = frozenset({"github", "gitlab"})
"""The forge types whose kind `reports_checks` (config cannot import the plug-in table; a
contract test keeps the two equal)."""

StageName = Annotated[
    BranchSafe,  # it names branches: `<prefix>promote/<stage>`, `<prefix><stage>/<image>`
    Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=63),
]


def located(message: str, at: tuple[str | int, ...]) -> PydanticCustomError:
    """A validation error about the field at `at` below the model that raises it."""
    return PydanticCustomError("located", "{message}", {"message": message, "at": at})


class WindowSpec(Section):
    """When promotions into a stage may open: days and hours in a timezone."""

    days: str = "*"
    """Days: `mon-thu`, `mon,wed,fri`, `fri-mon`, `weekdays`, `weekends`, `*`."""
    hours: str = "*"
    """Hours: `09:00-16:00`, `09:00-12:00,14:00-16:00`, `22:00-02:00` (over midnight), `*`."""
    timezone: str = "UTC"
    """A zoneinfo timezone: `Europe/Berlin`, `America/New_York`, `UTC`."""

    @field_validator("days")
    @classmethod
    def _days_parse(cls, value: str) -> str:
        parse_days(value)
        return value

    @field_validator("hours")
    @classmethod
    def _hours_parse(cls, value: str) -> str:
        parse_hours(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        zone(value)
        return value

    def settings(self) -> Window:
        """The frozen window `promote` evaluates."""
        text = f"{self.days} {self.hours} {self.timezone}".replace("* *", "always")
        return Window(parse_days(self.days), parse_hours(self.hours), self.timezone, text)


class FreezeSpec(Section):
    """A range of dates (or times) with no promotion into the stage."""

    start: date | datetime
    """First day (`2026-12-20`) or moment (`2026-12-20T18:00:00`) of the freeze."""
    end: date | datetime
    """Last day of the freeze (inclusive), or the moment it ends."""
    reason: str = ""
    """Shown while it holds promotions back: `year-end freeze`."""

    @model_validator(mode="after")
    def _ends_after_start(self) -> FreezeSpec:
        freeze = freeze_between(self.start, self.end, "UTC")
        if freeze.end <= freeze.start:
            raise located("ends before it starts", ("end",))
        return self


class StageSpec(Section):
    """One environment of the repository: its paths, where its versions come from, its gates."""

    name: StageName
    """The stage's name (`dev`, `staging`, `prod`): letters, digits, `.`, `_`, `-`."""
    paths: tuple[RepoPath, ...] = Field(min_length=1)
    """Directories (`envs/dev`) or globs (`clusters/*/prod`) holding its manifests."""
    promote_from: tuple[str, ...] = ()
    """Upstream stages it takes versions from (tag and digest as they run there); none: the
    registry, through the image policies."""
    require: Literal["all", "any"] = "all"
    """With several upstreams: promote what `all` of them run (the same version), or `any`."""
    bundle: Literal["merge", "image"] = "merge"
    """`merge`: one pull request per hop, images that one upstream merge changed wait for each
    other; `image`: one pull request per hop and image."""
    soak: Duration | None = None
    """How long the upstream must have run a version (from the merge that put it there)."""
    checks: Literal["success"] | None = None
    """`success`: the upstream merge commit's checks must be green (GitHub check runs and
    statuses, GitLab pipelines and statuses)."""
    window: WindowSpec | None = None
    """Promotions open only inside this window (default: any time)."""
    freeze: tuple[FreezeSpec, ...] = ()
    """Date ranges without promotions (in the window's timezone, else UTC)."""
    hold: bool | str = False
    """`true` (or a reason) stops promotions into the stage until removed."""
    automerge: bool | None = None
    """Merge its pull requests once checks pass (default: the repository's
    `pull_request.automerge`)."""

    @model_validator(mode="after")
    def _first_stage_has_no_gates(self) -> StageSpec:
        if self.promote_from:
            return self
        for name in ("soak", "checks", "window"):
            if getattr(self, name) is not None:
                raise located(f"{name} gates promotions: it needs promote_from", (name,))
        if self.freeze:
            raise located("freeze gates promotions: it needs promote_from", ("freeze",))
        return self

    def settings(self) -> Stage:
        """The frozen stage `promote` works with."""
        timezone = self.window.timezone if self.window else "UTC"
        freezes = tuple(freeze_between(f.start, f.end, timezone, f.reason) for f in self.freeze)
        hold = None if self.hold is False else ("" if self.hold is True else self.hold)
        return Stage(
            name=self.name,
            paths=self.paths,
            promote_from=self.promote_from,
            require=Require(self.require),
            bundle=Bundle(self.bundle),
            soak=self.soak,
            checks=self.checks == "success",
            calendar=Calendar(self.window.settings() if self.window else None, freezes),
            hold=hold,
            automerge=self.automerge,
        )


def stage_graph(stages: Sequence[StageSpec]) -> StageGraph:
    """The repository's stage graph."""
    return StageGraph(tuple(stage.settings() for stage in stages))


def check_stages(
    stages: Sequence[StageSpec], *, repository_paths: Sequence[str], forge: str
) -> None:
    """Raise a located error for the first problem of `stages` (below the repository)."""
    problems = graph_problems([stage.settings() for stage in stages])
    for index, stage in enumerate(stages):
        if stage.checks and forge not in FORGES_WITH_CHECKS:
            able = " or ".join(sorted(FORGES_WITH_CHECKS))
            problems.append(((index, "checks"), f"checks needs a forge that reports them: {able}"))
        for position, pattern in enumerate(stage.paths):
            if not any(paths_overlap(pattern, root) for root in repository_paths):
                roots = ", ".join(repository_paths)
                problems.append(
                    ((index, "paths", position), f"{pattern!r} is not under the paths ({roots})")
                )
    if problems:
        where, message = min(problems, key=lambda problem: problem[0])
        raise located(message, ("stages", *where))
