"""publish.apply: a one-time comment is recorded in the PR's marker first, then posted, and a PR
whose marker already records it gets nothing (a recording Forge stands in for the HTTP one)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from image_bot.config import RepositorySpec
from image_bot.model import CheckState, PullRequest, PullRequestState
from image_bot.publish.apply import Publisher
from image_bot.publish.forge import PullRequestDraft
from image_bot.publish.git import Git
from image_bot.publish.pr.marker import NOTICE_CLOSED, NOTICE_HELD, PrMarker, decode_pr_marker
from image_bot.publish.pr.marker import encode_pr_marker as encode
from image_bot.publish.reconcile import Acknowledge, Hold

BODY = f"A human edited this text.\n\n{encode(PrMarker('web', 'f1', ('docker.io/a:1.1',)))}\n"


class RecordingForge:
    """Keeps every write in order; `update` returns the PR as the forge would list it."""

    name = "recording"

    def __init__(self) -> None:
        self.writes: list[tuple[str, str]] = []

    def bot_pull_requests(self, repo: str) -> list[PullRequest]:
        return []

    def create(self, repo: str, branch: str, base: str, draft: PullRequestDraft) -> PullRequest:
        raise AssertionError("not expected")

    def update(self, repo: str, pr: PullRequest, draft: PullRequestDraft) -> PullRequest:
        self.writes.append(("update", draft.body))
        assert (draft.title, draft.labels) == (pr.title, pr.labels)  # only the marker changes
        return pr

    def comment(self, repo: str, pr: PullRequest, body: str) -> None:
        self.writes.append(("comment", body))

    def close(self, repo: str, pr: PullRequest, comment: str | None = None) -> None:
        raise AssertionError("not expected")

    def enable_automerge(self, repo: str, pr: PullRequest) -> None:
        raise AssertionError("not expected")

    def checks(self, repo: str, sha: str) -> CheckState:
        raise AssertionError("not expected")


def publisher(tmp_path: Path, forge: RecordingForge) -> Publisher:
    spec = RepositorySpec(url="https://forge.invalid/acme/deploy.git")
    git = Git(tmp_path, spec.url)  # never run: comments need no git
    return Publisher(
        git, forge, spec.publish_settings(), "acme/deploy", "base", datetime(2026, 1, 1, tzinfo=UTC)
    )


def pull(state: PullRequestState, **fields: object) -> PullRequest:
    values: dict[str, object] = {"body": BODY, **fields}
    return PullRequest(
        7, "u", "image-bot/web", "main", "", state, title="Update a", fingerprint="f1",
        proposals=("docker.io/a:1.1",), labels=("deps",), **values,  # type: ignore[arg-type]
    )  # fmt: skip


def test_the_notice_is_recorded_before_the_comment_and_the_human_text_kept(
    tmp_path: Path,
) -> None:
    forge = RecordingForge()
    report = publisher(tmp_path, forge).apply(Acknowledge(pull(PullRequestState.CLOSED)), {})
    assert report.action == "acknowledge" and report.error is None
    (first, body), (second, comment) = forge.writes
    assert (first, second) == ("update", "comment")
    assert body.startswith("A human edited this text.\n\n")
    marker = decode_pr_marker(body)
    assert marker is not None and marker.notices == (NOTICE_CLOSED,)
    assert "`docker.io/a:1.1` again" in comment


def test_a_recorded_notice_or_a_pr_without_our_marker_gets_no_comment(tmp_path: Path) -> None:
    forge = RecordingForge()
    bot = publisher(tmp_path, forge)
    bot.apply(Acknowledge(pull(PullRequestState.CLOSED, notices=(NOTICE_CLOSED,))), {})
    bot.apply(Hold(pull(PullRequestState.OPEN, notices=(NOTICE_HELD,)), None, "pushed"), {})
    bot.apply(Hold(pull(PullRequestState.OPEN, body="a human's own PR"), None, "pushed"), {})
    assert forge.writes == []
    bot.apply(Hold(pull(PullRequestState.OPEN), None, "pushed"), {})
    assert [kind for kind, _ in forge.writes] == ["update", "comment"]
    assert "never force-pushes" in forge.writes[1][1]
