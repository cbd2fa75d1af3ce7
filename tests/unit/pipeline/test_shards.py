"""`run --once --shard I/N`: every repository in exactly one shard, stably; bad shards are
config errors (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from image_bot.config.load import parse_config
from image_bot.errors import ConfigError
from image_bot.pipeline import lease_name
from image_bot.pipeline.shards import Shard, parse_shard


def _config(names: list[str]):  # type: ignore[no-untyped-def]
    text = "repositories:\n" + "".join(
        f"  - {{url: 'https://git.example.com/{name}.git'}}\n" for name in names
    )
    return parse_config(text, source="test.yaml", base_dir=Path())


def test_the_shards_split_the_repositories_without_gap_or_overlap() -> None:
    names = [f"org/r{n:03d}" for n in range(300)]
    config = _config(names)
    shards = [Shard(index, 4).of(config) for index in range(4)]
    taken = [lease_name(repo) for shard in shards for repo in shard.repositories]
    assert sorted(taken) == sorted(lease_name(repo) for repo in config.repositories)
    assert all(40 < len(shard.repositories) < 110 for shard in shards)  # roughly even


def test_a_repository_stays_in_its_shard_whatever_else_is_configured() -> None:
    names = [f"org/r{n:03d}" for n in range(60)]
    more = ["org/new-1", *reversed(names), "org/new-2"]

    def shard_of(config_names: list[str]) -> dict[str, int]:
        config = _config(config_names)
        return {
            lease_name(repo): index
            for index in range(3)
            for repo in Shard(index, 3).of(config).repositories
        }

    alone, with_more = shard_of(names), shard_of(more)
    assert {key: with_more[key] for key in alone} == alone
    assert len(with_more) == len(alone) + 2


def test_shard_text_and_the_indexed_job_index() -> None:
    assert parse_shard("2/5", {}) == Shard(2, 5)
    assert parse_shard("5", {"JOB_COMPLETION_INDEX": "3"}) == Shard(3, 5)
    assert parse_shard("0/1", {}) == Shard(0, 1)


@pytest.mark.parametrize(
    ("text", "environ", "message"),
    [
        ("5", {}, "set JOB_COMPLETION_INDEX"),
        ("a/b", {}, "whole numbers"),
        ("4/4", {}, "0 <= I < N"),
        ("0/0", {}, "0 <= I < N"),
        ("-1/3", {}, "0 <= I < N"),
        ("3", {"JOB_COMPLETION_INDEX": "3"}, "0 <= I < N"),
    ],
)
def test_a_bad_shard_is_a_config_error(text: str, environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_shard(text, environ)
