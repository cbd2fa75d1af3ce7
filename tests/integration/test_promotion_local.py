"""Promotion end to end on a plain git remote (the local forge): a new tag reaches dev by an
update branch; staging gets a promotion branch only once dev soaked it; prod only inside its
window and with the digest staging runs, whatever the registry says by then; a hold stops
it; a pass with nothing new writes nothing. Time moves with commit dates and the pass's clock,
never with sleeps."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from image_bot.cli import cli
from tests.support.gitrepo import GitRemote, MakeRemote, git_cmd
from tests.support.registry import RunningRegistry
from tests.support.runs import pass_at

pytestmark = pytest.mark.integration

BOT = "image-bot@example.com"
MONDAY = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)  # every time below counts from here


def deployment(image: str) -> str:
    return (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app}\nspec:\n  template:\n"
        f"    spec:\n      containers:\n        - name: app\n          image: {image}\n"
    )


class Promotion:
    """A registry image, a remote with envs/{dev,staging,prod}, the config, and the clock."""

    def __init__(self, registry: RunningRegistry, remote: GitRemote, name: str, work: Path):
        self.registry, self.remote, self.work, self.name = registry, remote, work, name
        self.image = f"{registry.host}/{name}"
        self.config = work / "image-bot.yaml"
        self.write_config()

    def write_config(self, prod_extra: str = "") -> None:
        self.config.write_text(
            f"registries: [{{host: '{self.registry.host}', insecure: true}}]\n"
            "default_policy: {digest: pin}\n"
            "repositories:\n"
            f"  - url: '{self.remote.url}'\n"
            f"    commit: {{author_email: {BOT}}}\n"
            "    stages:\n"
            "      - {name: dev, paths: [envs/dev]}\n"
            "      - {name: staging, paths: [envs/staging], promote_from: [dev], soak: 24h}\n"
            "      - name: prod\n"
            "        paths: [envs/prod]\n"
            "        promote_from: [staging]\n"
            "        window: {days: mon-fri, hours: '09:00-16:00', timezone: UTC}\n" + prod_extra
        )

    def run(self, at: timedelta) -> dict[str, Any]:
        """One pass at MONDAY + `at`; the repository's part of the JSON report."""
        return pass_at(self.config, self.work / "cache", MONDAY + at)

    def merge(self, branch: str, at: timedelta) -> None:
        """A human merges the bot's branch into main at MONDAY + `at` (the committer date)."""
        when = f"{int((MONDAY + at).timestamp())} +0000"
        scratch = self.remote.scratch
        git_cmd(
            scratch,
            "fetch",
            "--quiet",
            "origin",
            f"+{branch}:refs/remotes/origin/{branch}",
            "+main:refs/remotes/origin/main",
        )
        git_cmd(scratch, "checkout", "--quiet", "--force", "-B", "main", "origin/main")
        git_cmd(
            scratch,
            "merge",
            "--quiet",
            "--no-ff",
            f"origin/{branch}",
            "-m",
            f"Merge pull request #7 from acme/{branch}",
            env={"GIT_COMMITTER_DATE": when},
        )
        git_cmd(scratch, "push", "--quiet", "origin", "main", f":{branch}")

    def file(self, stage: str, rev: str = "main") -> str:
        return self.remote.show(rev, f"envs/{stage}/app.yaml")


@pytest.fixture
def promotion(
    registry: RunningRegistry, git_remote: MakeRemote, repo_name: str, tmp_path: Path
) -> Promotion:
    first = registry.push_image(repo_name, "1.0.0", created=datetime(2025, 1, 1, tzinfo=UTC))
    image = f"{registry.host}/{repo_name}:1.0.0@{first}"
    remote = git_remote(
        files={f"envs/{s}/app.yaml": deployment(image) for s in ("dev", "staging", "prod")}
    )
    return Promotion(registry, remote, repo_name, tmp_path)


