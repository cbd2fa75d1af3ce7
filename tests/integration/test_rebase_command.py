"""`/image-bot rebase`: the pull request's branch is rebuilt from the current base even though
its plan is unchanged (reconcile would keep it); real PyGithub and git over HTTP, fake forge."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from image_bot.cli.output.report import report_json
from image_bot.config.load import load_config
from image_bot.pipeline import PassOptions, run_pass
from image_bot.wiring.forges import Forges
from image_bot.wiring.passes import registry_opener
from tests.fakeforge.control import FakeForge
from tests.support.registry import RunningRegistry
from tests.support.runs import github_repository, run_once_ok

pytestmark = pytest.mark.integration

REPO = "acme/deploy"


def run_rebuilding(config: Path, work: Path, rebuild: set[tuple[str, int]]) -> dict:  # type: ignore[type-arg]
    """One pass as `serve` runs it after `/image-bot rebase` on those pull requests."""
    loaded = load_config(config)
    options = PassOptions(cache_dir=work / "cache", rebuild=frozenset(rebuild))
    report = run_pass(
        loaded, open_registry=registry_opener(loaded), forge_for=Forges(), options=options
    )
    assert report.exit_code == 0, report
    return json.loads(report_json(report))  # type: ignore[no-any-return]


def test_a_rebase_request_rebuilds_an_up_to_date_branch_on_the_new_base(
    fake_forge: FakeForge, registry: RunningRegistry, repo_name: str, tmp_path: Path
) -> None:
    config = tmp_path / "image-bot.yaml"
    github_repository(fake_forge, registry, repo_name, config, repository=REPO)
    run_once_ok(config, tmp_path)
    (pull,) = fake_forge.pulls(REPO)
    first = fake_forge.branch_sha(REPO, pull.head)
    base = fake_forge.commit(REPO, "main", {"README.md": "unrelated\n"}, message="docs")

    (kept,) = run_once_ok(config, tmp_path)["repositories"][0]["branches"]
    assert kept["action"] == "keep"  # the plan did not change: no rebuild on its own
    assert fake_forge.branch_sha(REPO, pull.head) == first

    report = run_rebuilding(config, tmp_path, {(REPO, pull.number)})
    (rebuilt,) = report["repositories"][0]["branches"]
    assert rebuilt["action"] == "update"
    head = fake_forge.branch_sha(REPO, pull.head)
    assert head == rebuilt["head_sha"] != first
    git = fake_forge.repo(REPO).git
    assert git.commit_info(head).parents == (base,)  # rebuilt on the current base
    assert fake_forge.read_file(REPO, head, "README.md") == "unrelated\n"
    assert [p.number for p in fake_forge.pulls(REPO)] == [pull.number]  # the same PR

    (after,) = run_once_ok(config, tmp_path)["repositories"][0]["branches"]
    assert after["action"] == "keep"  # the request was for that pass only
