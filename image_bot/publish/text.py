"""Plan -> PullRequestDraft and commit message: a table of changes and the hidden marker (pure).

Titles, bodies and commit messages are the user's templates (`config.TEMPLATE_FIELDS`) filled
from the plan; the marker is always appended, since it is how the bot knows its own work.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from dataclasses import replace

from image_bot.model import Change, ImageRef, UpdatePlan
from image_bot.publish.forge import PullRequestDraft
from image_bot.publish.pr_marker import PrMarker, encode_pr_marker
from image_bot.publish.settings import CommitSettings, PullRequestSettings

__all__ = [
    "closed_comment",
    "commit_message",
    "draft_for",
    "held_comment",
    "obsolete_comment",
    "pr_marker_for",
    "render_template",
    "template_fields",
    "version_text",
]

_LISTED = 3  # versions a title names before "and N more"
_INTRO = "image-bot updates the container images below to the versions their policies allow."


def version_text(ref: ImageRef) -> str:
    """What moved: `1.25` or `1.25@sha256:0123456789ab` (a digest alone is shortened too)."""
    digest = ref.digest[: len("sha256:") + 12] if ref.digest else None
    if ref.tag and digest:
        return f"{ref.tag}@{digest}"
    return ref.tag or digest or "latest"


def _location(change: Change) -> str:
    return f"{change.occurrence.path}:{change.occurrence.line}"


def _summary(plan: UpdatePlan) -> str:
    """`Update nginx to 1.27`; one image to several tags lists them (a group named after the
    image would only repeat it); several images: their count and the group. Promotions and
    rollbacks say so: `Promote nginx 1.27 from staging to prod`, `Roll back nginx in prod to`."""
    images = sorted({str(change.old.name) for change in plan.changes})
    targets = sorted({version_text(change.new) for change in plan.changes})
    if plan.promotion is not None and plan.promotion.rollback:
        return f"Roll back {', '.join(images)} in {plan.promotion.stage} to {', '.join(targets)}"
    if plan.promotion is not None:
        hop = f"{', '.join(plan.promotion.upstream)} to {plan.promotion.stage}"
        if len(images) == 1 and len(targets) == 1:
            return f"Promote {images[0]} {targets[0]} from {hop}"
        return f"Promote {len(images)} images from {hop}"
    if len(images) == 1:
        shown = ", ".join(targets[:_LISTED])
        more = f" and {len(targets) - _LISTED} more" if len(targets) > _LISTED else ""
        return f"Update {images[0]} to {shown}{more}"
    return f"Update {len(images)} images ({plan.group})"


def template_fields(plan: UpdatePlan) -> dict[str, str]:
    """The values of every template field for `plan`."""
    changes = "\n".join(
        f"- {change.old.name}: {version_text(change.old)} -> {version_text(change.new)}"
        f" ({_location(change)})"
        for change in plan.changes
    )
    return {
        "summary": _summary(plan),
        "changes": changes,
        "count": str(len(plan.changes)),
        "group": plan.group,
        "branch": plan.branch,
        "base": plan.base,
        "repository": plan.repo,
    }


class _Lenient(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render_template(template: str, fields: Mapping[str, str]) -> str:
    """`template` with `{field}`s filled; an unknown field is left as written."""
    return string.Formatter().vformat(template, (), _Lenient(fields))


def pr_marker_for(plan: UpdatePlan) -> PrMarker:
    """The marker a plan's pull request and commit carry."""
    proposals = tuple(sorted({change.new.canonical for change in plan.changes}))
    return PrMarker(group=plan.group, fingerprint=plan.fingerprint, proposals=proposals)


def _table(plan: UpdatePlan) -> str:
    rows = ["| image | old -> new | file:line |", "|---|---|---|"]
    rows.extend(
        f"| `{change.old.name}` | `{version_text(change.old)}` -> `{version_text(change.new)}`"
        f" | `{_location(change)}` |"
        for change in plan.changes
    )
    return "\n".join(rows)


def _intro(plan: UpdatePlan) -> str:
    if plan.promotion is None:
        return _INTRO
    if plan.promotion.rollback:
        return (
            f"image-bot rolls `{plan.promotion.stage}` back to the exact versions (tag and digest)"
            " it ran before, as its history on the base branch records them."
        )
    upstream = " and ".join(f"`{name}`" for name in plan.promotion.upstream)
    return (
        f"image-bot promotes the versions below from {upstream} to `{plan.promotion.stage}`:"
        f" the exact tags and digests {upstream} runs on `{plan.base}`, never looked up again."
    )


def draft_for(
    plan: UpdatePlan, spec: PullRequestSettings, notices: tuple[str, ...] = ()
) -> PullRequestDraft:
    """The pull request for `plan`: the body template (default: intro and table), the marker.

    `notices` are the one-time comments the PR already had (kept when its text is rewritten).
    """
    fields = template_fields(plan)
    body = (
        render_template(spec.body, fields).strip()
        if spec.body
        else f"{_intro(plan)}\n\n{_table(plan)}"
    )
    if plan.promotion is not None and plan.promotion.trail:
        body += "\n\n### Trail\n\n" + "\n".join(f"- {line}" for line in plan.promotion.trail)
    return PullRequestDraft(
        title=render_template(spec.title, fields).strip().splitlines()[0],
        body=f"{body}\n\n{encode_pr_marker(replace(pr_marker_for(plan), notices=notices))}\n",
        labels=spec.labels,
        reviewers=spec.reviewers,
        assignees=spec.assignees,
        draft=spec.draft,
    )


def commit_message(plan: UpdatePlan, spec: CommitSettings) -> str:
    """The commit message template filled from `plan`, then the marker."""
    text = render_template(spec.message, template_fields(plan)).strip()
    return f"{text}\n\n{encode_pr_marker(pr_marker_for(plan))}\n"


def _listed(proposals: Sequence[str]) -> str:
    return ", ".join(f"`{proposal}`" for proposal in proposals) or "its versions"


def closed_comment(proposals: Sequence[str]) -> str:
    """The one comment on a pull request closed without merging (Dependabot-style)."""
    return (
        f"image-bot will not propose {_listed(proposals)} again: this pull request was closed"
        " without merging. Newer versions will still be proposed in a new pull request."
    )


def held_comment(branch: str) -> str:
    """The one comment on a pull request whose branch someone else pushed to."""
    return (
        f"image-bot stopped updating this pull request: `{branch}` has commits that are not"
        " the bot's, and it never force-pushes over them. Merge or close it as you see fit;"
        " delete the branch to let image-bot start over."
    )


def obsolete_comment(reason: str) -> str:
    """The comment on a pull request the bot closes because nothing it proposes is wanted."""
    return f"image-bot closes this pull request: {reason}. Its branch is deleted."
