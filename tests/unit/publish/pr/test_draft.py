"""publish.pr.draft: templates, the table of changes, the marker in bodies and commit messages."""

from __future__ import annotations

from image_bot.model import Change, UpdatePlan
from image_bot.plan import Grouping, make_plans
from image_bot.publish.pr.draft import (
    closed_comment,
    commit_message,
    draft_for,
    held_comment,
    obsolete_comment,
    version_text,
)
from image_bot.publish.pr.marker import decode_pr_marker
from image_bot.publish.settings import CommitSettings, PullRequestSettings
from image_bot.reference import parse_reference
from tests.unit.publish.factory import change


def plan_of(*changes: Change) -> UpdatePlan:
    """The one per-image plan of `changes` (all of one image)."""
    (plan,) = make_plans(
        "acme/deploy", "main", changes, grouping=Grouping(), branch_prefix="image-bot/",
        file_hashes={},
    )  # fmt: skip
    return plan


PLAN = plan_of(
    change("nginx:1.25", "1.27", "apps/web/deploy.yaml", 3),
    change("nginx:1.25", "1.27", "envs/dev/web.yaml", 9),
)


def test_the_default_title_names_the_image_and_version() -> None:
    assert draft_for(PLAN, PullRequestSettings()).title == "Update docker.io/library/nginx to 1.27"


def test_templates_fill_every_field_and_keep_unknown_ones() -> None:
    spec = PullRequestSettings(title="chore({group}): {count} refs on {base} in {repository}")
    assert draft_for(PLAN, spec).title == "chore(nginx): 2 refs on main in acme/deploy"
    body = draft_for(PLAN, PullRequestSettings(body="{branch}\n{changes}")).body
    assert body.startswith("image-bot/nginx\n- docker.io/library/nginx: 1.25 -> 1.27")


def test_the_default_body_has_a_row_per_change_and_the_marker() -> None:
    draft = draft_for(PLAN, PullRequestSettings(labels=("deps",), draft=True))
    row = "| `docker.io/library/nginx` |  | `1.25` -> `1.27` |  | `apps/web/deploy.yaml:3` |"
    assert row in draft.body
    assert "`envs/dev/web.yaml:9`" in draft.body
    marker = decode_pr_marker(draft.body)
    assert marker is not None
    assert marker.fingerprint == PLAN.fingerprint
    assert marker.proposals == ("docker.io/library/nginx:1.27",)
    assert (draft.labels, draft.draft) == (("deps",), True)


def test_the_commit_message_lists_each_change_and_carries_the_marker() -> None:
    message = commit_message(PLAN, CommitSettings())
    subject, changes, _ = message.split("\n\n")
    assert subject == "Update docker.io/library/nginx to 1.27"
    assert changes.splitlines() == [
        "- docker.io/library/nginx: 1.25 -> 1.27 (apps/web/deploy.yaml:3)",
        "- docker.io/library/nginx: 1.25 -> 1.27 (envs/dev/web.yaml:9)",
    ]
    marker = decode_pr_marker(message)
    assert marker is not None
    assert marker.fingerprint == PLAN.fingerprint


def test_versions_show_short_digests() -> None:
    digest = "sha256:" + "ab" * 32
    assert version_text(parse_reference(f"nginx:1.25@{digest}")) == "1.25@sha256:abababababab"
    assert version_text(parse_reference(f"nginx@{digest}")) == "sha256:abababababab"


def test_a_rewritten_body_keeps_the_notices_the_pull_request_already_had() -> None:
    marker = decode_pr_marker(draft_for(PLAN, PullRequestSettings(), ("held",)).body)
    assert marker is not None and marker.notices == ("held",)
    assert decode_pr_marker(draft_for(PLAN, PullRequestSettings()).body).notices == ()  # type: ignore[union-attr]


def test_lifecycle_comments_say_what_happens_next() -> None:
    closed = closed_comment(["docker.io/library/nginx:1.27"])
    assert "`docker.io/library/nginx:1.27` again" in closed
    assert "Newer versions will still be proposed" in closed
    assert "`image-bot/nginx`" in held_comment("image-bot/nginx")
    assert "never force-pushes" in held_comment("image-bot/nginx")
    assert obsolete_comment("no change is needed any more").startswith(
        "image-bot closes this pull request: no change is needed any more."
    )


def test_one_image_moving_to_two_tags_names_both_without_repeating_itself() -> None:
    plan = plan_of(
        change("ghcr.io/acme/app:1.0.0", "1.1.0", "a.yaml", 1),
        change("ghcr.io/acme/app:1.0.0-alpine", "1.1.0-alpine", "b.yaml", 1),
    )
    title = draft_for(plan, PullRequestSettings()).title
    assert title == "Update ghcr.io/acme/app to 1.1.0, 1.1.0-alpine"  # was `... (ghcr.io/acme/app)`
    many = plan_of(
        *(change(f"ghcr.io/acme/app:1.{i}.0", f"1.{i}.1", f"{i}.yaml", 1) for i in range(5))
    )
    assert draft_for(many, PullRequestSettings()).title == (
        "Update ghcr.io/acme/app to 1.0.1, 1.1.1, 1.2.1 and 2 more"
    )
