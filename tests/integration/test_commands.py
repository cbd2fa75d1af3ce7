"""`/image-bot` commands and the dashboard end to end, on GitHub (PyGithub) and GitLab
(python-gitlab) against the fake forge, through `image-bot run --once`: every command, the
permission refusal, each dashboard box, one reply per command, state kept in the forge, a
lost reply never repeated, and a pass after all that writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from image_bot.publish.steering.memory import decode_memory
from tests.fakeforge.control import FakeForge
from tests.fakeforge.state import Comment, PullRequest, User
from tests.integration.lifecycle_support import (
    FORGES,
    Lifecycle,
    assert_no_op,
    new_lifecycle,
    run,
)
from tests.support.registry import RunningRegistry

pytestmark = pytest.mark.integration

DASHBOARD = "    dashboard: {enabled: true}\n"


@pytest.fixture(params=FORGES)
def life(
    request: pytest.FixtureRequest,
    fake_forge: FakeForge,
    registry: RunningRegistry,
    repo_name: str,
    tmp_path: Path,
) -> Lifecycle:
    setup = new_lifecycle(fake_forge, registry, request.param, repo_name, tmp_path)
    setup.write_config(DASHBOARD)
    return setup


def dashboard(life: Lifecycle) -> PullRequest:
    (issue,) = life.forge.issues(life.repo)
    return issue


def pull_for(life: Lifecycle, image: str, state: str = "open") -> PullRequest:
    (pull,) = [p for p in life.pulls(state) if p.title.startswith(f"Update {image} ")]
    return pull


def replies(item: PullRequest, life: Lifecycle) -> list[str]:
    return [c.body for c in item.comments if c.author == life.forge.bot]


def say(life: Lifecycle, number: int, text: str, who: User | None = None) -> Comment:
    return life.forge.comment_as(who or life.forge.human, life.repo, number, text)


def test_rebase_explain_and_a_refused_stranger(life: Lifecycle) -> None:
    run(life)
    app = pull_for(life, life.app)
    first = life.forge.branch_sha(life.repo, app.head)
    life.forge.commit(life.repo, "main", {"README.md": "moved\n"}, message="docs")
    stranger = life.forge.add_user("mallory")
    say(life, app.number, "/image-bot rebase")
    say(life, app.number, "Thanks!\n/image-bot explain " + life.app)
    say(life, app.number, "/image-bot rebase", who=stranger)
    say(life, app.number, "/image-bot frobnicate")
    say(life, app.number, "LGTM")

    actions = run(life)
    assert actions[app.head] == ("update",)  # rebuilt although its plan is unchanged
    assert life.forge.branch_sha(life.repo, app.head) != first
    texts = replies(life.forge.pull(life.repo, app.number), life)
    assert len(texts) == 4  # one reply per command; none to "LGTM"
    rebase, explain, refused, unknown = texts
    assert "`/image-bot rebase`: done" in rebase
    assert "explain" in explain and "selected: `1.1.0`" in explain
    assert "@mallory" in refused and "refused" in refused and "write access" in refused
    assert "refused" in unknown and "unknown command" in unknown
    assert_no_op(life)  # every command was recorded: nothing is done or said twice


def test_ignore_unignore_box_hold_and_pin(life: Lifecycle) -> None:
    run(life)
    app, side = pull_for(life, life.app), pull_for(life, life.side)
    say(life, app.number, "/image-bot ignore")  # what it proposes: app 1.1.0
    run(life)
    assert life.forge.pull(life.repo, app.number).state == "closed"  # nothing left to propose
    memory = decode_memory(dashboard(life).body)
    assert memory is not None and memory.ignored(life.app) == ("1.1.0",)
    assert "Unignore" in dashboard(life).body
    closed, done = replies(life.forge.pull(life.repo, app.number), life)
    assert "closes this pull request" in closed
    assert "`/image-bot ignore`: done" in done

    issue = dashboard(life)
    say(life, issue.number, f"/image-bot hold {life.side}")
    say(life, issue.number, f"/image-bot pin {life.app} 1.0.0")
    issue.body = issue.body.replace(
        "- [ ] <!-- image-bot-box: unignore", "- [x] <!-- image-bot-box: unignore"
    )
    run(life)
    memory = decode_memory(dashboard(life).body)
    assert memory is not None
    assert memory.ignores == () and memory.holds == (life.side,)
    assert memory.pins == ((life.app, "1.0.0"),)
    assert "- [x]" not in dashboard(life).body  # the box was acted on, then unticked
    assert not [p for p in life.pulls("open") if p.title.startswith(f"Update {life.app} ")]
    assert life.forge.pull(life.repo, side.number).state == "open"  # held: left as it is
    assert len(replies(dashboard(life), life)) == 2
    assert_no_op(life)

    say(life, dashboard(life).number, f"/image-bot unpin {life.app}")
    run(life)
    assert pull_for(life, life.app).title.endswith("1.1.0")  # its policy again
    assert_no_op(life)


def test_open_now_box_skips_the_limit(life: Lifecycle) -> None:
    life.write_config(DASHBOARD + "    limits: {max_open_pull_requests: 1}\n")
    run(life)
    assert len(life.pulls("open")) == 1
    body = dashboard(life).body
    assert "Open now" in body and "the pull request limit is reached" in body
    dashboard(life).body = body.replace(
        "- [ ] <!-- image-bot-box: open", "- [x] <!-- image-bot-box: open"
    )
    actions = run(life)
    assert ("create",) in actions.values()
    assert len(life.pulls("open")) == 2
    assert "Open now" not in dashboard(life).body


def test_a_lost_reply_is_never_repeated_nor_its_command(life: Lifecycle) -> None:
    run(life)
    app = pull_for(life, life.app)
    say(life, app.number, "/image-bot rebase")
    notes = r"/issues/\d+/comments$" if life.kind == "github" else r"/notes$"
    life.forge.inject_fault(life.kind, 422, method="POST", path=notes, times=1)
    actions = run(life)  # the command is recorded, then its reply fails (a crash there)
    assert actions[app.head] == ("update",)
    assert replies(life.forge.pull(life.repo, app.number), life) == []
    actions = run(life)
    assert actions[app.head] == ("keep",)  # not rebuilt again
    assert replies(life.forge.pull(life.repo, app.number), life) == []


def test_commands_without_a_dashboard_keep_nothing_they_cannot(life: Lifecycle) -> None:
    life.write_config()
    run(life)
    assert life.forge.issues(life.repo) == []  # opt-in: no dashboard
    app = pull_for(life, life.app)
    say(life, app.number, "/image-bot ignore major")
    say(life, app.number, "/image-bot rebase")
    actions = run(life)
    assert actions[app.head] == ("update",)
    refused, done = replies(life.forge.pull(life.repo, app.number), life)
    assert "refused" in refused and "dashboard" in refused
    assert "done" in done
    assert_no_op(life)
