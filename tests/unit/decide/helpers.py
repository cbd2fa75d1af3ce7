"""Run a policy the way pipeline.decide does, answering `missing` from a facts table."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from image_bot.config import parse_policy
from image_bot.decide.build import build_policy
from image_bot.decide.policies import TagPolicy
from image_bot.model import Decision, TagFacts, TagList
from image_bot.reference import parse_reference

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def digest(n: int) -> str:
    return "sha256:" + f"{n:064x}"


def policy(**spec: Any) -> TagPolicy:
    return build_policy(parse_policy(spec).settings())


@dataclass
class Run:
    """The final decision and every tag whose facts the policy asked for, per round."""

    decision: Decision
    asked: list[tuple[str, ...]] = field(default_factory=list)

    @property
    def target(self) -> str | None:
        return str(self.decision.target) if self.decision.target else None

    @property
    def fetched(self) -> set[str]:
        return {tag for round_ in self.asked for tag in round_}


def run(
    chosen: TagPolicy,
    current: str,
    tags: tuple[str, ...] | list[str],
    facts: Mapping[str, TagFacts] | None = None,
    *,
    now: datetime = NOW,
) -> Run:
    ref = parse_reference(current)
    table = dict(facts or {})
    known: dict[str, TagFacts] = {}
    asked: list[tuple[str, ...]] = []
    for _ in range(64):
        decision = chosen.choose(ref, TagList(ref.name, tuple(tags), dict(known)), now=now)
        if not decision.missing:
            return Run(decision, asked)
        assert not set(decision.missing) & set(known), "asked twice for the same tag"
        asked.append(decision.missing)
        known.update({tag: table.get(tag, TagFacts()) for tag in decision.missing})
    raise AssertionError("the policy kept asking")
