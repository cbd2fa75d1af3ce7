"""Which decision source governs each reference of a repository: the registry for references
in no stage and in first stages, the upstream stages for a stage with `promote_from`."""

from __future__ import annotations

from datetime import datetime

from image_bot.config import Config, RepositorySpec
from image_bot.history.entries import Timeline
from image_bot.model import Occurrence
from image_bot.pipeline.checkout import Checkout
from image_bot.pipeline.decisions import Decided, DecisionSource, RegistrySource
from image_bot.pipeline.history import repository_timeline
from image_bot.pipeline.promotion import CachedChecks, PromotionSource
from image_bot.plan import Grouping, NamedGroup, Strategy
from image_bot.publish.forge import Forge

__all__ = ["Routed", "registry_governed", "route"]

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
) -> tuple[Routed, Timeline | None]:
    """Each decision source of the repository with the references it governs, and the
    timeline (read from the clone when the repository has stages)."""
    grouping = _grouping(repo)
    graph = repo.stage_graph()
    if not graph:
        return [(RegistrySource(config, decided, grouping), list(checkout.found.occurrences))], None
    timeline = repository_timeline(repo, checkout.git, checkout.base_sha)
    checks = CachedChecks(lambda sha: forge.checks(repo_id, sha))
    routed: dict[str | None, list[Occurrence]] = {}
    for occurrence in checkout.found.occurrences:
        stage = graph.stage_of(occurrence.path)
        routed.setdefault(stage.name if stage else None, []).append(occurrence)
    sources: Routed = []
    for name, occurrences in routed.items():
        if name is None:
            source: DecisionSource = RegistrySource(config, decided, grouping)
        elif graph.get(name).promoted:
            source = PromotionSource(graph.get(name), graph, timeline, checks, now)
        else:
            stage = graph.get(name)
            source = RegistrySource(config, decided, grouping, name, stage.automerge)
        sources.append((source, occurrences))
    return sources, timeline
