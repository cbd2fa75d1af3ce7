"""Text and JSON renderings of `image-bot tags`: every tag with its verdict, newest first by
the policy's ordering, the selected tag on the last line."""

from __future__ import annotations

from collections.abc import Sequence

from image_bot.cli.output.envelope import versioned_json
from image_bot.model import Decision, TagList

__all__ = ["tags_json", "tags_text"]


def _tag_rows(order: Sequence[str], decision: Decision) -> list[tuple[str, str, str]]:
    """(tag, status, detail) per tag in `order`; status is selected, current, rejected or
    candidate."""
    rejected = dict(decision.rejected)
    selected = decision.target.tag if decision.target else None
    rows = []
    for tag in order:
        if tag == selected:
            rows.append((tag, "selected", ""))
        elif tag == decision.current.tag:
            rows.append((tag, "current", rejected.get(tag, "")))
        elif tag in rejected:
            rows.append((tag, "rejected", rejected[tag]))
        else:
            rows.append((tag, "candidate", ""))
    return rows


def tags_text(taglist: TagList, order: Sequence[str], decision: Decision) -> str:
    """One line per tag in `order` (`*` marks the selected one), the reason, then the
    selected tag or `none` as the last line, so scripts can read it with `tail -n1`."""
    rows = _tag_rows(order, decision)
    width = max((len(tag) for tag, _, _ in rows), default=0)
    lines = [f"{taglist.image}: {len(rows)} tags"]
    for tag, status, detail in rows:
        mark = "*" if status == "selected" else " "
        lines.append(f"{mark} {tag:<{width}}  {status}{': ' + detail if detail else ''}")
    lines.append(f"reason: {decision.reason}")
    target = decision.target
    if target is not None and target.digest and target.digest != decision.current.digest:
        lines.append(f"digest: {target.digest}")
    lines.append(target.tag if target is not None and target.tag else "none")
    return "\n".join(lines)


def tags_json(taglist: TagList, order: Sequence[str], decision: Decision) -> str:
    """The same as `tags_text`, as one JSON object (rejected tags carry their reason)."""
    target = decision.target
    return versioned_json(
        "tags",
        {
            "image": str(taglist.image),
            "current": decision.current.tag,
            "selected": target.tag if target else None,
            "target": target.canonical if target else None,
            "digest": target.digest if target else None,
            "changes": decision.changes,
            "reason": decision.reason,
            "tags": [
                {"tag": tag, "status": status, "reason": detail or None}
                for tag, status, detail in _tag_rows(order, decision)
            ],
        },
    )
