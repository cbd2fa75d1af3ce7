"""RunReport -> status page: proposed versions, open PRs only, branch errors shown."""

from __future__ import annotations

from datetime import UTC, datetime

from image_bot.model import (
    Change,
    ImageName,
    ImageRef,
    Occurrence,
    OccurrenceKind,
    StageVersion,
    Waiting,
)
from image_bot.report import BranchReport, RepositoryReport
from image_bot.service.pass_results import repository_status

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
APP = ImageName("ghcr.io", "acme/app")


def change(old_tag: str, new_tag: str | None, digest: str | None = None) -> Change:
    old = ImageRef(APP, old_tag, text=f"ghcr.io/acme/app:{old_tag}")
    new = ImageRef(APP, new_tag, digest, text="ignored")
    return Change(Occurrence("a.yaml", 0, (), OccurrenceKind.COMPOSE, old, {}), old, new)


def test_open_closed_and_failed_branches() -> None:
    report = RepositoryReport(
        repository="https://git.example.com/acme/gitops.git",
        base="main",
        branches=(
            BranchReport(
                branch="image-bot/app",
                action="update",
                title="Update app",
                url="https://gitlab.example.com/acme/gitops/-/merge_requests/12",
                changes=(change("1.0", "1.2"),),
            ),
            BranchReport(
                branch="image-bot/gone",
                action="close",
                url="https://gitlab.example.com/acme/gitops/-/merge_requests/9",
            ),
            BranchReport(
                branch="image-bot/pinned",
                action="create",
                changes=(change("2.0", None, "sha256:" + "a" * 64),),
                error="push rejected",
            ),
            BranchReport(branch="image-bot/local", action="create", url="file:///tmp/x"),
        ),
        errors=("checkout failed",),
    )
    status = repository_status("acme/gitops", report, finished=NOW, next_pass=None)
    assert [(i.current, i.proposed, i.note) for i in status.images] == [
        ("1.0", "1.2", "update image-bot/app"),
        ("2.0", "sha256:" + "a" * 64, "create image-bot/pinned"),
    ]
    assert [(p.number, p.title, p.base) for p in status.pull_requests] == [
        (12, "Update app", "main"),
        (None, "image-bot/local", "main"),  # no number in the URL, titled by its branch
    ]
    assert status.errors == ("checkout failed", "image-bot/pinned: push rejected")
    assert status.last_pass == NOW


def test_stages_environments_and_waiting_promotions_reach_the_status_page() -> None:
    cell = StageVersion("prod", APP, "1.0", None, NOW, behind_versions=2, behind_since=NOW)
    wait = Waiting("prod", APP, "1.2", "outside the window mon-fri 09:00-16:00 UTC", NOW)
    report = RepositoryReport(
        repository="r", base="main", stages=("dev", "prod"), environments=(cell,), waiting=(wait,)
    )
    status = repository_status("r", report, finished=NOW, next_pass=None)
    assert (status.stages, status.environments, status.waiting) == (
        ("dev", "prod"),
        (cell,),
        (wait,),
    )
