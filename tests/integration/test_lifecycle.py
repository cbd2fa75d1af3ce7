"""The publish lifecycle end to end, on GitHub (PyGithub) and GitLab (python-gitlab) against the
fake forge: one PR per group updated in place, human closes acknowledged once, conflicts rebuilt,
human pushes held with one comment, obsolete PRs closed with a comment and their branch deleted."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakeforge.control import FakeForge
from tests.fakeforge.state import PullRequest
from tests.integration.lifecycle_support import (
    FORGES,
    Lifecycle,
    assert_no_op,
    new_lifecycle,
    run,
)
from tests.support.registry import RunningRegistry

pytestmark = pytest.mark.integration


@pytest.fixture(params=FORGES)
def life(
    request: pytest.FixtureRequest,
    fake_forge: FakeForge,
    registry: RunningRegistry,
    repo_name: str,
    tmp_path: Path,
) -> Lifecycle:
    return new_lifecycle(fake_forge, registry, request.param, repo_name, tmp_path)


def pull_for(life: Lifecycle, image: str, state: str | None = "open") -> PullRequest:
    (pull,) = [p for p in life.pulls(state) if p.title.startswith(f"Update {image} ")]
    return pull


def test_one_pull_request_per_group_is_updated_in_place_by_a_newer_tag(life: Lifecycle) -> None:
    run(life)
    assert len(life.pulls("open")) == 2
    app = pull_for(life, life.app)
    assert app.title == f"Update {life.app} to 1.1.0"
    assert_no_op(life)

    life.push("app", "1.2.0")
    assert run(life)[app.head] == ("update",)
    updated = pull_for(life, life.app)
    assert updated.number == app.number  # the same pull request, not a second one
    assert updated.title == f"Update {life.app} to 1.2.0"
    assert "`1.2.0`" in updated.body
    assert life.forge.read_file(life.repo, app.head, "deploy/app.yaml") == (
        f"image: {life.app}:1.2.0\n"
    )
    assert len(life.pulls()) == 2
    assert not life.bot_comments(updated)
    assert_no_op(life)


def test_a_closed_proposal_is_ignored_with_one_comment_and_newer_ones_proposed(
    life: Lifecycle,
) -> None:
    run(life)
    app = pull_for(life, life.app)
    life.forge.close_pull(life.repo, app.number)

    actions = run(life)
    assert actions[app.head] == ("acknowledge", "prune", "keep")
    (comment,) = life.bot_comments(app)
    assert f"`{life.app}:1.1.0` again" in comment.body  # canonical ref of what it proposed
    assert app.head not in life.bot_branches()  # no orphan branch
    assert len(life.pulls("open")) == 1  # not proposed again
    assert_no_op(life)
    assert len(life.bot_comments(app)) == 1

    life.push("app", "1.2.0")
    assert run(life)[app.head] == ("create",)
    newer = pull_for(life, life.app)
    assert newer.number != app.number
    assert newer.title == f"Update {life.app} to 1.2.0"
    assert len(life.bot_comments(app)) == 1
    assert not life.bot_comments(newer)
    assert_no_op(life)


def test_a_conflicting_base_change_rebuilds_the_branch_an_unrelated_one_does_not(
    life: Lifecycle,
) -> None:
    run(life)
    app = pull_for(life, life.app)
    life.forge.commit(life.repo, "main", {"README.md": "unrelated\n"})
    assert_no_op(life)  # still mergeable: no churn, no CI rerun

    ops = f"# pinned by ops\nimage: {life.app}:1.0.0\n"
    new_base = life.forge.commit(life.repo, "main", {"deploy/app.yaml": ops})
    assert run(life)[app.head] == ("update",)
    rebuilt = pull_for(life, life.app)
    assert rebuilt.number == app.number
    assert life.forge.read_file(life.repo, app.head, "deploy/app.yaml") == ops.replace(
        ":1.0.0", ":1.1.0"
    )
    merged = life.forge.merge_pull(life.repo, app.number)  # raises if it conflicted
    assert merged != new_base
    assert life.forge.read_file(life.repo, "main", "deploy/app.yaml") == ops.replace(
        ":1.0.0", ":1.1.0"
    )


def test_a_human_push_is_never_overwritten_and_gets_one_comment(life: Lifecycle) -> None:
    run(life)
    app = pull_for(life, life.app)
    human = life.forge.commit(life.repo, app.head, {"NOTES.md": "reviewing\n"}, message="note")

    life.push("app", "1.2.0")
    assert run(life)[app.head] == ("hold",)
    assert life.forge.branch_sha(life.repo, app.head) == human
    (comment,) = life.bot_comments(app)
    assert "never force-pushes" in comment.body

    life.push("app", "1.3.0")
    assert run(life)[app.head] == ("hold",)
    assert life.forge.branch_sha(life.repo, app.head) == human
    assert len(life.bot_comments(app)) == 1  # once, not once per pass
    life.forge.clear_calls()
    run(life)
    assert life.forge.count_calls(writes=True) == 0
    assert len(life.pulls("open")) == 2


def test_a_pull_request_made_obsolete_by_config_is_closed_with_a_comment(
    life: Lifecycle,
) -> None:
    run(life)
    side = pull_for(life, life.side)
    life.write_config("    exclude: ['deploy/side.yaml']\n")

    assert run(life)[side.head] == ("close",)
    closed = life.forge.pull(life.repo, side.number)
    assert closed.state == "closed" and closed.merged_at is None
    (comment,) = life.bot_comments(side)
    assert comment.body.startswith("image-bot closes this pull request: no change is needed")
    assert side.head not in life.bot_branches()
    assert [p.title for p in life.pulls("open")] == [f"Update {life.app} to 1.1.0"]
    assert_no_op(life)  # a PR the bot closed is not "acknowledged" as a human close
    assert len(life.bot_comments(side)) == 1
