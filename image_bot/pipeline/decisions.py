"""Where each reference's target comes from (a DecisionSource), and the first source: scan
every image once and decide each reference's target by its policy (elect, then resolve).

A repository's references are split by stage: the first stages (and references in no stage)
take their versions from the registry through `RegistrySource`; a stage with `promote_from`
from its upstream stages through `pipeline.promotion.PromotionSource`. Both say the same
things (the changes, the references whose outcome is unknown, the promotions a gate holds
back) and make their own plans, so publishing never asks where a change came from.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from image_bot.config import Config
from image_bot.decide.build import PolicySettings, build_policy
from image_bot.decide.policies import Policy
from image_bot.edit.written import written_ref
from image_bot.errors import ImageBotError
from image_bot.model import (
    Change,
    Decision,
    Fact,
    ImageName,
    ImageRef,
    Occurrence,
    ScanFailure,
    TagFacts,
    TagList,
    UpdatePlan,
    Waiting,
)
from image_bot.pipeline.remembered import held, remembered_settings
from image_bot.plan import Grouping, make_plans
from image_bot.publish.steering.memory import Memory
from image_bot.scan.registry import Registry
from image_bot.scan.scanner import OncePerPass, fetch_facts, scan
from image_bot.state import CachingRegistry, RememberedFacts, Settled, StateStore

__all__ = [
    "Decided",
    "DecisionSource",
    "FactsUnavailable",
    "OpenRegistry",
    "PlanBasis",
    "Proposals",
    "RegistrySource",
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
    failed_refs: dict[str, str] = field(default_factory=dict)  # canonical ref -> why undecided
    settled: Settled | None = None  # with state: what the scan settled (`RememberedFacts`)

    def failure_of(self, ref: ImageRef) -> str | None:
        """Why `ref` could not be decided this pass (its registry, or its decision), if so."""
        scan = self.failures.get(ref.name)
        return scan.error.message if scan is not None else self.failed_refs.get(ref.canonical)


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
    digest_ttl: timedelta = timedelta(0),
    settings_of: Callable[[Occurrence], PolicySettings] | None = None,
    listings_since: datetime | None = None,
) -> Decided:
    """List each image's tags once and decide every distinct (policy, reference) of it.

    Each image is decided as soon as its tags are listed: deciding (CPU) overlaps the
    listings still on their way, and its digest requests join them.
    With state, tag facts the state file holds are used while they can be trusted (see
    `state.RememberedFacts`; `digest_ttl` bounds their age), so a pass with nothing new
    lists each image's tags and asks nothing else, unless it follows tags by digest.
    `settings_of` gives each occurrence's policy (default: `policy_settings`; a pass
    applies each repository's remembered ignores and pins). With state, a listing younger
    than `tag_cache_ttl`, or made by a pass that started at or after `listings_since`, is
    taken from the state's tag cache instead of the registry.
    """
    decided = Decided()
    if not occurrences:
        return decided
    settings = settings_of or (lambda o: policy_settings(config, o))
    specs = [settings(occurrence) for occurrence in occurrences]
    remembered: RememberedFacts | None = None
    async with open_registry() as opened:
        registry: Registry = opened
        if state is not None and (tag_cache_ttl > timedelta(0) or listings_since is not None):
            registry = CachingRegistry(
                registry, state, ttl=tag_cache_ttl, now=now, since=listings_since
            )
        if state is not None:
            followed = {
                o.ref.name
                for o, spec in zip(occurrences, specs, strict=True)
                if o.ref.digest is not None or spec.digest != "never"
            }
            remembered = RememberedFacts(
                registry, state, ttl=digest_ttl, now=now, followed=followed
            )
            registry = remembered
        registry = OncePerPass(registry)
        stamp = _stamper(state, now) if state is not None else None
        decider = _Decider(registry, now, stamp)
        for occurrence, spec in zip(occurrences, specs, strict=True):
            decider.want(occurrence.ref, spec)
        scanned = await scan(registry, [o.ref.name for o in occurrences], then=decider.listed)
        pending: dict[DecisionKey, None] = {}
        for occurrence, spec in zip(occurrences, specs, strict=True):
            result = scanned[occurrence.ref.name]
            if isinstance(result, ScanFailure):
                decided.failures[occurrence.ref.name] = result
                continue
            decider.check_policy(spec)  # ConfigError: a bad policy stops the pass
            pending[spec, occurrence.ref.canonical] = None
        for failure in decided.failures.values():
            log.warning(
                "scan failed", extra={"image": str(failure.image), "error": failure.error.message}
            )
        if remembered is not None:
            remembered.save()  # the state file learns what this pass was told
            decided.settled = remembered.settled()
    for key in pending:
        outcome = decider.outcomes[key]
        if isinstance(outcome, Decision):
            decided.decisions[key] = outcome
        elif isinstance(outcome, ImageBotError):
            log.warning("decision failed", extra={"image": key[1], "error": outcome.message})
            decided.errors.append(f"{key[1]}: {outcome.message}")
            decided.failed_refs[key[1]] = outcome.message
        else:
            raise outcome
    return decided


class _Decider:
    """Decides an image's wanted (policy, reference) pairs once its tags are listed.

    A policy is built on first use; one that cannot be built decides nothing, and its error
    is raised by `check_policy` for the first reference whose image was listed.
    """

    def __init__(self, registry: Registry, now: datetime, stamp: Stamp | None) -> None:
        self.registry = registry
        self.now = now
        self.stamp = stamp
        self.outcomes: dict[DecisionKey, Decision | BaseException] = {}
        self._wanted: dict[ImageName, dict[DecisionKey, tuple[PolicySettings, ImageRef]]] = {}
        self._policies: dict[PolicySettings, Policy] = {}
        self._unbuilt: dict[PolicySettings, Exception] = {}

    def want(self, ref: ImageRef, spec: PolicySettings) -> None:
        self._wanted.setdefault(ref.name, {}).setdefault((spec, ref.canonical), (spec, ref))

    def check_policy(self, spec: PolicySettings) -> None:
        if spec in self._unbuilt:
            raise self._unbuilt[spec]

    def _policy(self, spec: PolicySettings) -> Policy | None:
        if spec not in self._policies and spec not in self._unbuilt:
            try:
                self._policies[spec] = build_policy(spec)
            except Exception as error:  # raised by check_policy, in reference order
                self._unbuilt[spec] = error
        return self._policies.get(spec)

    async def listed(self, name: ImageName, tags: TagList | ScanFailure) -> None:
        """Decide `name`'s references over its listing (nothing when it failed)."""
        if isinstance(tags, ScanFailure):
            return
        jobs = [
            (key, policy, ref)
            for key, (spec, ref) in self._wanted[name].items()
            if (policy := self._policy(spec)) is not None
        ]
        results = await asyncio.gather(
            *(
                decide(policy, ref, tags, self.registry, now=self.now, stamp=self.stamp)
                for _, policy, ref in jobs
            ),
            return_exceptions=True,
        )
        self.outcomes.update(zip((key for key, _, _ in jobs), results, strict=True))


