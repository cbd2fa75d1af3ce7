"""Golden trees: find, set the tags of case.json, rewrite; the tree equals expected/ bytewise."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from image_bot.edit.find import CustomTarget, find_references
from image_bot.edit.manual import set_tags, unified_diff
from image_bot.edit.rewrite import rewrite_tree, write_changes
from image_bot.model import Change, ImageName, ImageRef, Part
from image_bot.reference import parse_name

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "edit"
CASES = sorted(path for path in FIXTURES.iterdir() if (path / "case.json").is_file())


def _targets(case: Path) -> dict[ImageName, tuple[str, str | None]]:
    wanted = json.loads((case / "case.json").read_text())["set"]
    targets = {}
    for name, value in wanted.items():
        tag, digest = (value, None) if isinstance(value, str) else (value["tag"], value["digest"])
        targets[parse_name(name)] = (tag, digest)
    return targets


def _custom_targets(case: Path) -> list[CustomTarget]:
    declared = json.loads((case / "case.json").read_text()).get("targets", [])
    return [
        CustomTarget(t["files"], t["path"], t.get("image"), Part(t.get("part", "whole")))
        for t in declared
    ]


def _tree(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_there_are_enough_golden_cases() -> None:
    assert len(CASES) >= 12


@pytest.mark.parametrize("case", CASES, ids=lambda path: path.name)
def test_golden_tree(case: Path, tmp_path: Path) -> None:
    work = tmp_path / "tree"
    shutil.copytree(case / "input", work)
    targets = _targets(case)
    found = find_references(work, targets=_custom_targets(case))
    changes = [
        Change(occurrence, occurrence.ref, ImageRef(occurrence.ref.name, *target))
        for occurrence in found.occurrences
        if (target := targets.get(occurrence.ref.name)) is not None
    ]
    assert {c.occurrence.ref.name for c in changes} == set(targets), "every image is found"
    file_changes, skipped = rewrite_tree(work, changes)
    assert skipped == []
    write_changes(work, file_changes)
    assert _tree(work) == _tree(case / "expected")


PLAIN_CASES = [
    case
    for case in CASES
    if all(digest is None for _, digest in _targets(case).values())
    and b"@sha256:" not in b"".join(_tree(case / "input").values())
]


@pytest.mark.parametrize("case", PLAIN_CASES, ids=lambda path: path.name)
def test_set_tags_matches_the_golden_tree(case: Path, tmp_path: Path) -> None:
    work = tmp_path / "tree"
    shutil.copytree(case / "input", work)
    assignments = {name: tag for name, (tag, _) in _targets(case).items()}

    targets = _custom_targets(case)
    result = set_tags(work, assignments, dry_run=True, targets=targets)
    file_changes, diff = result.changes, result.diff
    assert _tree(work) == _tree(case / "input"), "a dry run writes nothing"
    expected = _tree(case / "expected")
    assert {fc.path: fc.after.encode() for fc in file_changes} == {
        path: data for path, data in expected.items() if data != _tree(case / "input")[path]
    }
    assert [s for s in result.refused if s.path in expected] == []
    assert [s for s in result.skipped if s.path in expected and s.line is None] == []
    assert result.unmatched == ()
    for fc in file_changes:
        assert f"--- a/{fc.path}\n+++ b/{fc.path}\n" in diff

    again = set_tags(work, assignments, dry_run=False, targets=targets)
    assert again.diff == diff
    assert [fc.path for fc in again.changes] == [fc.path for fc in file_changes]
    assert _tree(work) == expected
    second = set_tags(work, assignments, dry_run=False, targets=targets)
    assert second.changes == (), "a second run changes nothing"


def test_set_tags_drops_a_digest_that_pinned_the_old_tag(tmp_path: Path) -> None:
    digest = "sha256:" + "1" * 64
    (tmp_path / "pod.yaml").write_text(
        f"apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - name: a\n"
        f"      image: nginx:1.25@{digest}\n"
    )
    set_tags(tmp_path, {parse_name("nginx"): "1.27"}, dry_run=False)
    assert (tmp_path / "pod.yaml").read_text().endswith("      image: nginx:1.27\n")


def test_unified_diff_marks_a_missing_final_newline_and_keeps_crlf() -> None:
    diff = unified_diff("d/f.yaml", "a: 1\r\nb: x", "a: 1\r\nb: y")
    assert diff == (
        "--- a/d/f.yaml\n+++ b/d/f.yaml\n@@ -1,2 +1,2 @@\n a: 1\r\n"
        "-b: x\n\\ No newline at end of file\n+b: y\n\\ No newline at end of file\n"
    )
    assert unified_diff("f", "same\n", "same\n") == ""
