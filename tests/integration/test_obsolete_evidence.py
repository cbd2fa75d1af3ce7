"""Closing a bot pull request needs positive evidence, never "found nothing" (issue 14, item 1).

Through `image-bot run --once` against the fake forge on GitHub (real PyGithub, real git): a
`paths` entry that matches nothing is an error that closes nothing; a pass that finds no
reference, or cannot read the file a pull request changes, keeps it open; a reference moved on
by hand, a deleted file, or a file the configuration no longer covers closes it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from image_bot.cli import cli
from tests.fakeforge.control import FakeForge
from tests.integration.lifecycle_support import Lifecycle, new_lifecycle
from tests.support.registry import RunningRegistry

pytestmark = pytest.mark.integration


@pytest.fixture
def life(
    fake_forge: FakeForge, registry: RunningRegistry, repo_name: str, tmp_path: Path
) -> Lifecycle:
    life = new_lifecycle(fake_forge, registry, "github", repo_name, tmp_path)
    code, report = run(life)
    assert code == 0, report
    assert len(life.pulls("open")) == 2
    return life


def run(life: Lifecycle) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(cli, life.args(), catch_exceptions=False)
    assert result.stdout.startswith("{"), result.output
    return result.exit_code, json.loads(result.stdout)


def actions(report: dict[str, Any]) -> dict[str, tuple[str, str]]:
    (repository,) = report["repositories"]
    return {b["branch"]: (b["action"], b["reason"]) for b in repository["branches"]}


def side_branch(life: Lifecycle) -> str:
    (pull,) = [p for p in life.pulls("open") if p.title.startswith(f"Update {life.side} ")]
    return pull.head


def assert_untouched(life: Lifecycle, branches: dict[str, str]) -> None:
    assert len(life.pulls("open")) == 2
    assert life.bot_branches() == branches
    assert life.forge.count_calls(writes=True) == 0


def test_a_paths_entry_that_matches_nothing_is_an_error_and_closes_nothing(
    life: Lifecycle,
) -> None:
    branches = life.bot_branches()
    life.write_config("    paths: [clusters, deploy]\n")  # a typo next to a good entry
    life.forge.clear_calls()

    code, report = run(life)

    assert code == 1
    (repository,) = report["repositories"]
    assert repository["branches"] == []
    (error,) = repository["errors"]
    assert "clusters" in error and "does not exist" in error
    assert_untouched(life, branches)


def test_a_pass_that_finds_no_reference_closes_nothing(life: Lifecycle) -> None:
    branches = life.bot_branches()
    life.forge.commit(life.repo, "main", {"docs/README.md": "# how we deploy\n"})
    life.write_config("    paths: [docs]\n")  # exists, but holds no manifest
    life.forge.clear_calls()

    code, report = run(life)

    assert code == 0, report
    kept = actions(report)
    assert {action for action, _ in kept.values()} == {"keep"}, kept
    assert all("no image reference" in reason for _, reason in kept.values()), kept
    assert_untouched(life, branches)


def test_a_file_that_cannot_be_read_this_pass_keeps_its_pull_request(life: Lifecycle) -> None:
    side = side_branch(life)
    branches = life.bot_branches()
    broken = f"image: {life.side}:1.0.0\n  bad: [indent\n"
    life.forge.commit(life.repo, "main", {"deploy/side.yaml": broken})
    life.forge.clear_calls()

    code, report = run(life)

    assert code == 0, report
    action, reason = actions(report)[side]
    assert action == "keep"
    assert "deploy/side.yaml" in reason and "could not be read" in reason
    assert life.bot_branches()[side] == branches[side]
    assert len(life.pulls("open")) == 2


def test_a_reference_moved_on_by_hand_closes_its_pull_request(life: Lifecycle) -> None:
    side = side_branch(life)
    life.forge.commit(life.repo, "main", {"deploy/side.yaml": f"image: {life.side}:1.1.0\n"})

    code, report = run(life)

    assert code == 0, report
    action, reason = actions(report)[side]
    assert action == "close"
    assert reason.startswith("no change is needed any more")
    assert life.side in reason
    assert side not in life.bot_branches()


def test_a_deleted_file_closes_its_pull_request(life: Lifecycle) -> None:
    side = side_branch(life)
    life.forge.commit(life.repo, "main", {"deploy/side.yaml": None})

    code, report = run(life)

    assert code == 0, report
    action, reason = actions(report)[side]
    assert action == "close"
    assert "deploy/side.yaml" in reason and "gone" in reason
    assert side not in life.bot_branches()


def test_a_reference_removed_from_its_file_closes_its_pull_request(life: Lifecycle) -> None:
    side = side_branch(life)
    life.forge.commit(life.repo, "main", {"deploy/side.yaml": "# retired\nreplicas: 1\n"})

    code, report = run(life)

    assert code == 0, report
    action, reason = actions(report)[side]
    assert action == "close"
    assert "deploy/side.yaml no longer refers to" in reason
