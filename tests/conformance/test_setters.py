"""Flux's `$imagepolicy` setter fixtures: marked values are set from policies, byte for byte."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from image_bot.edit.find import find_references
from image_bot.edit.rewrite import rewrite_tree, write_changes
from image_bot.model import Change, ImageRef, OccurrenceKind
from image_bot.reference import parse_name

pytestmark = pytest.mark.conformance

CASES = [
    "flux-apply-policies-multiple-policies",
    "flux-apply-policies-one-policy",
    "flux-apply-policies-update-path",
    "flux-update-with-setters",
]


def _tree(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def _new_ref(latest: dict[str, str]) -> ImageRef:
    text = f"{latest['name']}:{latest['tag']}" + (
        f"@{latest['digest']}" if latest["digest"] else ""
    )
    return ImageRef(parse_name(latest["name"]), latest["tag"], latest["digest"] or None, text)


def _within(path: str, update_path: str | None) -> bool:
    if update_path is None:
        return True
    base = PurePosixPath(update_path.removeprefix("./"))
    return PurePosixPath(path).is_relative_to(base)


@pytest.mark.parametrize("name", CASES)
def test_setter_case(name: str, shared_dir: Path, tmp_path: Path) -> None:
    case = shared_dir / "peer-cases" / "setters" / name
    spec: dict[str, Any] = json.loads((case / "policy.json").read_text())
    latest = {f"{p['namespace']}:{p['name']}": _new_ref(p["latestRef"]) for p in spec["policies"]}
    work = tmp_path / "work"
    shutil.copytree(case / "input", work)

    found = find_references(work)
    changes = [
        Change(occurrence, occurrence.ref, latest[occurrence.policy])
        for occurrence in found.occurrences
        if occurrence.kind is OccurrenceKind.MARKER
        and occurrence.policy in latest
        and _within(occurrence.path, spec.get("update_path"))
    ]
    assert changes, "the markers are found"
    file_changes, skipped = rewrite_tree(work, changes)
    assert skipped == []

    if spec["expected_output"] == "only_changed_files":
        out = tmp_path / "out"
        for fc in file_changes:
            (out / fc.path).parent.mkdir(parents=True, exist_ok=True)
            (out / fc.path).write_bytes(fc.after.encode("utf-8"))
        assert _tree(out) == _tree(case / "expected")
        for fc in file_changes:
            wanted = spec["expected_changes"][fc.path]["changes"]
            assert Counter((e.old, e.new) for e in fc.edits) == Counter(
                (c["old"], c["new"]) for c in wanted
            )
    else:
        assert spec["expected_output"] == "whole_tree_in_place"
        write_changes(work, file_changes)
        assert _tree(work) == _tree(case / "expected")
