"""Plan contents: each written plan's files rewritten from the base, checked and diffed."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from image_bot.edit.find import find_in_text
from image_bot.model import Change, UpdatePlan
from image_bot.pipeline.repository import plan_contents
from image_bot.reference import parse_reference, with_tag

SHARED = (
    "services:\n  web:\n    image: ghcr.io/acme/web:1.0\n  api:\n    image: ghcr.io/acme/api:2.0\n"
)


def _plan(branch: str, changes: list[Change]) -> UpdatePlan:
    return UpdatePlan("repo", "main", branch, branch, tuple(changes), branch)


def _changes(root: Path, path: str, text: str) -> dict[str, Change]:
    (root / path).write_text(text)
    found = find_in_text(text, path)
    return {
        o.ref.name.repository: Change(o, o.ref, with_tag(o.ref, "9.9", None))
        for o in found.occurrences
    }


def test_each_plan_gets_only_its_own_edits_of_a_shared_file(tmp_path: Path) -> None:
    changes = _changes(tmp_path, "compose.yaml", SHARED)
    web, api = _plan("web", [changes["acme/web"]]), _plan("api", [changes["acme/api"]])
    contents, failed = plan_contents(tmp_path, [web, api])
    assert failed == []
    assert contents["web"].files == {"compose.yaml": SHARED.replace("web:1.0", "web:9.9")}
    assert contents["api"].files == {"compose.yaml": SHARED.replace("api:2.0", "api:9.9")}
    assert "+    image: ghcr.io/acme/web:9.9" in contents["web"].diff
    assert "api:9.9" not in contents["web"].diff


def test_a_file_that_fails_its_check_is_returned_and_not_written(tmp_path: Path) -> None:
    changes = _changes(tmp_path, "compose.yaml", SHARED)
    stale = changes["acme/web"]  # found in another text than the file now holds
    occurrence = replace(stale.occurrence, ref=parse_reference("ghcr.io/acme/web:0.1"))
    wrong = Change(occurrence, occurrence.ref, stale.new)
    contents, failed = plan_contents(tmp_path, [_plan("web", [wrong])])
    assert [(s.path, "not the reference" in s.reason) for s in failed] == [("compose.yaml", True)]
    assert contents["web"].files == {}


def test_no_plans_no_work(tmp_path: Path) -> None:
    assert plan_contents(tmp_path, []) == ({}, [])
