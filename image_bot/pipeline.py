"""The only module that composes stages: scan results + policies -> decisions (more to come)."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from image_bot.decide.policies import Policy
from image_bot.errors import ImageBotError
from image_bot.model import Decision, ImageRef, TagList
from image_bot.scan.registry import Registry
from image_bot.scan.scanner import fetch_facts

__all__ = ["FactsUnavailable", "decide"]

# Each round asks for facts the policy has not seen yet, so the loop ends on its own;
# the cap only guards against a policy that keeps asking for the same tags.
_MAX_ROUNDS = 64


class FactsUnavailable(ImageBotError):
    """The policy needs registry facts (digests, created times, platforms) that we cannot get."""

    exit_code = 2


async def decide(
    policy: Policy,
    current: ImageRef,
    tags: TagList,
    registry: Registry | None,
    *,
    now: datetime,
) -> Decision:
    """Run `policy` over `tags`, fetching the registry facts it asks for (elect, then resolve).

    With `registry=None` (an offline tag list) a policy that needs facts raises FactsUnavailable.
    """
    decision = policy.choose(current, tags, now=now)
    for _ in range(_MAX_ROUNDS):
        if not decision.missing:
            return decision
        if registry is None:
            wanted = ", ".join(sorted(policy.needs))
            raise FactsUnavailable(
                f"the policy needs registry facts ({wanted}) for {', '.join(decision.missing)};"
                " an offline tag list has none"
            )
        fetched = await fetch_facts(registry, tags.image, decision.missing, policy.needs)
        tags = dataclasses.replace(tags, facts={**tags.facts, **fetched})
        decision = policy.choose(current, tags, now=now)
    raise ImageBotError(f"policy kept asking for facts about {tags.image}; giving up")
