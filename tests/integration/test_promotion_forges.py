"""Promotion end to end on GitHub (PyGithub) and GitLab (python-gitlab) against the fake forge:
a new tag reaches dev by an update pull request that auto-merges; staging gets a promotion pull
request only once dev soaked it and the merge commit's checks are green (a failed check
blocks); prod only inside its window, with the digest staging runs though the tag was re-pushed
since; a hold stops it; a rollback pull request restores the previous digest; a pass with
nothing new writes nothing. Time moves with the pass's clock and the forge's check states."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from image_bot.cli import cli
from tests.fakeforge.control import FakeForge
from tests.integration.lifecycle_support import FORGES, Lifecycle
from tests.support.registry import RunningRegistry
from tests.support.runs import pass_at

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO = "acme/deploy"
STAGES = (
    "    stages:\n"
    "      - {name: dev, paths: [envs/dev], automerge: true}\n"
    "      - {name: staging, paths: [envs/staging], promote_from: [dev], soak: 24h,"
    " checks: success}\n"
    "      - name: prod\n"
    "        paths: [envs/prod]\n"
    "        promote_from: [staging]\n"
    "        window: {days: mon-fri, hours: '09:00-16:00', timezone: UTC}\n"
)


def deployment(image: str) -> str:
    return (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app}\nspec:\n  template:\n"
        f"    spec:\n      containers:\n        - name: app\n          image: {image}\n"
    )


def at_hour(after: datetime, hour: int, *, weekday: bool = False) -> datetime:
    """The first `hour`:00 UTC at or after `after` (on a weekday, if asked)."""
    moment = after.replace(minute=0, second=0, microsecond=0)
    while moment < after or moment.hour != hour or (weekday and moment.weekday() >= 5):
        moment += timedelta(hours=1)
    return moment


class Stages:
    """The repository on the fake forge, the bot's config and the passes."""

    def __init__(self, setup: Lifecycle) -> None:
        self.setup, self.forge = setup, setup.forge
        self.image = setup.app

    def configure(self, prod_extra: str = "") -> None:
        self.setup.write_config(STAGES + prod_extra)
        text = self.setup.config.read_text()
        self.setup.config.write_text("default_policy: {digest: pin}\n" + text)

    def run(self, now: datetime) -> dict[str, Any]:
        return pass_at(self.setup.config, self.setup.cache, now)

    def pull(self, prefix: str, state: str = "open") -> Any:
        (pull,) = [
            p for p in self.forge.pulls(REPO) if p.head.startswith(prefix) and p.state == state
        ]
        return pull

    def main(self) -> str:
        sha = self.forge.branch_sha(REPO, "main")
        assert sha is not None
        return sha

    def file(self, rev: str, stage: str) -> str:
        text = self.forge.read_file(REPO, rev, f"envs/{stage}/app.yaml")
        assert text is not None
        return text

    def ci(self, sha: str, *, passed: bool) -> None:
        """CI on the base branch reports on `sha`: a check run (GitHub), a pipeline (GitLab)."""
        if self.setup.kind == "github":
            self.forge.report_check(
                REPO, sha, "build", conclusion="success" if passed else "failure"
            )
        else:
            self.forge.report_pipeline(REPO, sha, "success" if passed else "failed")

    def no_writes(self, now: datetime) -> dict[str, Any]:
        self.forge.clear_calls()
        report = self.run(now)
        assert report["git_writes"] == 0 and self.forge.count_calls(writes=True) == 0, report
        return report


@pytest.fixture(params=FORGES)
def stages(
    request: pytest.FixtureRequest,
    fake_forge: FakeForge,
    registry: RunningRegistry,
    repo_name: str,
    tmp_path: Path,
) -> Stages:
    setup = Lifecycle(fake_forge, registry, request.param, repo_name, tmp_path / "image-bot.yaml",
                      tmp_path / "cache", REPO)  # fmt: skip
    first = registry.push_image(
        f"{repo_name}/app", "1.0.0", created=datetime(2025, 1, 1, tzinfo=UTC)
    )
    image = f"{setup.app}:1.0.0@{first}"
    fake_forge.create_repo(
        REPO, {f"envs/{s}/app.yaml": deployment(image) for s in ("dev", "staging", "prod")}
    )
    made = Stages(setup)
    made.configure()
    return made


