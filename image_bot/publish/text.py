"""Plan -> PullRequestDraft and commit message: a table of changes and the hidden marker (pure)."""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence

from image_bot.model import Change, ImageRef, UpdatePlan
from image_bot.publish.forge import PullRequestDraft
from image_bot.publish.marker import Marker, encode_marker

__all__ = ["commit_message", "draft_for", "marker_for", "title_for", "version_text"]

_INTRO = "image-bot updates the container images below to the versions their policies allow."


def version_text(ref: ImageRef) -> str:
    """What moved: `1.25` or `1.25@sha256:0123456789ab` (a digest alone is shortened too)."""
    digest = ref.digest[: len("sha256:") + 12] if ref.digest else None
    if ref.tag and digest:
        return f"{ref.tag}@{digest}"
    return ref.tag or digest or "latest"


def _images(plan: UpdatePlan) -> list[str]:
    return sorted({str(change.old.name) for change in plan.changes})


def _targets(plan: UpdatePlan) -> list[str]:
    return sorted({version_text(change.new) for change in plan.changes})


def title_for(plan: UpdatePlan, template: str | None = None) -> str:
    """The title: `template` with {group}, {image}, {version}, {count} filled in, or a default.

    Unknown fields in `template` are left as written rather than failing the pass.
    """
    images, targets = _images(plan), _targets(plan)
    fields = {
        "group": plan.group,
        "image": images[0] if len(images) == 1 else f"{len(images)} images",
        "version": targets[0] if len(targets) == 1 else "new versions",
        "count": str(len(images)),
    }
    if template:
        return string.Formatter().vformat(template, (), _Lenient(fields))
    if len(images) == 1:
        return f"Update {fields['image']} to {fields['version']}"
    return f"Update {len(images)} images ({plan.group})"


class _Lenient(dict[str, str]):
    def __init__(self, fields: Mapping[str, str]) -> None:
        super().__init__(fields)

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def marker_for(plan: UpdatePlan) -> Marker:
    """The marker a plan's pull request and commit carry."""
    proposals = tuple(sorted({change.new.canonical for change in plan.changes}))
    return Marker(group=plan.group, fingerprint=plan.fingerprint, proposals=proposals)


def _location(change: Change) -> str:
    return f"{change.occurrence.path}:{change.occurrence.line}"


def _table(changes: Sequence[Change]) -> str:
    rows = ["| image | old -> new | file:line |", "|---|---|---|"]
    rows.extend(
        f"| `{change.old.name}` | `{version_text(change.old)}` -> `{version_text(change.new)}`"
        f" | `{_location(change)}` |"
        for change in changes
    )
    return "\n".join(rows)


def draft_for(
    plan: UpdatePlan,
    *,
    title: str | None = None,
    body: str | None = None,
    labels: Sequence[str] = (),
    reviewers: Sequence[str] = (),
    assignees: Sequence[str] = (),
    draft: bool = False,
) -> PullRequestDraft:
    """The pull request for `plan`: `body` (or a default intro), the table, then the marker."""
    text = "\n\n".join(
        (body.strip() if body else _INTRO, _table(plan.changes), encode_marker(marker_for(plan)))
    )
    return PullRequestDraft(
        title=title_for(plan, title),
        body=text + "\n",
        labels=tuple(labels),
        reviewers=tuple(reviewers),
        assignees=tuple(assignees),
        draft=draft,
    )


def commit_message(plan: UpdatePlan, subject: str | None = None) -> str:
    """Subject, one line per change (image: old -> new (file:line)), then the marker."""
    lines = [
        f"- {change.old.name}: {version_text(change.old)} -> {version_text(change.new)}"
        f" ({_location(change)})"
        for change in plan.changes
    ]
    parts = (title_for(plan, subject), "\n".join(lines), encode_marker(marker_for(plan)))
    return "\n\n".join(parts) + "\n"
