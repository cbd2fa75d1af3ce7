"""After the election: collapse tags that name the current image, pin or follow digests.

Tags are one candidate when they resolve to one digest: if the elected tag and the current
tag point to the same image, nothing is proposed (`1.20` vs `1.20.1`, `latest` vs `2.0.0`).
"""

from __future__ import annotations

from dataclasses import dataclass

from image_bot.decide.filters import missing_platforms
from image_bot.decide.reasons import Reasons
from image_bot.model import ImageRef, TagFacts, TagList

__all__ = ["Election", "pin_digest", "settle"]


@dataclass(frozen=True, slots=True)
class Election:
    """The outcome before it becomes an ImageRef: tag and digest to write (None: stay)."""

    tag: str | None
    digest: str | None
    reason: str
    rejected: tuple[tuple[str, str], ...] = ()
    missing: tuple[str, ...] = ()


def settle(
    current: ImageRef,
    winner: str | None,
    tags: TagList,
    rejected: Reasons,
    *,
    pin: bool,
    platforms: tuple[str, ...],
    why_not: str,
    why: str,
) -> Election:
    """Turn the elected tag into what to write, asking for digests only when they matter.

    Digests are needed to pin, and to compare when the tag would change and the current
    image is known (its digest is in the reference, or its tag is still listed).
    """
    listed = current.tag is not None and current.tag in tags.tags
    if winner is None and not (pin and listed):
        return Election(None, None, why_not or "no tag passes the policy", rejected.items())
    choice = winner or current.tag or ""
    moves = choice != current.tag
    comparable = current.digest is not None or listed
    need = [choice] if pin or (moves and comparable) else []
    if moves and current.digest is None and listed and current.tag is not None:
        need.append(current.tag)
    missing = tuple(sorted({tag for tag in need if tag not in tags.facts}))
    if missing:
        why_missing = f"checking digests of {choice}"
        return Election(None, None, why_missing, (), missing)  # reasons come with the verdict
    facts = tags.facts.get(choice, TagFacts())
    running = current.digest or (
        tags.facts.get(current.tag, TagFacts()).digest if current.tag is not None else None
    )
    if moves and running is not None and running == facts.digest:
        rejected[choice] = f"same image as the current tag {current.tag}"
        if not pin or current.digest is not None:
            why_same = f"{choice} is the image {current} already runs"
            return Election(None, None, why_same, rejected.items())
        choice, moves = current.tag or choice, False  # pin the current tag instead
    if not pin:
        return Election(choice, None, why, rejected.items())
    return pin_digest(current, choice, facts, platforms, rejected, moved=moves)


def pin_digest(
    current: ImageRef,
    tag: str,
    facts: TagFacts,
    platforms: tuple[str, ...],
    rejected: Reasons,
    *,
    moved: bool,
) -> Election:
    """`tag@digest`, once every required platform is in the index the digest names."""
    reasons = rejected.items()
    if facts.digest is None:
        return Election(None, None, f"the registry gave no digest for {tag}", reasons)
    lacking = missing_platforms(platforms, facts.platforms or frozenset())
    if lacking:
        why = f"{tag}@{facts.digest} lacks platforms {', '.join(lacking)}"
        return Election(None, None, why, reasons)
    if not moved and facts.digest == current.digest:
        return Election(None, None, f"{tag} still points to {facts.digest}", reasons)
    verb = "is the newest" if moved else "moved to a new image"
    return Election(tag, facts.digest, f"{tag} {verb}; pinned by digest", reasons)