def test_a_tag_is_promoted_dev_staging_prod_and_rolled_back(stages: Stages) -> None:
    forge, start = stages.forge, datetime.now(UTC)
    old = stages.file("main", "prod")
    new = stages.setup.registry.push_image(
        f"{stages.setup.namespace}/app", "1.1.0", created=datetime(2025, 2, 1, tzinfo=UTC)
    )
    report = stages.run(start)
    dev = stages.pull("image-bot/dev/")
    assert f":1.1.0@{new}" in stages.file(dev.head, "dev") and report["waiting"] == []
    forge.set_status(REPO, dev.head, "success")  # CI passes: auto-merge merges it
    merged = stages.main()
    assert stages.pull("image-bot/dev/", "closed").merged

    waiting = stages.run(start + timedelta(hours=1))
    (wait,) = waiting["waiting"]
    assert wait["stage"] == "staging" and wait["reason"].startswith("waiting for soak, 2")
    assert f"waiting for checks on {merged[:12]} (none reported)" in wait["reason"]
    stages.ci(merged, passed=False)
    (wait,) = stages.run(start + timedelta(hours=25))["waiting"]
    assert wait["reason"] == f"checks failed on {merged[:12]}" and wait["opens_at"] is None
    assert not [p for p in forge.pulls(REPO) if p.head.startswith("image-bot/promote/")]

    stages.ci(merged, passed=True)
    stages.run(start + timedelta(hours=25))
    staging = stages.pull("image-bot/promote/staging")
    assert staging.title == f"Promote {stages.image} 1.1.0@{new[:19]} from dev to staging"
    assert "### Trail" in staging.body and "checks success" in staging.body and new in staging.body
    # the content an update's pull request has, its policy being the promotion
    assert "- **update**: minor, chosen by `promotion from dev`" in staging.body
    assert f"- **digest**: `{new}`" in staging.body and "(built 2025-02-01" in staging.body
    assert f":1.1.0@{new}" in stages.file(staging.head, "staging")
    stages.no_writes(start + timedelta(hours=25))

    forge.merge_pull(REPO, staging.number)
    repushed = stages.setup.registry.push_image(
        f"{stages.setup.namespace}/app", "1.1.0", created=datetime(2025, 3, 1, tzinfo=UTC)
    )
    closed = at_hour(start + timedelta(hours=26), 20)
    (wait,) = stages.run(closed)["waiting"]
    assert wait["stage"] == "prod" and wait["reason"].startswith("outside the window")
    opens = at_hour(closed, 10, weekday=True)
    report = stages.run(opens)
    prod = stages.pull("image-bot/promote/prod")
    assert f":1.1.0@{new}" in stages.file(prod.head, "prod") and repushed not in prod.body
    envs = {e["image"]: e for e in report["environments"]}[stages.image]
    assert envs["behind"]["prod"]["versions"] == 1

    stages.configure("        hold: release freeze\n")
    held = stages.no_writes(opens + timedelta(minutes=5))
    assert [w["reason"] for w in held["waiting"]] == ["held: release freeze"]
    assert stages.pull("image-bot/promote/prod").number == prod.number  # kept open

    stages.configure()
    forge.merge_pull(REPO, prod.number)
    result = CliRunner().invoke(
        cli,
        ["rollback", "prod", "*/app", "--json", "--config", str(stages.setup.config),
         "--cache-dir", str(stages.setup.cache)],
        catch_exceptions=False,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (branch,) = json.loads(result.stdout)["repositories"][0]["branches"]
    rollback = stages.pull("image-bot/rollback/prod/")
    assert branch["action"] == "create" and rollback.head == branch["branch"]
    assert stages.file(rollback.head, "prod") == old  # the previous digest, exactly
    assert rollback.title.startswith(f"Roll back {stages.image} in prod to 1.0.0@")
