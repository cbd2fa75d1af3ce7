"""A pull request's default body and template fields: per change the update type, age,
digest, platforms, policy, source and compare links, and release notes (pure).

`ChangeDetails` arrive from the pipeline (registry facts, OCI labels, release notes, all
already made safe); this module only lays them out. Times are printed as dates plus an age
relative to the pass's `now`, so a body changes only when it is rewritten anyway.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from image_bot.model import Change, ChangeDetails, ImageRef, ReleaseNotes, UpdatePlan

__all__ = [
    "DetailsByChange",
    "age_text",
    "default_body",
    "details_key",
    "jinja_fields",
    "promotion_trail",
    "version_text",
]

DetailsByChange = Mapping[tuple[str, str], ChangeDetails]
"""Details by (old, new) canonical reference."""

_INTRO = "image-bot updates the container images below to the versions their policies allow."


def details_key(change: Change) -> tuple[str, str]:
    """The key of a change's details: its old and new canonical references."""
    return (change.old.canonical, change.new.canonical)


def version_text(ref: ImageRef) -> str:
    """What moved: `1.25` or `1.25@sha256:0123456789ab` (a digest alone is shortened too)."""
    return _version(ref.tag, ref.digest)


def _version(tag: str | None, digest: str | None) -> str:
    short = digest[: len("sha256:") + 12] if digest else None
    if tag and short:
        return f"{tag}@{short}"
    return tag or short or "latest"


def _short(canonical: str) -> str:
    """`host/ns/app:1.2@sha256:0123...` -> `1.2@sha256:0123456789ab`."""
    name_tag, _, digest = canonical.partition("@")
    tag = name_tag.rsplit("/", 1)[-1].partition(":")[2]
    return _version(tag or None, digest or None)


def _span(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _date(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M UTC")


def age_text(details: ChangeDetails, now: datetime) -> str:
    """`3d (first seen 2026-12-01 10:00 UTC; built 2026-11-30 09:12 UTC)`, or `unknown`."""
    since = details.first_seen or details.created
    if since is None:
        return "unknown"
    parts = []
    if details.first_seen is not None:
        parts.append(f"first seen {_date(details.first_seen)}")
    if details.created is not None:
        parts.append(f"built {_date(details.created)}")
    return f"{_span(now - since)} ({'; '.join(parts)})"


def _distinct(plan: UpdatePlan, details: DetailsByChange) -> list[ChangeDetails]:
    seen: dict[tuple[str, str], ChangeDetails] = {}
    for change in plan.changes:
        key = details_key(change)
        if key in details and key not in seen:
            seen[key] = details[key]
    return list(seen.values())


def _table(plan: UpdatePlan, details: DetailsByChange, now: datetime) -> str:
    rows = ["| image | update | old -> new | age | file:line |", "|---|---|---|---|---|"]
    for change in plan.changes:
        found = details.get(details_key(change))
        kind = found.update_type.value if found else ""
        age = _span(now - since) if found and (since := found.first_seen or found.created) else ""
        rows.append(
            f"| `{change.old.name}` | {kind} | `{version_text(change.old)}` ->"
            f" `{version_text(change.new)}` | {age} |"
            f" `{change.occurrence.path}:{change.occurrence.line}` |"
        )
    return "\n".join(rows)


def _notes(notes: ReleaseNotes | None) -> list[str]:
    if notes is None:
        return []
    if notes.missing:
        return [f"Release notes left out: {notes.missing}."]
    if not notes.releases:
        return ["No release between these versions."]
    count = len(notes.releases)
    lines = [f"<details><summary>Release notes ({count})</summary>", ""]
    for release in notes.releases:
        title = release.name if release.name != release.tag else release.tag
        lines += [f"#### [{title}]({release.url})", ""]
        if release.body:
            lines += [release.body, ""]
    if notes.more:
        lines += [f"More in [the releases]({notes.more}).", ""]
    lines.append("</details>")
    return lines


def _section(item: ChangeDetails, now: datetime) -> list[str]:
    lines = [
        f"### `{item.image}` {_short(item.old)} -> {_short(item.new)}",
        "",
        f"- **update**: {item.update_type.value}"
        + (f", chosen by `{item.policy}`" if item.policy else ""),
    ]
    if item.digest:
        lines.append(f"- **digest**: `{item.digest}`")
    if item.platforms:
        lines.append(f"- **platforms**: {', '.join(item.platforms)}")
    lines.append(f"- **age**: {age_text(item, now)}")
    if item.source:
        compare = ""
        if item.compare and item.old_revision and item.new_revision:
            compare = (
                f" ([compare `{item.old_revision[:12]}...{item.new_revision[:12]}`]"
                f"({item.compare}))"
            )
        lines.append(f"- **source**: {item.source}{compare}")
    notes = _notes(item.notes)
    return [*lines, *([""] if notes else []), *notes]


def _details(plan: UpdatePlan, details: DetailsByChange, now: datetime) -> str:
    sections = [_section(item, now) for item in _distinct(plan, details)]
    return "\n\n".join("\n".join(section) for section in sections)


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


def promotion_trail(plan: UpdatePlan) -> str:
    """A promotion's trail (where each version ran, since when, soak, checks), or ""."""
    if plan.promotion is None or not plan.promotion.trail:
        return ""
    return "\n\n### Trail\n\n" + "\n".join(f"- {line}" for line in plan.promotion.trail)


def default_body(plan: UpdatePlan, details: DetailsByChange, now: datetime) -> str:
    """The intro (an update, a promotion or a rollback), a table of the changes, a section
    per distinct change, then a promotion's trail."""
    parts = [_intro(plan), _table(plan, details, now)]
    rendered = _details(plan, details, now)
    if rendered:
        parts.append(rendered)
    return "\n\n".join(parts) + promotion_trail(plan)


def _change_fields(change: Change, item: ChangeDetails | None, now: datetime) -> dict[str, object]:
    notes = item.notes if item else None
    return {
        "image": str(change.old.name),
        "old": version_text(change.old),
        "new": version_text(change.new),
        "old_ref": change.old.canonical,
        "new_ref": change.new.canonical,
        "path": change.occurrence.path,
        "line": change.occurrence.line,
        "update_type": item.update_type.value if item else "",
        "policy": item.policy if item else "",
        "digest": item.digest if item else None,
        "platforms": list(item.platforms) if item else [],
        "age": age_text(item, now) if item else "unknown",
        "created": _date(item.created) if item and item.created else None,
        "first_seen": _date(item.first_seen) if item and item.first_seen else None,
        "source": item.source if item else None,
        "compare": item.compare if item else None,
        "releases": [
            {"tag": r.tag, "name": r.name, "url": r.url, "body": r.body}
            for r in (notes.releases if notes else ())
        ],
        "notes_missing": notes.missing if notes else None,
    }


def jinja_fields(
    plan: UpdatePlan,
    details: DetailsByChange,
    now: datetime,
    format_fields: Mapping[str, str],
    labels: Sequence[str],
) -> dict[str, object]:
    """What a Jinja template sees: the `{field}` values (`changes` as `changes_text`), the
    changes as a list of mappings, the default table and details sections, labels."""
    changes = [_change_fields(c, details.get(details_key(c)), now) for c in plan.changes]
    fields: dict[str, object] = {k: v for k, v in format_fields.items() if k != "changes"}
    fields.update(
        changes=changes,
        changes_text=format_fields.get("changes", ""),
        update_types=sorted({str(c["update_type"]) for c in changes if c["update_type"]}),
        labels=list(labels),
        table=_table(plan, details, now),
        details=_details(plan, details, now),
    )
    return fields
