"""Which decision source governs each reference of a repository: the registry for references
in no stage and in first stages, the upstream stages for a stage with `promote_from`; and what
they propose together (`propose`), with the plans made on demand without the files left out."""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from image_bot.config import Config, RepositorySpec
from image_bot.edit.files import read_file
from image_bot.history.entries import Timeline
from image_bot.model import Change, ImageName, Occurrence, UpdatePlan, Waiting
from image_bot.pipeline.checkout import Checkout
from image_bot.pipeline.decisions import (
    Decided,
    DecisionSource,
    PlanBasis,
    Proposals,
    RegistrySource,
)
from image_bot.pipeline.history import repository_timeline
from image_bot.pipeline.promotion import CachedChecks, PromotionSource
from image_bot.plan import Grouping, NamedGroup, Strategy
from image_bot.publish.forge import Forge
from image_bot.publish.steering.memory import Memory

__all__ = ["Proposed", "Routed", "propose", "registry_governed", "route"]

Routed = list[tuple[DecisionSource, list[Occurrence]]]


def _grouping(repo: RepositorySpec) -> Grouping:
    if repo.direct_commit:
        return Grouping(Strategy.ALL)
    groups = tuple(NamedGroup(g.name, g.images) for g in repo.grouping.groups)
    return Grouping(Strategy(repo.grouping.strategy), groups)


def registry_governed(repo: RepositorySpec, checkout: Checkout) -> list[Occurrence]:
    """The references whose versions come from the registry: all but those of promoted stages
    (they take their upstream's exact versions, never looked up in a registry)."""
    graph = repo.stage_graph()
    found = checkout.found.occurrences
    if not any(stage.promoted for stage in graph.stages):
        return list(found)
    return [o for o in found if (stage := graph.stage_of(o.path)) is None or not stage.promoted]


def route(
    repo: RepositorySpec,
    checkout: Checkout,
    forge: Forge,
    repo_id: str,
    *,
    config: Config,
    decided: Decided,
    now: datetime,
    memory: Memory | None = None,
) -> tuple[Routed, Timeline | None]:
    """Each decision source of the repository with the references it governs, and the
    timeline (read from the clone when the repository has stages). `memory` (the dashboard's
    ignores, pins and holds) shapes the registry's decisions; its holds hold promotions too."""
    grouping = _grouping(repo)
    graph = repo.stage_graph()
    if not graph:
        registry = RegistrySource(config, decided, grouping, memory=memory)
        return [(registry, list(checkout.found.occurrences))], None
    timeline = repository_timeline(repo, checkout.git, checkout.base_sha)
    checks = CachedChecks(lambda sha: forge.checks(repo_id, sha))
    routed: dict[str | None, list[Occurrence]] = {}
    for occurrence in checkout.found.occurrences:
        stage = graph.stage_of(occurrence.path)
        routed.setdefault(stage.name if stage else None, []).append(occurrence)
    sources: Routed = []
    for name, occurrences in routed.items():
        if name is None:
            source: DecisionSource = RegistrySource(config, decided, grouping, memory=memory)
        elif graph.get(name).promoted:
            holds = frozenset(memory.holds) if memory is not None else frozenset()
            source = PromotionSource(graph.get(name), graph, timeline, checks, now, holds=holds)
        else:
            stage = graph.get(name)
            source = RegistrySource(config, decided, grouping, name, stage.automerge, memory)
        sources.append((source, occurrences))
    return sources, timeline


@dataclass(frozen=True)
class Proposed:
    """What every source of a repository proposes this pass.

    `held`: branches whose open pull request stays as it is (why, and the references their
    source governs as they run now); `waiting`: promotions a gate holds back; `undecided`:
    (path, image) of references whose outcome is unknown or whose image is held (never
    evidence that a pull request is obsolete); `timeline`: with stages.
    """

    made: tuple[tuple[DecisionSource, Proposals], ...]
    basis: PlanBasis
    held: dict[str, tuple[str, frozenset[str]]]
    waiting: tuple[Waiting, ...]
    undecided: frozenset[tuple[str, ImageName]]
    timeline: Timeline | None

    @property
    def changes(self) -> list[Change]:
        """Every change proposed, all sources together."""
        return [change for _, proposals in self.made for change in proposals.changes]

    def plans(self, left_out: Collection[str] = ()) -> list[UpdatePlan]:
        """Each source's plans, by branch, for its changes outside the files `left_out`."""
        plans = [
            plan
            for source, proposals in self.made
            for plan in source.plans(
                [c for c in proposals.changes if c.occurrence.path not in left_out], self.basis
            )
        ]
        return sorted(plans, key=lambda plan: plan.branch)


def propose(
    repo: RepositorySpec,
    checkout: Checkout,
    forge: Forge,
    repo_id: str,
    *,
    config: Config,
    decided: Decided,
    now: datetime,
    memory: Memory | None = None,
) -> Proposed:
    """Route the repository's references and ask each source what it proposes."""
    sources, timeline = route(
        repo, checkout, forge, repo_id, config=config, decided=decided, now=now, memory=memory
    )
    made = [(source, found, source.propose(found)) for source, found in sources]
    root = checkout.git.workdir
    hashes = {
        path: hashlib.sha256(read_file(root, path)).hexdigest()
        for path in {c.occurrence.path for _, _, p in made for c in p.changes}
    }
    basis = PlanBasis(repo_id, repo.base, repo.branch_prefix, hashes)
    held: dict[str, tuple[str, frozenset[str]]] = {}
    for source, found, proposals in made:
        running = frozenset(o.ref.canonical for o in found)
        held.update(
            (branch, (why, running)) for branch, why in source.kept(proposals, basis).items()
        )
    return Proposed(
        made=tuple((source, proposals) for source, _, proposals in made),
        basis=basis,
        held=held,
        waiting=tuple(wait for _, _, proposals in made for wait in proposals.waiting),
        undecided=frozenset(
            (o.path, o.ref.name)
            for _, _, proposals in made
            for o in (*proposals.unknown, *proposals.held)
        ),
        timeline=timeline,
    )
