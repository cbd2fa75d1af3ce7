"""Every corpus reference the finder finds can take a new tag, and only its bytes change."""

from __future__ import annotations

import json
import math
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from image_bot.edit.find import find_in_text
from image_bot.edit.rewrite import rewrite_text
from image_bot.errors import InvalidReference, ManifestError
from image_bot.model import (
    Change,
    FileChange,
    ImageName,
    ImageRef,
    Occurrence,
    OccurrenceKind,
    Part,
    Span,
)
from image_bot.reference import parse_name

pytestmark = pytest.mark.conformance

TAGS = ("9.9.9-test", "2.10")  # a string tag, and one that must be quoted where plain
RELOAD_LIMIT = 400_000  # bigger files are checked by the diff region only (parsing is slow)
EXPECTED_REFUSALS = ("no tag key to update",)


def _load(text: str) -> list[Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return list(YAML(typ="safe", pure=True).load_all(text))


def _changed_leaves(old: Any, new: Any, out: list[tuple[Any, Any]]) -> bool:
    """Collect differing leaves; False when the shapes differ."""
    if isinstance(old, dict) and isinstance(new, dict):
        if list(old) != list(new):
            return False
        return all(_changed_leaves(old[k], new[k], out) for k in old)
    if isinstance(old, list) and isinstance(new, list):
        if len(old) != len(new):
            return False
        return all(_changed_leaves(a, b, out) for a, b in zip(old, new, strict=True))
    same = old == new or (
        isinstance(old, float) and isinstance(new, float) and math.isnan(old) and math.isnan(new)
    )
    if not same or type(old) is not type(new):
        out.append((old, new))
    return True


def _problems(text: str, fc: FileChange, occurrence: Occurrence, tag: str) -> list[str]:
    """What is wrong with rewriting `occurrence` to `tag` (empty: nothing)."""
    problems = []
    if fc.after == text or not fc.edits:
        return ["nothing changed"]
    rebuilt = text
    for edit in sorted(fc.edits, key=lambda e: e.span.start, reverse=True):
        if rebuilt[edit.span.start : edit.span.end] != edit.old:
            problems.append(f"edit.old {edit.old!r} is not the text at its span")
        rebuilt = rebuilt[: edit.span.start] + edit.new + rebuilt[edit.span.end :]
    if rebuilt != fc.after:
        problems.append("after is not the text with the edits spliced in")
    low = min(span.start for span in occurrence.spans.values())
    high = max(span.end for span in occurrence.spans.values())
    prefix = 0
    limit = min(len(text), len(fc.after))
    while prefix < limit and text[prefix] == fc.after[prefix]:
        prefix += 1
    suffix = 0
    while (
        suffix < limit - prefix
        and text[len(text) - 1 - suffix] == fc.after[len(fc.after) - 1 - suffix]
    ):
        suffix += 1
    if not (low <= prefix and len(text) - suffix <= high):
        problems.append(
            f"bytes changed outside the reference: old[{prefix}:{len(text) - suffix}]"
            f" vs spans [{low}:{high}]"
        )
    quotes_added = any(
        e.new[:1] in "'\"" and e.new[-1:] == e.new[:1] and e.old[:1] != e.new[:1]
        for e in fc.edits
        if tag in e.new
    )
    if tag == "9.9.9-test" and quotes_added:
        problems.append("quotes added to a tag that needs none")
    if not any(tag in edit.new for edit in fc.edits):
        problems.append(f"no edit writes {tag!r}")
    if len(text) <= RELOAD_LIMIT:
        old_docs, new_docs = _load(text), _load(fc.after)
        changed: list[tuple[Any, Any]] = []
        if len(old_docs) != len(new_docs) or not all(
            _changed_leaves(a, b, changed) for a, b in zip(old_docs, new_docs, strict=True)
        ):
            problems.append("the YAML structure changed")
        elif not changed:
            problems.append("no loaded value changed")
        for _, new in changed:
            if not (isinstance(new, str) and tag in new) and new not in ("", None):
                problems.append(f"a value became {new!r}")
    return problems


def _rewrite_all(
    text: str, path: str, occurrences: list[Occurrence], stats: Counter[str], failures: list[str]
) -> None:
    for occurrence in occurrences:
        for tag in TAGS:
            change = Change(occurrence, occurrence.ref, ImageRef(occurrence.ref.name, tag))
            try:
                fc = rewrite_text(path, text, [change])
            except ManifestError as exc:
                if exc.reason in EXPECTED_REFUSALS and Part.TAG not in occurrence.spans:
                    stats[f"refused: {exc.reason}"] += 1
                else:
                    failures.append(f"{path}:{occurrence.line} {tag}: {exc.reason}")
                continue
            stats["rewrites checked"] += 1
            problems = _problems(text, fc, occurrence, tag)
            failures += [f"{path}:{occurrence.line} {tag}: {p}" for p in problems]


def _report(stats: Counter[str], failures: list[str]) -> None:
    print("\ncorpus rewrite:", dict(sorted(stats.items())))
    print(f"{len(failures)} failures", *failures[:60], sep="\n")


PARTS = {"registry": Part.REGISTRY, "repository": Part.NAME, "tag": Part.TAG, "digest": Part.DIGEST}
UNKNOWN = ImageName("corpus.invalid", "unknown")


def _index_occurrence(data: bytes, path: str, ref: dict[str, Any]) -> Occurrence:
    """An Occurrence built from the index's own locations (no finder involved)."""

    def span(place: dict[str, Any]) -> Span:
        start = len(data[: place["byte_offset"]].decode("utf-8"))
        return Span(start, start + len(place["text"]), place["line"], place["column"])

    if ref["style"] == "split":
        spans = {PARTS[name]: span(place) for name, place in ref["parts"].items()}
        kind = OccurrenceKind.HELM_VALUES
    else:
        spans = {Part.WHOLE: span(ref)}
        kind = OccurrenceKind.POD_SPEC
    try:
        name = parse_name(ref["name"]) if ref["name"] else UNKNOWN
    except InvalidReference:
        name = UNKNOWN
    text = ref["text"] if ref["style"] != "split" else ""
    image = ImageRef(name, ref["tag"], ref["digest"], text)
    return Occurrence(path, ref["document"], (), kind, image, spans)


def test_every_indexed_reference_takes_a_new_tag(shared_dir: Path) -> None:
    """The corpus's own spans, without the finder: the rewrite half alone."""
    corpus = shared_dir / "corpus"
    stats: Counter[str] = Counter()
    failures: list[str] = []
    for entry in json.loads((corpus / "index.json").read_text()):
        if not entry["image_refs"]:
            continue
        data = (corpus / entry["file"]).read_bytes()
        occurrences = [_index_occurrence(data, entry["file"], r) for r in entry["image_refs"]]
        stats["indexed refs"] += len(occurrences)
        _rewrite_all(data.decode("utf-8"), entry["file"], occurrences, stats, failures)
    _report(stats, failures)
    assert stats["rewrites checked"] > 1500
    assert failures == []


def test_every_found_reference_takes_a_new_tag(shared_dir: Path) -> None:
    corpus = shared_dir / "corpus"
    index = json.loads((corpus / "index.json").read_text())
    stats: Counter[str] = Counter()
    failures: list[str] = []
    for entry in index:
        data = (corpus / entry["file"]).read_bytes()
        text = data.decode("utf-8")
        path = entry["file"]
        found = find_in_text(text, path)
        if entry["parse_error"]:
            stats["parse-error files"] += 1
            for occurrence in found.occurrences:
                change = Change(occurrence, occurrence.ref, ImageRef(occurrence.ref.name, "9.9"))
                try:
                    rewrite_text(path, text, [change])
                except ManifestError:
                    stats["parse-error refs refused"] += 1
                else:
                    failures.append(f"{path}: a parse-error file was rewritten")
            continue
        listed: set[int] = set()
        for ref in entry["image_refs"]:
            places = [ref, *ref.get("parts", {}).values()]
            listed |= {len(data[: p["byte_offset"]].decode("utf-8")) for p in places}
        stats["listed refs"] += len(entry["image_refs"])
        for occurrence in found.occurrences:
            if not any(span.start in listed for span in occurrence.spans.values()):
                stats["found, not listed"] += 1
                continue
            stats["found and listed"] += 1
            _rewrite_all(text, path, [occurrence], stats, failures)
    _report(stats, failures)
    assert stats["found and listed"] > 0
    assert failures == []
