"""The stage graph: which stage holds a file, and what is wrong with a list of stages."""

from __future__ import annotations

import pytest

from image_bot.promote.stages import Stage, StageGraph, graph_problems, paths_overlap


def test_a_stage_holds_files_under_its_directories_and_globs() -> None:
    graph = StageGraph((Stage("dev", ("envs/dev",)), Stage("prod", ("clusters/*/prod",))))
    assert graph.stage_of("envs/dev/app.yaml") == graph.get("dev")
    assert graph.stage_of("envs/development/app.yaml") is None
    assert graph.stage_of("clusters/eu/prod/app.yaml") == graph.get("prod")
    assert graph.stage_of("clusters/eu/staging/app.yaml") is None


@pytest.mark.parametrize(
    ("a", "b", "overlap"),
    [
        ("envs/dev", "envs/dev/eu", True),
        ("envs/dev", "envs/development", False),
        ("envs/*/dev", "envs/eu", True),
        ("envs/*/dev", "envs/eu/prod", False),
        ("clusters/**/prod.yaml", "clusters/eu", True),
        (".", "anything", True),
    ],
)
def test_overlapping_paths(a: str, b: str, overlap: bool) -> None:
    assert paths_overlap(a, b) is overlap
    assert paths_overlap(b, a) is overlap


def test_problems_name_their_place() -> None:
    stages = [
        Stage("dev", ("envs/dev",)),
        Stage("staging", ("envs/staging",), promote_from=("prod",)),
        Stage("prod", ("envs/prod",), promote_from=("staging", "qa")),
        Stage("dev", ("envs/dev/eu",)),
    ]
    problems = dict(graph_problems(stages))
    assert "listed twice" in problems[(3, "name")]
    assert "unknown upstream stage 'qa'" in problems[(2, "promote_from", 1)]
    assert any("cycle" in message for message in problems.values())
    assert "overlaps 'envs/dev' of stage 'dev'" in problems[(3, "paths", 0)]
