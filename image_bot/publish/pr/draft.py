"""Plan -> PullRequestDraft and commit message: the body, labels and the hidden marker (pure).

Titles, bodies and commit messages are the user's templates (`publish.pr.templates`: the
`{field}` style or sandboxed Jinja2) filled from the plan and its `ChangeDetails`; the
default body is `publish.pr.body`'s. The marker is always appended, since it is how the bot
knows its own work, and anything in the text above it that looks like a marker is defused.
A template that fails to render falls back to the default body, saying so.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from image_bot.model import Change, ChangeDetails, UpdatePlan
from image_bot.publish.forge import PullRequestDraft
from image_bot.publish.pr.body import (
    DetailsByChange,
    default_body,
    details_key,
    jinja_fields,
    promotion_trail,
    version_text,
)
from image_bot.publish.pr.marker import PrMarker, encode_pr_marker
from image_bot.publish.pr.templates import TemplateError, render
from image_bot.publish.settings import CommitSettings, PullRequestSettings

__all__ = [
    "closed_comment",
    "commit_message",
    "draft_for",
    "held_comment",
    "labels_for",
    "obsolete_comment",
    "pr_marker_for",
    "render_template",
    "template_fields",
    "version_text",
]

log = logging.getLogger(__name__)

_LISTED = 3  # versions a title names before "and N more"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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


def render_template(template: str, fields: Mapping[str, str]) -> str:
    """A `{field}` template filled; an unknown field is left as written (Jinja templates
    see these fields only, without the changes list: `draft_for` gives them more)."""
    return render(template, fields, {**fields, "changes_text": fields.get("changes", "")})


def pr_marker_for(plan: UpdatePlan) -> PrMarker:
    """The marker a plan's pull request and commit carry."""
    proposals = tuple(sorted({change.new.canonical for change in plan.changes}))
    return PrMarker(group=plan.group, fingerprint=plan.fingerprint, proposals=proposals)


def labels_for(
    plan: UpdatePlan, spec: PullRequestSettings, details: DetailsByChange
) -> tuple[str, ...]:
    """`spec.labels`, then the labels of each update type the plan's changes have."""
    types = {details[k].update_type.value for k in map(details_key, plan.changes) if k in details}
    extra = [label for kind, names in spec.update_type_labels if kind in types for label in names]
    return tuple(dict.fromkeys((*spec.labels, *extra)))


def _defused(text: str) -> str:
    """`text` with anything that could pass for a hidden marker made visible and inert."""
    return text.replace("<!-- image-bot", "&lt;!-- image-bot")


def _body(
    plan: UpdatePlan,
    spec: PullRequestSettings,
    details: DetailsByChange,
    now: datetime,
    labels: Sequence[str],
) -> str:
    if not spec.body:
        return default_body(plan, details, now)
    fields = template_fields(plan)
    try:
        body = render(spec.body, fields, jinja_fields(plan, details, now, fields, labels)).strip()
    except TemplateError as error:
        log.warning("pull_request.body failed; using the default body: %s", error)
        failed = f"*(The configured body template failed: {error}. This is the default body.)*"
        return f"{default_body(plan, details, now)}\n\n{failed}"
    return body + promotion_trail(plan)


def draft_for(
    plan: UpdatePlan,
    spec: PullRequestSettings,
    notices: tuple[str, ...] = (),
    *,
    details: Mapping[tuple[str, str], ChangeDetails] | None = None,
    now: datetime | None = None,
    read: tuple[int, int] = (0, 0),
) -> PullRequestDraft:
    """The pull request for `plan`: title and body templates (default: intro, table and a
    section per change), labels (by update type too), the marker.

    `notices` are the one-time comments the PR already had (kept when its text is rewritten);
    `details` (by `publish.pr.body.details_key`) what is known about each change at `now`;
    `read` the (seen, cursor) of its comments, kept like the notices.
    """
    known = details or {}
    when = now or _EPOCH
    labels = labels_for(plan, spec, known)
    body = _defused(_body(plan, spec, known, when, labels))
    fields = template_fields(plan)
    try:
        title = render(spec.title, fields, jinja_fields(plan, known, when, fields, labels))
    except TemplateError as error:
        log.warning("pull_request.title failed; using the summary: %s", error)
        title = fields["summary"]
    return PullRequestDraft(
        title=(title.strip().splitlines() or [fields["summary"]])[0][:250],
        body=f"{body}\n\n{encode_pr_marker(_marker(plan, notices, read))}\n",
        labels=labels,
        reviewers=spec.reviewers,
        assignees=spec.assignees,
        draft=spec.draft,
    )


def _marker(plan: UpdatePlan, notices: tuple[str, ...], read: tuple[int, int]) -> PrMarker:
    return replace(pr_marker_for(plan), notices=notices, seen=read[0], cursor=read[1])


def commit_message(plan: UpdatePlan, spec: CommitSettings) -> str:
    """The commit message template filled from `plan`, then the marker."""
    try:
        text = render_template(spec.message, template_fields(plan)).strip()
    except TemplateError as error:
        log.warning("commit.message failed; using the summary: %s", error)
        text = template_fields(plan)["summary"]
    return f"{_defused(text)}\n\n{encode_pr_marker(pr_marker_for(plan))}\n"


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
