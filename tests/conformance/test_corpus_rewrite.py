"""The real-world corpus: every listed reference is found, and setting a new tag on each changes
only the bytes of that reference (the rest of the file stays byte for byte).

Each file is rewritten once with all its references at once (tags alternate between one that
stays plain and one that needs quotes), which keeps the suite fast; small files are also
rewritten one reference at a time. The check is independent of the rewrite's own
verification: edits must lie inside the reference's scalars, `after` must be the original with
exactly those edits, and a fresh parse must differ only in the edited scalars.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from image_bot.edit.find import CustomTarget, FindResult, find_in_text
from image_bot.edit.rewrite import rewrite_text
from image_bot.edit.yaml.spans import compose, index_text
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
from image_bot.reference import parse_name, with_tag

pytestmark = [pytest.mark.conformance, pytest.mark.slow]

TAGS = ("9.9.9-test", "2.10")  # a tag that stays plain, and one that must be quoted
RELOAD_LIMIT = 400_000  # bigger files: byte checks only (a pure-Python parse is slow)
SINGLE_LIMIT = 20_000  # smaller files: also one reference at a time
STR = "tag:yaml.org,2002:str"


@dataclass(frozen=True)
class CorpusFile:
    entry: dict[str, Any]
    data: bytes
    text: str
    found: FindResult

    def offset(self, place: dict[str, Any]) -> int:
        """A byte offset of the index as an offset into the decoded text."""
        return len(self.data[: place["byte_offset"]].decode("utf-8"))


@cache
def _corpus(root: Path) -> tuple[CorpusFile, ...]:
    files = []
    for entry in json.loads((root / "index.json").read_text()):
        data = (root / entry["file"]).read_bytes()
        text = data.decode("utf-8")
        files.append(CorpusFile(entry, data, text, find_in_text(text, entry["file"])))
    return tuple(files)


@pytest.fixture(scope="module")
def corpus(shared_dir: Path) -> tuple[CorpusFile, ...]:
    return _corpus(shared_dir / "corpus")


def _region(file: CorpusFile, ref: dict[str, Any]) -> tuple[int, int]:
    start = file.offset(ref)
    return start, start + len(ref["text"])


def _hits(occurrence: Occurrence, places: list[tuple[int, int]]) -> bool:
    return any(
        start <= span.start <= end or span.start <= start < span.end
        for span in occurrence.spans.values()
        for start, end in places
    )


# --- finding -------------------------------------------------------------------------------


def test_every_listed_reference_is_found(corpus: tuple[CorpusFile, ...]) -> None:
    """Listed refs are found; the only exceptions are named below, each with its reason."""
    missing, tag_only, invalid_reported, built = [], [], 0, 0
    for file in corpus:
        skipped_lines = {s.line: s.reason for s in file.found.skipped}
        for ref in file.entry["image_refs"]:
            places = [_region(file, p) for p in (ref, *ref.get("parts", {}).values())]
            if any(_hits(occ, places) for occ in file.found.occurrences):
                continue
            if ref["name"] is None:
                tag_only.append((file, ref))  # a tag with no image: needs a config target
            elif "builds this image" in skipped_lines.get(ref["line"], ""):
                built += 1  # a Compose service with `build:` names the image it builds
            elif ref["line"] in skipped_lines:
                invalid_reported += 1  # e.g. `newName: CONTAINER_IMAGES_REGISTRY/x`, reported
            else:
                missing.append(f"{file.entry['file']}:{ref['line']} {ref['yaml_path']}")
    assert missing == []
    assert invalid_reported <= 12, "only the uppercase placeholder names of one kustomization"
    # the index lists these (`clickhouse-self-hosted-local`, `demo-microservice`...); they are
    # built by the Compose file itself, which Renovate's docker-compose manager skips too
    assert built <= 5
    # tag-only values are found once the config says which image they belong to
    for file, ref in tag_only:
        target = CustomTarget(file.entry["file"], ref["yaml_path"], "example/app", Part.TAG)
        found = find_in_text(file.text, file.entry["file"], targets=[target])
        where = [_region(file, ref)]
        assert any(_hits(occ, where) for occ in found.occurrences), ref["yaml_path"]
    assert len(tag_only) <= 10


def test_refs_a_bot_must_not_touch_are_not_found(corpus: tuple[CorpusFile, ...]) -> None:
    for file in corpus:
        for ref in file.entry["skipped_refs"]:
            start = file.offset(ref)
            place = [(start, start + len(ref["text"]))]
            hits = [occ.yaml_path for occ in file.found.occurrences if _hits(occ, place)]
            assert hits == [], (file.entry["file"], ref["yaml_path"], ref["reason"])


def test_files_that_do_not_parse_are_skipped_with_a_reason(
    corpus: tuple[CorpusFile, ...],
) -> None:
    broken = [f for f in corpus if "ruamel-rt" in f.entry.get("parse_errors", {})]
    assert len(broken) >= 15
    templates = 0
    for file in broken:
        literal = [o for o in file.found.occurrences if o.kind is OccurrenceKind.HELM_TEMPLATE]
        if literal:  # a template read line by line: its literal images change, nothing else
            templates += 1
            changes = _changes(literal)
            after = rewrite_text(file.entry["file"], file.text, changes).after
            assert after == _spliced(file.text, changes), file.entry["file"]
            continue
        if file.found.occurrences:  # our composer read it; the rewrite must still refuse
            assert file.entry.get("refs_if_parsed_leniently"), file.entry["file"]
            occurrence = file.found.occurrences[0]
            change = Change(occurrence, occurrence.ref, ImageRef(occurrence.ref.name, "9.9"))
            with pytest.raises(ManifestError):
                rewrite_text(file.entry["file"], file.text, [change])
        elif "image" in file.text.lower():  # (libyaml accepts some, e.g. trailing tabs)
            assert file.found.skipped, file.entry["file"]
    assert templates >= 1  # the corpus's templates with a literal test or init image


def _spliced(before: str, changes: list[Change]) -> str:
    """`before` with each whole reference replaced by its new spelling (right to left)."""
    after = before
    for change in sorted(changes, key=lambda c: -c.occurrence.spans[Part.WHOLE].start):
        span = change.occurrence.spans[Part.WHOLE]
        new = with_tag(change.old, change.new.tag, change.new.digest).text
        after = after[: span.start] + new + after[span.end :]
    return after


# --- rewriting -------------------------------------------------------------------------------


def _changes(occurrences: list[Occurrence]) -> list[Change]:
    return [
        Change(occ, occ.ref, ImageRef(occ.ref.name, TAGS[i % 2]))
        for i, occ in enumerate(occurrences)
    ]


def _changed_scalars(old: Node, new: Node, out: list[tuple[ScalarNode, ScalarNode]]) -> bool:
    if type(old) is not type(new):
        return False
    if isinstance(old, ScalarNode):
        if (old.tag, old.value) != (new.tag, new.value):
            out.append((old, new))
        return True
    if len(old.value) != len(new.value):
        return False
    if isinstance(old, MappingNode):
        pairs = [
            (a, b)
            for (ka, va), (kb, vb) in zip(old.value, new.value, strict=False)
            for a, b in ((ka, kb), (va, vb))
        ]
    else:
        assert isinstance(old, SequenceNode)
        pairs = list(zip(old.value, new.value, strict=True))
    return all(_changed_scalars(a, b, out) for a, b in pairs)


def _problems(text: str, fc: FileChange, changes: list[Change]) -> list[str]:
    problems = []
    rebuilt = text
    for edit in sorted(fc.edits, key=lambda e: e.span.start, reverse=True):
        if rebuilt[edit.span.start : edit.span.end] != edit.old:
            problems.append(f"edit.old {edit.old!r} is not the text at its span")
        rebuilt = rebuilt[: edit.span.start] + edit.new + rebuilt[edit.span.end :]
    if rebuilt != fc.after:
        problems.append("after is not the original with the edits spliced in")
    tree = index_text(text)
    regions: list[tuple[int, int]] = []
    for change in changes:
        scalars = []
        for span in change.occurrence.spans.values():
            scalar = tree.enclosing(span.start, span.end)
            scalars.append((scalar.start, scalar.end) if scalar else (span.start, span.end))
        mine = [
            e for e in fc.edits if any(s <= e.span.start and e.span.end <= t for s, t in scalars)
        ]
        if not any(change.new.tag and change.new.tag in e.new for e in mine):
            problems.append(f"line {change.occurrence.line}: no edit writes {change.new.tag!r}")
        regions += scalars
    for edit in fc.edits:
        if not any(s <= edit.span.start and edit.span.end <= t for s, t in regions):
            problems.append(f"line {edit.span.line}: an edit outside every reference's scalar")
        if TAGS[0] in edit.new and edit.new[:1] in "'\"" and edit.old[:1] != edit.new[:1]:
            problems.append(f"line {edit.span.line}: quotes added to a tag that needs none")
    if len(text) <= RELOAD_LIMIT:
        old_roots = [d for d in compose(text) if d is not None]
        new_roots = [d for d in compose(fc.after) if d is not None]
        changed: list[tuple[ScalarNode, ScalarNode]] = []
        if len(old_roots) != len(new_roots) or not all(
            _changed_scalars(a, b, changed) for a, b in zip(old_roots, new_roots, strict=True)
        ):
            problems.append("the YAML structure changed")
        for _, new in changed:
            wrong = new.tag != STR or not any(t in new.value for t in TAGS)
            # a block scalar holds YAML (checked by byte region); "" is a digest key emptied
            if new.style != "|" and wrong and new.value != "":
                problems.append(f"a value became {new.value!r} ({new.tag})")
    return problems


def _check(
    path: str, text: str, changes: list[Change], stats: Counter[str], failures: list[str]
) -> None:
    try:
        fc = rewrite_text(path, text, changes)
    except ManifestError as exc:
        failures.append(f"{path}:{exc.line}: refused: {exc.reason}")
        return
    stats["rewrites"] += 1
    stats["references rewritten"] += len(changes)
    failures += [f"{path}: {p}" for p in _problems(text, fc, changes)]


def _report(stats: Counter[str], failures: list[str]) -> None:
    print("\ncorpus rewrite:", dict(sorted(stats.items())))
    print(f"{len(failures)} failures", *failures[:60], sep="\n")


def test_every_found_reference_takes_a_new_tag(corpus: tuple[CorpusFile, ...]) -> None:
    stats: Counter[str] = Counter()
    failures: list[str] = []
    for file in corpus:
        if file.entry["parse_error"]:
            continue
        occurrences = []
        for occurrence in file.found.occurrences:
            if Part.WHOLE in occurrence.spans or Part.TAG in occurrence.spans:
                occurrences.append(occurrence)
                continue
            stats["no tag to set (name or digest only)"] += 1
            change = Change(occurrence, occurrence.ref, ImageRef(occurrence.ref.name, "1.0"))
            with pytest.raises(ManifestError, match="no tag key to update"):
                rewrite_text(file.entry["file"], file.text, [change])
        if not occurrences:
            continue
        _check(file.entry["file"], file.text, _changes(occurrences), stats, failures)
        if len(file.text) <= SINGLE_LIMIT:
            for occurrence in occurrences:
                for tag in TAGS:
                    change = Change(occurrence, occurrence.ref, ImageRef(occurrence.ref.name, tag))
                    _check(file.entry["file"], file.text, [change], stats, failures)
    _report(stats, failures)
    assert stats["references rewritten"] > 2000
    assert failures == []


PARTS = {"registry": Part.REGISTRY, "repository": Part.NAME, "tag": Part.TAG, "digest": Part.DIGEST}
UNKNOWN = ImageName("corpus.invalid", "unknown")


def _index_occurrence(file: CorpusFile, ref: dict[str, Any]) -> Occurrence:
    """An Occurrence built from the index's own locations (no finder involved)."""

    def span(place: dict[str, Any]) -> Span:
        start = file.offset(place)
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
    if "=" in text:  # Argo CD `alias=image:tag`: the reference is after the alias
        alias = text.index("=") + 1
        whole = spans[Part.WHOLE]
        spans = {Part.WHOLE: Span(whole.start + alias, whole.end, whole.line, whole.column + alias)}
        text = text[alias:]
    tag = ref["tag"] if ref["style"] == "split" or ref.get("tag_span") else None
    image = ImageRef(name, tag, ref["digest"], text)
    return Occurrence(file.entry["file"], ref["document"], (), kind, image, spans)


def test_every_indexed_reference_takes_a_new_tag(corpus: tuple[CorpusFile, ...]) -> None:
    """The corpus's own spans, without the finder: the rewrite half alone."""
    stats: Counter[str] = Counter()
    failures: list[str] = []
    for file in corpus:
        refs = [r for r in file.entry["image_refs"] if r["style"] != "split" or "tag" in r["parts"]]
        if not refs:
            continue
        occurrences = [_index_occurrence(file, r) for r in refs]
        _check(file.entry["file"], file.text, _changes(occurrences), stats, failures)
    _report(stats, failures)
    assert stats["references rewritten"] > 700
    assert failures == []
