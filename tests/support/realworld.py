"""The real-world corpus (tests/fixtures/realworld): its expectations, and how found references
score against them (used by tests/integration/test_realworld.py and benchmarks/realworld.py).

`expected/<repo>.yaml` maps each file to `refs` (line of the scalar that changes, the
reference, its kind) and `not` (lines that look like images but are not ones to update, with
why; `found: true` marks the ones image-bot still reports, a known false positive).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml import YAML

from image_bot.model import ImageRef, Occurrence
from image_bot.reference import parse_reference

__all__ = [
    "EXPECTED",
    "REPOS",
    "Expected",
    "NotExpected",
    "Score",
    "by_file",
    "expected_refs",
    "repositories",
    "same_reference",
    "score",
]

ROOT = Path(__file__).resolve().parents[1] / "fixtures" / "realworld"
REPOS = ROOT / "repos"
EXPECTED = ROOT / "expected"


@dataclass(frozen=True, slots=True)
class Expected:
    """One reference a user expects kept up to date."""

    path: str
    line: int
    kind: str
    ref: str

    @property
    def parsed(self) -> ImageRef:
        return parse_reference(self.ref)


@dataclass(frozen=True, slots=True)
class NotExpected:
    """A line that looks like an image but is not one to update."""

    path: str
    line: int
    why: str
    found: bool  # image-bot still reports it: a known false positive
    ref: str = ""  # what it holds, when `set` on an expected image also moves it


@dataclass
class Score:
    """Per kind: expected, found of those, and found references nobody expects."""

    expected: Counter[str] = field(default_factory=Counter)
    recalled: Counter[str] = field(default_factory=Counter)
    extra: Counter[str] = field(default_factory=Counter)
    missing: list[Expected] = field(default_factory=list)
    extras: list[Occurrence] = field(default_factory=list)


def repositories() -> list[str]:
    """The corpus's repository folders (`owner__name`)."""
    return sorted(path.name for path in REPOS.iterdir() if path.is_dir())


def expected_refs(repo: str) -> tuple[list[Expected], list[NotExpected], list[str]]:
    """(refs, not-refs, every file listed) of one repository's expectations."""
    data = YAML(typ="safe").load((EXPECTED / f"{repo}.yaml").read_text()) or {}
    refs: list[Expected] = []
    nots: list[NotExpected] = []
    for path, entry in data.items():
        for ref in (entry or {}).get("refs", []):
            refs.append(Expected(path, int(ref["line"]), str(ref["kind"]), str(ref["ref"])))
        for item in (entry or {}).get("not", []):
            found = bool(item.get("found", False))
            line, why, ref = int(item["line"]), str(item["why"]), str(item.get("ref", ""))
            nots.append(NotExpected(path, line, why, found, ref))
    return refs, nots, list(data)


def same_reference(occurrence: Occurrence, expected: Expected) -> bool:
    """The occurrence is the expected reference: its file, a line of its scalars, its value."""
    if occurrence.path != expected.path:
        return False
    if expected.line not in {span.line for span in occurrence.spans.values()}:
        return False
    want, got = expected.parsed, occurrence.ref
    return (want.name, want.tag, want.digest) == (got.name, got.tag, got.digest)


def score(
    occurrences: Iterable[Occurrence], expected: Iterable[Expected], into: Score | None = None
) -> Score:
    """Match found references to expected ones (each used once)."""
    result = into or Score()
    found = list(occurrences)
    used: set[int] = set()
    for want in expected:
        result.expected[want.kind] += 1
        match = next(
            (i for i, occ in enumerate(found) if i not in used and same_reference(occ, want)),
            None,
        )
        if match is None:
            result.missing.append(want)
            continue
        used.add(match)
        result.recalled[want.kind] += 1
    for i, occurrence in enumerate(found):
        if i not in used:
            result.extra[str(occurrence.kind)] += 1
            result.extras.append(occurrence)
    return result


def by_file(items: Iterable[Expected]) -> Mapping[str, list[Expected]]:
    """Expected references grouped by file."""
    out: dict[str, list[Expected]] = {}
    for item in items:
        out.setdefault(item.path, []).append(item)
    return out
