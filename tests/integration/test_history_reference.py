"""`image-bot history` against a slow reference: check out every first-parent commit of a
generated repository (merges, removals, a kustomization coming and going) and run `refs` on
it; the intervals each version ran per file and per stage must be the same."""

from __future__ import annotations

import json
import subprocess  # noqa: TID251  (tests drive real git repositories)
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from image_bot.cli import cli
from tests.support.historyrepo import generate, stages_config

pytestmark = [pytest.mark.integration, pytest.mark.slow]

Interval = tuple[
    str, str, str | None, str | None, str, str | None
]  # place, image, tag, digest, since, until


def _cli(*args: str) -> dict:  # type: ignore[type-arg]
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True
    ).stdout


def _stage(path: str) -> str | None:
    parts = path.split("/")
    return parts[1] if parts[0] == "envs" and len(parts) > 2 else None


def reference(repo: Path, *, by_stage: bool) -> set[Interval]:
    """Intervals from `refs --json` run on a checkout of every first-parent commit."""
    commits = [
        line.split(" ")
        for line in _git(repo, "log", "--first-parent", "--reverse", "--format=%H %cI").split("\n")
        if line
    ]
    running: dict[tuple[str, str, str | None, str | None], str] = {}
    found: set[Interval] = set()
    for sha, when in commits:
        _git(repo, "checkout", "--quiet", "--force", sha)
        refs = _cli("refs", str(repo), "--json")["refs"]
        now: Counter[tuple[str, str, str | None, str | None]] = Counter()
        for ref in refs:
            place = _stage(ref["file"]) if by_stage else ref["file"]
            if place is not None:
                now[(place, ref["image"], ref["tag"], ref["digest"])] += 1
        for key in list(running):
            if key not in now:
                found.add((*key, running.pop(key), when))
        for key in now:
            running.setdefault(key, when)
    found |= {(*key, since, None) for key, since in running.items()}
    _git(repo, "checkout", "--quiet", "--force", "main")
    return found


def observed(entries: list[dict], *, by_stage: bool) -> set[Interval]:  # type: ignore[type-arg]
    def utc(text: str | None) -> str | None:
        return text.replace("Z", "+00:00") if text else None

    return {
        (
            e["stage"] if by_stage else e["file"],
            e["image"],
            e["tag"],
            e["digest"],
            utc(e["since"]),
            utc(e["until"]),
        )
        for e in entries
    }


@pytest.mark.parametrize("seed", [3, 11])
def test_history_matches_refs_on_every_commit(tmp_path: Path, seed: int) -> None:
    repo = generate(tmp_path / "deploy", commits=70, images=3, seed=seed, kustomize=True).path
    config = stages_config(tmp_path / "image-bot.yaml", repo)

    by_file = _cli("history", str(repo), "--json")["entries"]
    assert all(e["stage"] is None and e["file"] for e in by_file)
    assert observed(by_file, by_stage=False) == reference(repo, by_stage=False)

    by_stage = _cli("history", str(repo), "--config", str(config), "--json")["entries"]
    assert observed(by_stage, by_stage=True) == reference(repo, by_stage=True)
    promoted = [e for e in by_stage if e["promoted_from"]]
    assert promoted and {e["promoted_from"] for e in promoted} <= {"dev", "staging"}
    assert any(e["pull_request"] for e in by_stage)  # the merges name their pull request