def actions(report: dict) -> dict[str, str]:  # type: ignore[type-arg]
    return {b["branch"]: b["action"] for b in report["branches"]}


def test_a_version_travels_dev_staging_prod_through_its_gates(promotion: Promotion) -> None:
    new = promotion.registry.push_image(
        promotion.name, "1.1.0", created=datetime(2025, 2, 1, tzinfo=UTC)
    )
    report = promotion.run(timedelta(0))
    (dev_branch,) = actions(report)  # only dev asks the registry
    assert dev_branch.startswith("image-bot/dev/") and actions(report)[dev_branch] == "create"
    assert f":1.1.0@{new}" in promotion.file("dev", dev_branch)
    assert report["waiting"] == []

    promotion.merge(dev_branch, timedelta(hours=1))
    report = promotion.run(timedelta(hours=2))
    (wait,) = report["waiting"]
    assert (wait["stage"], wait["reason"]) == ("staging", "waiting for soak, 23h left")
    assert wait["opens_at"] == "2026-01-06T11:00:00Z"
    assert "image-bot/promote/staging" not in promotion.remote.branches()

    report = promotion.run(timedelta(hours=25))
    assert actions(report)["image-bot/promote/staging"] == "create"
    assert f":1.1.0@{new}" in promotion.file("staging", "image-bot/promote/staging")
    message = promotion.remote.message("image-bot/promote/staging")
    assert message.startswith(f"Promote {promotion.image} 1.1.0@")
    assert "from dev to staging" in message.splitlines()[0]
    cells = {c["image"]: c for c in report["environments"]}[promotion.image]
    assert cells["behind"]["staging"]["versions"] == 1

    refs = promotion.remote.refs()
    again = promotion.run(timedelta(hours=25, minutes=5))
    assert set(actions(again).values()) == {"keep"} and again["git_writes"] == 0
    assert promotion.remote.refs() == refs

    promotion.merge("image-bot/promote/staging", timedelta(hours=26))
    repushed = promotion.registry.push_image(
        promotion.name, "1.1.0", created=datetime(2025, 3, 1, tzinfo=UTC)
    )
    assert repushed != new
    evening = promotion.run(timedelta(hours=34))  # Tuesday 20:00: the window is closed
    (wait,) = evening["waiting"]
    assert wait["stage"] == "prod"
    assert wait["reason"].startswith("outside the window mon-fri 09:00-16:00 UTC")
    assert wait["opens_at"] == "2026-01-07T09:00:00Z"

    morning = promotion.run(timedelta(hours=47))  # Wednesday 09:00
    assert actions(morning)["image-bot/promote/prod"] == "create"
    prod = promotion.file("prod", "image-bot/promote/prod")
    assert f":1.1.0@{new}" in prod and repushed not in prod  # the digest staging runs

    promotion.write_config("        hold: incident 42\n")
    held = promotion.run(timedelta(hours=48))
    assert actions(held)["image-bot/promote/prod"] == "keep"  # its pull request stays
    (wait,) = held["waiting"]
    assert wait["reason"] == "held: incident 42" and wait["opens_at"] is None
    assert held["git_writes"] == 0
    text = CliRunner().invoke(
        cli,
        ["run", "--once", "--dry-run", "--no-state", "--config", str(promotion.config),
         "--cache-dir", str(promotion.work / "cache")],
        catch_exceptions=False,
    )  # fmt: skip
    # this pass runs on the real clock, so the window may add its own reason after the hold's
    (line,) = [line for line in text.stdout.splitlines() if line.startswith("  prod: ")]
    assert line.startswith("  prod: held: incident 42") and f"  [{promotion.image} 1.1.0@" in line


