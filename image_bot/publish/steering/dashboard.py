"""The dashboard issue's text, and the boxes people tick in it (pure).

One issue per repository lists the bot's open pull requests (tick to rebase), what waits
and until when (limits: tick to open now; `min_age`: the time it passes; promotion gates),
ignored versions (tick to unignore), held and pinned images, what failed and, with stages,
what each stage runs of each image and how far behind its upstream it is. Each box carries a
hidden `<!-- image-bot-box: VERB ARG -->`; a ticked one is acted on once by the next pass
(or at once, from the `issues` webhook) and written back unticked.

The text depends only on the state it shows (dates, never "3 hours ago" or "5h left"), so
a pass that changes nothing renders the same text and writes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from image_bot.model import StageVersion
from image_bot.model import Waiting as WaitingPromotion
from image_bot.publish.steering.memory import Memory, encode_memory

__all__ = [
    "Box",
    "BoxVerb",
    "DashboardView",
    "Deferred",
    "OpenPull",
    "Stages",
    "Waiting",
    "render_dashboard",
    "ticked",
    "untick",
]

_LEFT = re.compile(r", (?:\d+[dhms])+ left")  # "waiting for soak, 5h12m left": opens_at says it
_BOX = re.compile(
    r"^(?P<lead>[ \t]*[-*][ \t]+\[)(?P<mark>[ xX])(?P<rest>\][ \t]*<!-- image-bot-box: "
    r"(?P<verb>[a-z]+) (?P<arg>[A-Za-z0-9._/:@+-]{1,300}) -->)",
    re.MULTILINE,
)


class BoxVerb(StrEnum):
    """What a ticked box asks for."""

    REBASE = "rebase"  # arg: the bot branch
    OPEN = "open"  # arg: the bot branch of a deferred plan
    UNIGNORE = "unignore"  # arg: the image


@dataclass(frozen=True, slots=True)
class Box:
    """A ticked box: its verb and argument."""

    verb: BoxVerb
    arg: str


@dataclass(frozen=True, slots=True)
class OpenPull:
    """An open bot pull request."""

    branch: str
    title: str
    url: str


@dataclass(frozen=True, slots=True)
class Deferred:
    """A pull request a limit keeps from opening."""

    branch: str
    what: str
    reason: str


@dataclass(frozen=True, slots=True)
class Waiting:
    """A version a policy gate holds back, and when it will pass (None: unknown)."""

    image: str
    tag: str
    reason: str
    opens_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Stages:
    """Promotion: the stages in order, what each runs of each image, the promotions waiting."""

    names: tuple[str, ...]
    environments: tuple[StageVersion, ...] = ()
    waiting: tuple[WaitingPromotion, ...] = ()


@dataclass(frozen=True, slots=True)
class DashboardView:
    """Everything the dashboard shows."""

    repository: str
    open: tuple[OpenPull, ...] = ()
    deferred: tuple[Deferred, ...] = ()
    waiting: tuple[Waiting, ...] = ()
    problems: tuple[str, ...] = ()
    stages: Stages | None = None


def ticked(body: str) -> list[Box]:
    """The boxes ticked in `body` (unknown verbs are skipped)."""
    boxes = []
    for match in _BOX.finditer(body.replace("\r\n", "\n")):
        if match["mark"] in "xX":
            try:
                boxes.append(Box(BoxVerb(match["verb"]), match["arg"]))
            except ValueError:
                continue
    return boxes


def untick(body: str) -> str:
    """`body` with every image-bot box unticked."""
    return _BOX.sub(lambda m: f"{m['lead']} {m['rest']}", body.replace("\r\n", "\n"))


def _box(verb: BoxVerb, arg: str, text: str) -> str:
    return f"- [ ] <!-- image-bot-box: {verb.value} {arg} --> {text}"


def _code(text: str) -> str:
    return "`" + text.replace("`", "'")[:200] + "`"


def _date(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M UTC")


def _section(title: str, lines: Sequence[str]) -> list[str]:
    return [f"## {title}", "", *(lines or ["None."]), ""]


def _version(cell: StageVersion) -> str:
    digest = cell.digest[: len("sha256:") + 12] if cell.digest else None
    if cell.tag and digest:
        return f"{cell.tag}@{digest}"
    return cell.tag or digest or "latest"


def _cell(cell: StageVersion | None) -> str:
    if cell is None:
        return "-"
    behind = f" ({cell.behind_versions} behind)" if cell.behind_versions else ""
    return f"{_code(_version(cell))}{behind}"


def _matrix(stages: Stages) -> list[str]:
    """The stage x image table (`image-bot envs`)."""
    images = sorted({str(cell.image) for cell in stages.environments})
    if not images:
        return ["No image runs in any stage."]
    cells = {(cell.stage, str(cell.image)): cell for cell in stages.environments}
    names = [name.replace("|", "/") for name in stages.names]
    return [
        "| Image | " + " | ".join(names) + " |",
        "|---" * (len(names) + 1) + "|",
        *(
            f"| {_code(image)} | "
            + " | ".join(_cell(cells.get((stage, image))) for stage in stages.names)
            + " |"
            for image in images
        ),
    ]


def _promotion(wait: WaitingPromotion) -> str:
    reason = _LEFT.sub("", wait.reason) if wait.opens_at else wait.reason
    line = f"- {_code(wait.stage)}: {_code(str(wait.image))} {_code(wait.version)}: {reason}"
    opens = wait.opens_at.astimezone(UTC) if wait.opens_at else None
    return line + (f", opens after {_date(opens)}" if opens else "")


def render_dashboard(view: DashboardView, memory: Memory) -> str:
    """The dashboard body for `view`, the memory marker last."""
    pulls = [
        _box(BoxVerb.REBASE, p.branch, f"Rebase [{p.title.replace(']', ')')}]({p.url})")
        for p in sorted(view.open, key=lambda p: p.branch)
    ]
    waiting = [
        _box(BoxVerb.OPEN, d.branch, f"Open now: {_code(d.branch)} {d.what} ({d.reason})")
        for d in sorted(view.deferred, key=lambda d: d.branch)
    ]
    waiting += [
        f"- {_code(w.image)} {_code(w.tag)}: {w.reason}"
        + (f", opens after {_date(w.opens_at)}" if w.opens_at else "")
        for w in sorted(view.waiting, key=lambda w: (w.image, w.tag))
    ]
    if view.stages is not None:
        waiting += [
            _promotion(w)
            for w in sorted(view.stages.waiting, key=lambda w: (w.stage, str(w.image)))
        ]
    ignored = [
        _box(BoxVerb.UNIGNORE, image, f"Unignore {_code(image)}: {', '.join(map(_code, globs))}")
        for image, globs in memory.ignores
    ]
    held = [f"- {_code(image)} (`/image-bot unhold {image}`)" for image in memory.holds]
    pinned = [
        f"- {_code(image)} at {_code(tag)} (`/image-bot unpin {image}`)"
        for image, tag in memory.pins
    ]
    problems = [f"- {problem}" for problem in sorted(set(view.problems))]
    lines = [
        f"image-bot keeps this issue current for {_code(view.repository)}. Tick a box to act"
        " on the next pass; comment `/image-bot <command>` here or on a pull request"
        " (rebase, ignore, unignore, hold, unhold, pin, unpin, explain).",
        "",
        *_section("Open pull requests", pulls),
        *_section("Waiting", waiting),
        *_section("Ignored versions", ignored),
        *_section("Held images", held),
        *_section("Pinned images", pinned),
        *_section("Problems", problems),
        *(_section("Stages", _matrix(view.stages)) if view.stages is not None else []),
        encode_memory(memory),
        "",
    ]
    return "\n".join(lines)
