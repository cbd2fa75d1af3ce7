"""A configured repository's timeline: its scope and stages applied to `history.read_timeline`."""

from __future__ import annotations

from image_bot.config import RepositorySpec
from image_bot.history.entries import Timeline
from image_bot.history.walk import read_timeline
from image_bot.publish.git import Git

__all__ = ["repository_timeline"]


def repository_timeline(
    repo: RepositorySpec, git: Git, rev: str, *, by_file: bool = False
) -> Timeline:
    """The timeline of `rev` in `git`'s repository: per stage when `repo` has stages (and
    `by_file` is not asked for), else per file."""
    graph = repo.stage_graph()
    if not graph or by_file:
        return read_timeline(git, rev, repo.scope())

    def place_of(path: str) -> str | None:
        stage = graph.stage_of(path)
        return stage.name if stage is not None else None

    upstreams = {stage.name: stage.promote_from for stage in graph.stages}
    return read_timeline(git, rev, repo.scope(), place_of=place_of, upstreams=upstreams)
