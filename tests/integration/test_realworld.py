"""The real-world corpus through the CLI: `refs` finds every reference a user expects and no
other (bar the known false positives the expectations name), at the scalar that changes;
`set` changes only those references' bytes; `refs` again shows the new values.

Expectations were written by reading the files (tests/fixtures/realworld/README.md).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from image_bot.cli import cli
from image_bot.reference import split_reference
from tests.support.realworld import REPOS, Expected, by_file, expected_refs, repositories

pytestmark = pytest.mark.integration

NEW = "9.9.9-realworld"


def _refs(root: Path) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["refs", str(root), "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def _found(inventory: dict[str, Any], want: Expected) -> dict[str, Any] | None:
    for ref in inventory["refs"]:
        if (ref["file"], ref["line"]) == (want.path, want.line):
            return ref  # type: ignore[no-any-return]
    return None


def _after_set(text: str, wants: list[Expected]) -> str:
    """`text` with each expected reference's tag (and digest) set to NEW, by line."""
    lines = text.split("\n")
    for want in wants:
        line = lines[want.line - 1]
        name, tag, digest = split_reference(want.ref)
        if want.ref in line:  # one string: the whole reference
            lines[want.line - 1] = line.replace(want.ref, f"{name}:{NEW}", 1)
            continue
        old = (tag or "") + (f"@{digest}" if digest else "")  # a split reference's tag
        key, colon, value = line.partition(":")
        assert colon and old in value, (want, line)
        where = value.rfind(old) if old else value.find('""') + 1
        lines[want.line - 1] = f"{key}:{value[:where]}{NEW}{value[where + len(old) :]}"
    return "\n".join(lines)


@pytest.mark.parametrize("repo", repositories())
def test_every_expected_reference_is_found_set_and_read_again(repo: str, tmp_path: Path) -> None:
    refs, nots, files = expected_refs(repo)
    root = tmp_path / repo
    shutil.copytree(REPOS / repo, root)
    on_disk = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    assert sorted(files) == on_disk, "every file of the corpus has its expectations"

    inventory = _refs(root)
    for want in refs:  # found, at the scalar that changes, with the expected kind
        ref = _found(inventory, want)
        assert ref is not None, f"missing {want}"
        assert ref["kind"] == want.kind, want
        assert split_reference(want.ref)[1:] == (ref["tag"], ref["digest"]), want
    expected_places = {(w.path, w.line) for w in refs}
    known_extra = {(n.path, n.line) for n in nots if n.found}
    extra = {(r["file"], r["line"]) for r in inventory["refs"]} - expected_places
    assert extra == known_extra, "found references nobody expects (or a known one went away)"

    images = sorted({str(w.parsed.name) for w in refs})
    if not images:
        return
    befores = {path: (root / path).read_bytes() for path in files}
    result = CliRunner().invoke(
        cli, ["set", *(f"{image}={NEW}" for image in images), str(root)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    moved = [  # a known false positive of an image set here moves too
        Expected(n.path, n.line, "", n.ref)
        for n in nots
        if n.ref and str(Expected(n.path, n.line, "", n.ref).parsed.name) in images
    ]
    changed = by_file([*refs, *moved])
    for path in files:
        after = (root / path).read_bytes()
        if path not in changed:
            assert after == befores[path], f"{path} changed"
            continue
        expected = _after_set(befores[path].decode("utf-8"), changed[path])
        assert after.decode("utf-8") == expected, path  # only the references' bytes moved

    again = _refs(root)
    for want in refs:
        ref = _found(again, want)
        assert ref is not None and (ref["tag"], ref["digest"]) == (NEW, None), want
