"""The API budget of a pass with nothing new: a repository with 20 open bot pull requests (three
with human comments) and a dashboard costs at most 3 reads and no write on each forge
(GitHub: the pull requests, the dashboard, the open pull requests' comment counts; GitLab:
the merge requests, with their note counts, and the dashboard). `benchmarks/forge_calls.py`
prints the same figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakeforge.control import FakeForge
from tests.support.budget import no_op_pass, scene
from tests.support.registry import RunningRegistry

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.mark.parametrize(("kind", "reads"), [("github", 3), ("gitlab", 2)])
def test_a_no_op_pass_with_20_bot_pull_requests_and_a_dashboard(
    kind: str,
    reads: int,
    *,
    fake_forge: FakeForge,
    registry: RunningRegistry,
    repo_name: str,
    tmp_path: Path,
) -> None:
    made = scene(fake_forge, registry, kind, tmp_path, namespace=repo_name)
    assert len([p for p in fake_forge.pulls("acme/deploy") if p.state == "open"]) == 20
    assert len(fake_forge.issues("acme/deploy")) == 1  # the dashboard
    counted_reads, writes, report = no_op_pass(made)
    assert {b.action for b in report.repositories[0].branches} == {"keep"}
    assert (counted_reads, writes) == (reads, 0)
    assert fake_forge.count_calls("git", writes=True) == 0
