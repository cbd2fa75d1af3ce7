"""`/image-bot ignore ...`: the tags each command skips, kept across restarts, seen by policies."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from image_bot.config import Config
from image_bot.decide.build import build_policy
from image_bot.github_app.webhooks import CommandVerb
from image_bot.model import ImageName, ImageRef, TagFacts, TagList
from image_bot.service.ignores import IgnoreList, ignore_globs

NGINX = ImageName("docker.io", "library/nginx")
TAGS = ("1.25.3", "1.26.0", "1.26.2", "1.27.0", "1.27.1", "1.27.1-alpine", "2.0.0", "2.1.0")


@pytest.mark.parametrize(
    ("tag", "verb", "globs"),
    [
        ("1.27.1", CommandVerb.IGNORE_VERSION, ("1.27.1",)),
        ("1.27.1", CommandVerb.IGNORE_MINOR, ("1.27", "1.27.*", "1.27-*")),
        ("v1.27.1", CommandVerb.IGNORE_MINOR, ("v1.27", "v1.27.*", "v1.27-*")),
        ("2.0.0", CommandVerb.IGNORE_MAJOR, ("2", "2.*", "2-*")),
        ("20240501", CommandVerb.IGNORE_MINOR, ("20240501",)),  # no minor: just that tag
        ("latest", CommandVerb.IGNORE_MAJOR, ("latest",)),
    ],
)
def test_ignore_globs(tag: str, verb: CommandVerb, globs: tuple[str, ...]) -> None:
    assert ignore_globs(tag, verb) == globs


def chosen(config: Config, current: str = "1.25.3") -> str | None:
    policy = build_policy(config.policy_for(NGINX).settings())
    ref = ImageRef(NGINX, current, text=f"nginx:{current}")
    facts = {tag: TagFacts(digest=f"sha256:{index:064x}") for index, tag in enumerate(TAGS)}
    decision = policy.choose(ref, TagList(NGINX, TAGS, facts), now=datetime.now(UTC))
    assert not decision.missing
    return decision.target.tag if decision.target else None


def test_ignores_steer_the_policy_and_survive_a_restart(tmp_path: Path) -> None:
    config = Config.model_validate({"images": [{"name": "redis", "policy": {"semver": "^7"}}]})
    assert chosen(config) == "2.1.0"
    path = tmp_path / "state" / "ignores.json"
    ignores = IgnoreList(path)
    added = ignores.add(("docker.io/library/nginx:2.1.0",), CommandVerb.IGNORE_MAJOR)
    assert added == [
        "docker.io/library/nginx:2",
        "docker.io/library/nginx:2.*",
        "docker.io/library/nginx:2-*",
    ]
    assert chosen(ignores.apply(config)) == "1.27.1"

    restarted = IgnoreList(path)
    restarted.add(("docker.io/library/nginx:1.27.1",), CommandVerb.IGNORE_MINOR)
    applied = restarted.apply(config)
    assert chosen(applied) == "1.26.2"
    assert applied.images[-1].name == "redis"  # the user's entries still follow
    other = applied.policy_for(ImageName("docker.io", "library/redis"))
    assert other.semver == "^7"
    assert other.ignore == ()


def test_adding_the_same_ignore_twice_adds_nothing(tmp_path: Path) -> None:
    ignores = IgnoreList(tmp_path / "ignores.json")
    proposal = ("ghcr.io/acme/app:1.2.3",)
    assert ignores.add(proposal, CommandVerb.IGNORE_VERSION) == ["ghcr.io/acme/app:1.2.3"]
    assert ignores.add(proposal, CommandVerb.IGNORE_VERSION) == []
    assert ignores.add(("not a ref", "ghcr.io/acme/app"), CommandVerb.IGNORE_VERSION) == []
    assert ignores.globs("ghcr.io/acme/app") == ("1.2.3",)


def test_an_unreadable_file_starts_empty(tmp_path: Path) -> None:
    path = tmp_path / "ignores.json"
    path.write_text("{not json")
    config = Config()
    assert IgnoreList(path).apply(config) is config


def test_reload_picks_up_an_edited_file(tmp_path: Path) -> None:
    path = tmp_path / "ignores.json"
    ignores = IgnoreList(path)
    ignores.add(("ghcr.io/acme/app:1.2.3",), CommandVerb.IGNORE_VERSION)
    path.write_text("{}")  # an operator lifts every ignore
    assert ignores.globs("ghcr.io/acme/app") == ("1.2.3",)
    ignores.reload()
    assert ignores.globs("ghcr.io/acme/app") == ()
