"""The dashboard's memory: ignore globs, holds and pins, its marker (hostile edits), and how a
pass applies it to a repository's policies (`pipeline.remembered`)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from image_bot.config import Config
from image_bot.decide.build import build_policy
from image_bot.model import (
    ImageName,
    ImageRef,
    Occurrence,
    OccurrenceKind,
    Part,
    Span,
    TagFacts,
    TagList,
)
from image_bot.pipeline.remembered import held, remembered_settings
from image_bot.publish.steering.memory import (
    Memory,
    decode_memory,
    encode_memory,
    ignore_globs,
    with_memory,
)

NGINX = ImageName("docker.io", "library/nginx")
TAGS = ("1.25.3", "1.26.0", "1.26.2", "1.27.0", "1.27.1", "1.27.1-alpine", "2.0.0", "2.1.0")


@pytest.mark.parametrize(
    ("tag", "scope", "globs"),
    [
        ("1.27.1", None, ("1.27.1",)),
        ("1.27.1", "minor", ("1.27", "1.27.*", "1.27-*")),
        ("v1.27.1", "minor", ("v1.27", "v1.27.*", "v1.27-*")),
        ("2.0.0", "major", ("2", "2.*", "2-*")),
        ("20240501", "minor", ("20240501",)),  # no minor: just that tag
        ("latest", "major", ("latest",)),
    ],
)
def test_ignore_globs(tag: str, scope: str | None, globs: tuple[str, ...]) -> None:
    assert ignore_globs(tag, scope) == globs


def occurrence(ref: str = "1.25.3") -> Occurrence:
    span = Span(0, 1, 1, 1)
    return Occurrence(
        "deploy.yaml", 0, ("image",), OccurrenceKind.POD_SPEC,
        ImageRef(NGINX, ref, text=f"nginx:{ref}"), {Part.WHOLE: span},
    )  # fmt: skip


def chosen(config: Config, memory: Memory | None, current: str = "1.25.3") -> str | None:
    policy = build_policy(remembered_settings(config, occurrence(current), memory))
    ref = ImageRef(NGINX, current, text=f"nginx:{current}")
    facts = {tag: TagFacts(digest=f"sha256:{index:064x}") for index, tag in enumerate(TAGS)}
    decision = policy.choose(ref, TagList(NGINX, TAGS, facts), now=datetime.now(UTC))
    assert not decision.missing
    return decision.target.tag if decision.target else None


def test_ignores_and_pins_steer_the_policy() -> None:
    config = Config()
    image = str(NGINX)
    assert chosen(config, None) == "2.1.0"
    memory = Memory().ignore(image, ignore_globs("2.1.0", "major"))
    assert chosen(config, memory) == "1.27.1"
    memory = memory.ignore(image, ignore_globs("1.27.1", "minor"))
    assert chosen(config, memory) == "1.26.2"
    assert chosen(config, memory.unignore(image)) == "2.1.0"
    pinned = memory.pin(image, "1.26.0")
    assert chosen(config, pinned, current="1.27.0") == "1.26.0"  # a pin may go down
    assert chosen(config, pinned, current="1.26.0") is None
    assert chosen(config, pinned.pin(image, None)) == "1.26.2"


def test_holds_and_the_marker_round_trip() -> None:
    memory = Memory().hold("docker.io/library/nginx", True).pin("ghcr.io/a/b", "1.0")
    memory = memory.ignore("ghcr.io/a/b", ("2.*",))
    memory = Memory(memory.ignores, memory.holds, memory.pins, seen=4, cursor=1234)
    assert held(occurrence(), memory)
    assert not held(occurrence(), memory.hold("docker.io/library/nginx", False))
    body = with_memory("dashboard text", memory)
    assert decode_memory(body) == memory
    assert with_memory(body, Memory()).count("image-bot-dashboard") == 1
    assert encode_memory(memory) == encode_memory(decode_memory(body) or Memory())  # stable


@pytest.mark.parametrize(
    "payload",
    [
        '{"v":1,"ignores":{"a":"not a list"},"holds":[1,{}],"pins":{"x":3},"seen":-1}',
        '{"v":2}',
        "[" * 100_000,
        '{"v":1,"cursor":true}',
    ],
)
def test_a_hand_edited_marker_is_never_trusted_beyond_its_shape(payload: str) -> None:
    memory = decode_memory(f"<!-- image-bot-dashboard: {{{payload[1:]} -->")
    assert memory is None or (memory.ignores, memory.holds, memory.pins) == ((), (), ())
    assert memory is None or (memory.seen, memory.cursor) == (0, 0)
    assert decode_memory("no marker") is None
