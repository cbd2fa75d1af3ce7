"""Chart-aware checks: how a chart's templates use a values key decides whether it is an image.

Structure alone makes `images: {repository: ghcr.io/acme, tag: "1.2"}` a reference. When the
values file sits in a chart (a `Chart.yaml` beside it and a `templates/` folder), the
templates say what it is: a repository joined with more after a `/`
(`{{ .Values.images.repository }}/{{ .Values.web.name }}:...`) is a registry prefix, not an
image, and is set aside with the place that shows it; one used as
`{{ .Values.x.repository }}:{{ .Values.x.tag }}` (or `printf "%s:%s"`) is an image. An empty
`tag: ""` the templates default to `.Chart.AppVersion` follows the chart's version: not a tag
to set. A key the templates do not use, or use both ways, keeps the structural verdict.
Reading follows the repository's rules (`edit/walk.py`, `edit/files.py`): a link is resolved
once and read at its target only when that stays inside the repository, only regular files are
read (no pipes opened), each at most `max_bytes`, at most `_MAX_FILES` files and `_MAX_TOTAL`
bytes in all.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from image_bot.edit.files import inside, read_file
from image_bot.edit.walk import Walk
from image_bot.errors import ManifestError
from image_bot.model import Occurrence, OccurrenceKind, Part, Skipped

__all__ = ["Use", "set_aside_registry_prefixes", "uses_of"]

_MAX_TOTAL = 16_000_000
_MAX_FILES = 2_000
_TEMPLATE_GLOBS = tuple(f"**/*{suffix}" for suffix in (".yaml", ".yml", ".tpl", ".txt", ".json"))
_NAME_KEYS = ("repository", "image", "name", "repo")
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
_PRINTF = re.compile(r"printf\s+\"((?:[^\"\\]|\\.)*)\"")
_VERB = re.compile(r"%[-+# 0-9.]*[a-zA-Z%]")
_VALUES = re.compile(r"(?<![\w.])\$?(\.Values(?:\.[A-Za-z_]\w*)+)(?![\w.])")
_CONTROL = frozenset(
    {"if", "with", "range", "else", "and", "or", "not", "eq", "ne", "lt", "le", "gt", "ge"}
    | {"empty", "hasKey", "include", "template", "define", "fail"}
)


class Use(Enum):
    """How one template place uses a values key."""

    IMAGE = "image"  # followed by `:`/`@`, or alone: the reference itself
    PREFIX = "prefix"  # followed by `/`: something else's registry or namespace
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class _Chart:
    templates: tuple[tuple[str, str], ...]  # (path relative to the root, text)
    places: dict[str, list[tuple[str, str, int]]]  # `.Values.a.b` -> (path, text, offset)


def _index(templates: Sequence[tuple[str, str]]) -> dict[str, list[tuple[str, str, int]]]:
    """Every `.Values.x.y` the templates use, with where (one pass over each template)."""
    places: dict[str, list[tuple[str, str, int]]] = {}
    for path, text in templates:
        for match in _VALUES.finditer(text):
            places.setdefault(match.group(1), []).append((path, text, match.start()))
    return places


def set_aside_registry_prefixes(
    limit: Path, base: str, occurrences: Sequence[Occurrence], *, max_bytes: int
) -> tuple[tuple[Occurrence, ...], tuple[Skipped, ...]]:
    """(occurrences kept, a Skipped per values key the chart's templates use as a prefix).

    Occurrence paths are relative to `base`, itself relative to the real repository `limit`
    outside which nothing is read.
    """
    charts: dict[str, _Chart | None] = {}
    kept: list[Occurrence] = []
    skipped: list[Skipped] = []
    for occurrence in occurrences:
        chart = _chart_of(limit, base, occurrence, charts, max_bytes)
        reason = None if chart is None else _not_to_update(chart, occurrence)
        if reason is None:
            kept.append(occurrence)
        else:
            skipped.append(Skipped(occurrence.path, reason, occurrence.line))
    return tuple(kept), tuple(skipped)


def _not_to_update(chart: _Chart, occurrence: Occurrence) -> str | None:
    """Why the chart's templates say `occurrence` is not a reference to update, or None."""
    place = _prefix_place(chart, occurrence)
    if place is not None:
        return f"a registry prefix, not an image: {place} joins it with more after a `/`"
    place = _app_version_place(chart, occurrence)
    if place is not None:
        return f"the chart's own image: its empty tag is the chart's appVersion ({place})"
    return None


def _app_version_place(chart: _Chart, occurrence: Occurrence) -> str | None:
    """Where the templates default the reference's empty tag to `.Chart.AppVersion`."""
    if occurrence.ref.tag or occurrence.ref.digest or Part.TAG not in occurrence.spans:
        return None
    steps = occurrence.yaml_path
    if not all(isinstance(step, str) and _IDENTIFIER.fullmatch(step) for step in steps):
        return None
    expression = ".Values." + ".".join(str(step) for step in steps)
    for path, text, start in chart.places.get(expression, ()):
        opened = text.rfind("{{", max(0, start - 2_000), start)
        closed = text.find("}}", start, start + 2_000)
        if opened >= 0 and closed >= 0 and ".Chart.AppVersion" in text[opened:closed]:
            return f"{path}:{text.count(chr(10), 0, start) + 1}"
    return None


def _chart_of(
    limit: Path,
    base: str,
    occurrence: Occurrence,
    charts: dict[str, _Chart | None],
    max_bytes: int,
) -> _Chart | None:
    """The chart whose values file holds `occurrence` (None: not a chart's values)."""
    directory, name = posixpath.split(occurrence.path)
    if occurrence.kind is not OccurrenceKind.HELM_VALUES or not name.startswith("values"):
        return None
    if "|" in occurrence.yaml_path:
        return None
    if directory not in charts:
        charts[directory] = _read_chart(limit, base, directory, max_bytes)
    return charts[directory]


def _read_chart(limit: Path, base: str, directory: str, max_bytes: int) -> _Chart | None:
    """The templates of the chart in `directory` (relative to `base`), or None: not a chart."""
    chart = limit / posixpath.normpath(posixpath.join(base, directory or "."))
    if inside(limit, chart / "Chart.yaml") is None or not (chart / "Chart.yaml").is_file():
        return None
    templates = inside(limit, chart / "templates")
    if templates is None or not (limit / templates).is_dir():
        return None
    paths, _ = Walk(limit / templates, limit, _TEMPLATE_GLOBS).files()  # links out: not read
    read: list[tuple[str, str]] = []
    total = 0
    prefix = f"{directory}/templates" if directory else "templates"
    for path in paths[:_MAX_FILES]:
        try:
            data = read_file(
                limit,
                posixpath.normpath(posixpath.join(templates, path)),
                max_bytes=min(max_bytes, _MAX_TOTAL - total),
            )
        except (ManifestError, OSError):  # a pipe, a device, too large, unreadable: not read
            continue
        total += len(data)
        where = posixpath.normpath(posixpath.join(prefix, path))
        read.append((where, data.decode("utf-8", errors="replace")))
    return _Chart(tuple(read), _index(read))


def _prefix_place(chart: _Chart, occurrence: Occurrence) -> str | None:
    """`file:line` where the templates use the reference's name as a prefix, if that is the
    only way they use it; else None.
    """
    steps = occurrence.yaml_path
    if not all(isinstance(step, str) and _IDENTIFIER.fullmatch(step) for step in steps):
        return None
    path = ".".join(str(step) for step in steps)
    if Part.WHOLE in occurrence.spans:
        candidates = [path]  # `image: repo:tag` in one string
    else:
        mapping = path.rpartition(".")[0]
        candidates = [f"{mapping}.{key}" if mapping else key for key in _NAME_KEYS]
    uses = [
        (_use(text, start, text.index(".Values", start) + len(f".Values.{candidate}")), place)
        for candidate in candidates
        for path, text, start in chart.places.get(f".Values.{candidate}", ())
        for place in (f"{path}:{text.count(chr(10), 0, start) + 1}",)
    ]
    prefixes = [place for use, place in uses if use is Use.PREFIX]
    if prefixes and not any(use is Use.IMAGE for use, _ in uses):
        return prefixes[0]
    return None


def uses_of(templates: Sequence[tuple[str, str]], expression: str) -> Iterator[tuple[Use, str]]:
    """Each place the templates use `expression` (`.Values.a.b`, also as `$.Values...`)."""
    for path, text, start in _index(templates).get(expression, ()):
        end = text.index(".Values", start) + len(expression)
        yield _use(text, start, end), f"{path}:{text.count(chr(10), 0, start) + 1}"


def _use(text: str, start: int, end: int) -> Use:
    """How the action around `text[start:end]` uses it."""
    opened = text.rfind("{{", max(0, start - 2_000), start)
    closed = text.find("}}", end, end + 2_000)
    if opened < 0 or closed < 0:
        return Use.UNKNOWN
    action = text[opened:closed]
    head = text[opened + 2 : start].strip(" -\t").split(" ", 1)[0]
    if head in _CONTROL:
        return Use.UNKNOWN  # a condition or a loop, not a value written out
    printf = _PRINTF.search(action)
    if printf is not None and printf.end() <= start - opened:
        return _printf_use(printf.group(1), action[printf.end() :], text[start:end])
    between = text[end:closed].strip()
    if between and not between.startswith("|"):
        return Use.UNKNOWN  # an argument of a function or a comparison
    after = text[closed + 2 : closed + 3]
    if after == "/":
        return Use.PREFIX
    if after in (" ", "\t"):  # the value then a comment, or something else on the line
        line_end = text.find("\n", closed)
        rest = text[closed + 2 : line_end if line_end >= 0 else len(text)].strip()
        after = "" if not rest or rest.startswith("#") else rest[:1]
    return Use.IMAGE if after in (":", "@", '"', "'", "\n", "\r", "") else Use.UNKNOWN


def _printf_use(fmt: str, arguments: str, expression: str) -> Use:
    """The use of `expression` as an argument of `printf "fmt" ...`."""
    args = _arguments(arguments)
    if expression not in args:
        return Use.UNKNOWN
    verbs = [m for m in _VERB.finditer(fmt) if m.group() != "%%"]
    index = args.index(expression)
    if index >= len(verbs):
        return Use.UNKNOWN
    after = fmt[verbs[index].end() : verbs[index].end() + 1]
    if after == "/":
        return Use.PREFIX
    return Use.IMAGE if after in (":", "@", "") else Use.UNKNOWN


def _arguments(text: str) -> list[str]:
    """Top-level arguments of a call (a parenthesised group is one argument; stops at `|`)."""
    args: list[str] = []
    depth, current = 0, ""
    for ch in text:
        if depth == 0 and ch in "|":
            break
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch.isspace() and depth == 0:
            if current:
                args.append(current)
            current = ""
            continue
        current += ch
    if current:
        args.append(current)
    return args