def test_a_rollback_restores_the_previous_digest_and_is_not_promoted_over(
    promotion: Promotion,
) -> None:
    good, bad = (
        f"{promotion.image}:1.1.0@sha256:{'1' * 64}",
        f"{promotion.image}:1.1.0@sha256:{'2' * 64}",
    )
    for stage in ("dev", "staging", "prod"):  # 1.1.0 reached every stage by hand
        promotion.remote.commit("main", {f"envs/{stage}/app.yaml": deployment(good)}, "up")
    promotion.remote.commit("main", {"envs/prod/app.yaml": deployment(bad)}, "oops")

    result = CliRunner().invoke(
        cli,
        ["rollback", "prod", "*" + promotion.name.rsplit("/", 1)[-1], "--json",
         "--config", str(promotion.config), "--cache-dir", str(promotion.work / "cache")],
        catch_exceptions=False,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (branch,) = json.loads(result.stdout)["repositories"][0]["branches"]
    assert branch["action"] == "create" and branch["branch"].startswith("image-bot/rollback/prod/")
    assert branch["title"] == f"Roll back {promotion.image} in prod to 1.1.0@sha256:111111111111"
    assert promotion.file("prod", branch["branch"]) == deployment(good)

    report = promotion.run(timedelta(hours=50))  # a pass leaves the rollback alone
    assert actions(report)[branch["branch"]] == "keep"
    promotion.merge(branch["branch"], timedelta(hours=51))
    promotion.remote.commit("main", {"envs/staging/app.yaml": deployment(bad)}, "staging too")
    report = promotion.run(timedelta(hours=52))
    (wait,) = [w for w in report["waiting"] if w["stage"] == "prod"]
    assert "prod was rolled back from 1.1.0@sha256:222222222222" in wait["reason"]
    assert not [b for b in promotion.remote.branches() if b.startswith("image-bot/promote/")]


def test_each_shape_takes_what_it_can_hold_of_the_exact_artifact_and_then_settles(
    registry: RunningRegistry, git_remote: MakeRemote, repo_name: str, tmp_path: Path
) -> None:
    digest = registry.push_image(repo_name, "1.1.0", created=datetime(2025, 1, 1, tzinfo=UTC))
    image = f"{registry.host}/{repo_name}"
    values = f"image:\n  repository: {image}\n  tag: 1.0.0\n"  # Helm values: no digest field
    version = "spec:\n  version: 1.0.0\n"  # a target that holds the tag alone
    remote = git_remote(
        files={
            "envs/dev/app.yaml": deployment(f"{image}:1.1.0@{digest}"),
            "envs/staging/values.yaml": values,
            "envs/prod/db.yaml": version,
        }
    )
    promotion = Promotion(registry, remote, repo_name, tmp_path)
    target = f"{{files: envs/prod/db.yaml, path: spec.version, image: '{image}', part: tag}}"
    config = promotion.config.read_text()
    promotion.config.write_text(
        config.replace("    stages:", f"    targets: [{target}]\n    stages:")
    )
    later = timedelta(days=400)  # long after every commit: soak and window are no matter
    later += timedelta(hours=(9 - (MONDAY + later).hour) % 24)  # 09:00, a weekday below
    while (MONDAY + later).weekday() >= 5:
        later += timedelta(days=1)
    report = promotion.run(later)
    assert report["waiting"] == []
    # a Helm tag holds `tag@digest` (edit.written): the digest dev runs, never re-resolved
    staging = promotion.remote.show("image-bot/promote/staging", "envs/staging/values.yaml")
    assert staging == values.replace("1.0.0", f"1.1.0@{digest}")
    promotion.merge("image-bot/promote/staging", later)
    settled = promotion.run(later + timedelta(minutes=1))
    assert settled["waiting"] == []
    assert actions(settled) == {"image-bot/promote/prod": "create"}  # staging is not again
    prod = promotion.remote.show("image-bot/promote/prod", "envs/prod/db.yaml")
    assert prod == version.replace("1.0.0", "1.1.0")  # no room for the digest: the tag alone
    promotion.merge("image-bot/promote/prod", later + timedelta(minutes=2))
    done = promotion.run(later + timedelta(minutes=3))
    assert (done["waiting"], actions(done), done["git_writes"]) == ([], {}, 0)  # it settles
