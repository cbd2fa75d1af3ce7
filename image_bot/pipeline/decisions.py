"""Scan every image once and decide each reference's target (elect, then resolve)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from image_bot.config import Config
from image_bot.decide.build import PolicySettings, build_policy
from image_bot.decide.policies import Policy
from image_bot.errors import ImageBotError
from image_bot.model import (
    Decision,
    Fact,
    ImageName,
    ImageRef,
    Occurrence,
    ScanFailure,
    TagFacts,
    TagList,
)
from image_bot.scan.registry import Registry
from image_bot.scan.scanner import OncePerPass, fetch_facts, scan
from image_bot.state import CachingRegistry, StateStore

__all__ = [
    "Decided",
    "FactsUnavailable",
    "OpenRegistry",
    "decide",
    "policy_settings",
    "scan_and_decide",
]

log = logging.getLogger("image_bot.pipeline")

# Each round asks for facts the policy has not seen yet, so the loop ends on its own;
# the cap only guards against a policy that keeps asking for the same tags.
_MAX_ROUNDS = 64

OpenRegistry = Callable[[], AbstractAsyncContextManager[Registry]]
Stamp = Callable[[ImageName, Mapping[str, TagFacts]], Mapping[str, TagFacts]]
DecisionKey = tuple[PolicySettings, str]


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
    stamp: Stamp | None = None,
) -> Decision:
    """Run `policy` over `tags`, fetching the registry facts it asks for (elect, then resolve).

    With `registry=None` (an offline tag list) a policy that needs facts raises FactsUnavailable.
    `stamp` adds what the state file knows (first-seen times) to freshly fetched facts; then
    digests are fetched along with creation times, since first-seen is kept per digest.
    """
    wanted = set(policy.needs)
    if stamp is not None and Fact.CREATED in wanted:
        wanted.add(Fact.DIGEST)
    decision = policy.choose(current, tags, now=now)
    for _ in range(_MAX_ROUNDS):
        if not decision.missing:
            return decision
        if registry is None:
            needed = ", ".join(sorted(policy.needs))
            raise FactsUnavailable(
                f"the policy needs registry facts ({needed}) for {', '.join(decision.missing)};"
                " an offline tag list has none"
            )
        fetched: Mapping[str, TagFacts] = await fetch_facts(
            registry, tags.image, decision.missing, wanted
        )
        if stamp is not None:
            fetched = stamp(tags.image, fetched)
        tags = dataclasses.replace(tags, facts={**tags.facts, **fetched})
        decision = policy.choose(current, tags, now=now)
    raise ImageBotError(f"policy kept asking for facts about {tags.image}; giving up")


@dataclass
class Decided:
    """Decisions per (policy, current reference), and what failed on the way."""

    decisions: dict[DecisionKey, Decision] = field(default_factory=dict)
    failures: dict[ImageName, ScanFailure] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def policy_settings(config: Config, occurrence: Occurrence) -> PolicySettings:
    """The policy that governs `occurrence` (its setter marker's, else by image name)."""
    return config.policy_for(occurrence.ref.name, occurrence.policy).settings()


async def scan_and_decide(
    config: Config,
    open_registry: OpenRegistry,
    occurrences: Sequence[Occurrence],
    *,
    state: StateStore | None,
    tag_cache_ttl: timedelta,
    now: datetime,
    settings_of: Callable[[Occurrence], PolicySettings] | None = None,
) -> Decided:
    """List each image's tags once, then decide every distinct (policy, reference).

    `settings_of` gives each occurrence's policy (default: `policy_settings`; a pass
    applies each repository's remembered ignores and pins)."""
    decided = Decided()
    if not occurrences:
        return decided
    stamp = _stamper(state, now) if state is not None else None
    policies: dict[PolicySettings, Policy] = {}
    async with open_registry() as opened:
        registry: Registry = opened
        if state is not None and tag_cache_ttl > timedelta(0):
            registry = CachingRegistry(opened, state, ttl=tag_cache_ttl, now=now)
        registry = OncePerPass(registry)
        scanned = await scan(registry, [o.ref.name for o in occurrences])
        pending: dict[DecisionKey, tuple[Policy, ImageRef, TagList]] = {}
        for occurrence in occurrences:
            result = scanned[occurrence.ref.name]
            if isinstance(result, ScanFailure):
                decided.failures[occurrence.ref.name] = result
                continue
            spec = (settings_of or (lambda o: policy_settings(config, o)))(occurrence)
            if spec not in policies:
                policies[spec] = build_policy(spec)  # ConfigError: a bad policy stops the pass
            pending.setdefault(
                (spec, occurrence.ref.canonical), (policies[spec], occurrence.ref, result)
            )
        for failure in decided.failures.values():
            log.warning(
                "scan failed", extra={"image": str(failure.image), "error": failure.error.message}
            )
        outcomes = await asyncio.gather(
            *(
                decide(policy, ref, tags, registry, now=now, stamp=stamp)
                for policy, ref, tags in pending.values()
            ),
            return_exceptions=True,
        )
    for key, outcome in zip(pending, outcomes, strict=True):
        if isinstance(outcome, Decision):
            decided.decisions[key] = outcome
        elif isinstance(outcome, ImageBotError):
            log.warning("decision failed", extra={"image": key[1], "error": outcome.message})
            decided.errors.append(f"{key[1]}: {outcome.message}")
        else:
            raise outcome
    return decided


def _stamper(state: StateStore, now: datetime) -> Stamp:
    def stamp(image: ImageName, facts: Mapping[str, TagFacts]) -> Mapping[str, TagFacts]:
        digests = [f.digest for f in facts.values() if f.digest]
        seen = state.first_seen(image, digests, now=now)
        return {
            tag: dataclasses.replace(f, first_seen=seen.get(f.digest)) if f.digest else f
            for tag, f in facts.items()
        }

    return stamp