def _stamper(state: StateStore, now: datetime) -> Stamp:
    def stamp(image: ImageName, facts: Mapping[str, TagFacts]) -> Mapping[str, TagFacts]:
        digests = [f.digest for f in facts.values() if f.digest]
        seen = state.first_seen(image, digests, now=now)
        return {
            tag: dataclasses.replace(f, first_seen=seen.get(f.digest)) if f.digest else f
            for tag, f in facts.items()
        }

    return stamp


# --- decision sources -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Proposals:
    """What a decision source says about the references it governs."""

    changes: tuple[Change, ...] = ()
    unknown: tuple[Occurrence, ...] = ()  # outcome unknown this pass: keep their pull requests
    waiting: tuple[Waiting, ...] = ()  # wanted, but a gate holds it back
    held: tuple[Occurrence, ...] = ()  # their image is held (`/image-bot hold`): keep them too


@dataclass(frozen=True, slots=True)
class PlanBasis:
    """What every plan of a repository shares: its forge id, base, bot prefix, file hashes."""

    repo: str
    base: str
    branch_prefix: str
    file_hashes: Mapping[str, str]


class DecisionSource(Protocol):
    """Where the targets of some references of a repository come from."""

    def propose(self, occurrences: Sequence[Occurrence]) -> Proposals:
        """The changes these references need, and what is unknown or held back."""
        ...

    def plans(self, changes: Sequence[Change], basis: PlanBasis) -> list[UpdatePlan]:
        """The plans (one per pull request) for `changes` (some of those `propose` made)."""
        ...

    def kept(self, proposals: Proposals, basis: PlanBasis) -> dict[str, str]:
        """Branches whose open pull request stays as it is this pass, and why."""
        ...


@dataclass(frozen=True)
class RegistrySource:
    """Targets from the registry: each reference's policy over the scanned tags (`Decided`).

    `stage` (a first stage) puts its branches under `<prefix><stage>/` and sets automerge.
    `memory` (the repository's dashboard) adds its ignores and pins to the policies, and
    holds its held images where they are.
    """

    config: Config
    decided: Decided
    grouping: Grouping
    stage: str | None = None
    automerge: bool | None = None
    memory: Memory | None = None

    def propose(self, occurrences: Sequence[Occurrence]) -> Proposals:
        changes, unknown, kept = [], [], []
        for occurrence in occurrences:
            decision = self.decided.decisions.get(
                (
                    remembered_settings(self.config, occurrence, self.memory),
                    occurrence.ref.canonical,
                )
            )
            if decision is None:
                unknown.append(occurrence)
            elif held(occurrence, self.memory):
                kept.append(occurrence)
            elif decision.changes and decision.target is not None:
                target = decision.target
                new = written_ref(occurrence, target.tag, target.digest)
                if (new.tag, new.digest) != (occurrence.ref.tag, occurrence.ref.digest):
                    changes.append(Change(occurrence, occurrence.ref, new))
        return Proposals(tuple(changes), tuple(unknown), held=tuple(kept))

    def plans(self, changes: Sequence[Change], basis: PlanBasis) -> list[UpdatePlan]:
        prefix = basis.branch_prefix + (f"{self.stage}/" if self.stage else "")
        plans = make_plans(
            basis.repo, basis.base, changes, grouping=self.grouping,
            branch_prefix=prefix, file_hashes=basis.file_hashes,
        )  # fmt: skip
        return [dataclasses.replace(plan, automerge=self.automerge) for plan in plans]

    def kept(self, proposals: Proposals, basis: PlanBasis) -> dict[str, str]:
        kept: dict[str, str] = {}
        for found, reason in (
            (proposals.held, "its image is held (`/image-bot unhold IMAGE` lifts it)"),
            (proposals.unknown, "its images could not be scanned this pass"),
        ):
            placeholders = [Change(o, o.ref, o.ref) for o in found]
            kept |= {plan.branch: reason for plan in self.plans(placeholders, basis)}
        return kept
