"""The dashboard's text: stable for the same state, boxes that can be ticked and unticked,
arguments a hand edit cannot turn into anything else."""

from __future__ import annotations

from datetime import UTC, datetime

from image_bot.publish.steering.dashboard import (
    Box,
    BoxVerb,
    DashboardView,
    Deferred,
    OpenPull,
    Waiting,
    render_dashboard,
    ticked,
    untick,
)
from image_bot.publish.steering.memory import Memory, decode_memory

MEMORY = Memory().ignore("docker.io/library/nginx", ("2.*",)).hold("ghcr.io/a/b", True)
VIEW = DashboardView(
    "acme/deploy",
    open=(OpenPull("image-bot/web", "Update web to 1.2", "https://x/pull/3"),),
    deferred=(Deferred("image-bot/redis", "redis -> 7.2", "the pull request limit is reached"),),
    waiting=(
        Waiting("nginx", "1.28.0", "waits for min_age", datetime(2026, 12, 5, 10, tzinfo=UTC)),
    ),
    problems=("skipped `a.yaml`: not YAML", "skipped `a.yaml`: not YAML"),
)


def test_the_same_state_renders_the_same_text_with_its_memory() -> None:
    body = render_dashboard(VIEW, MEMORY)
    assert body == render_dashboard(VIEW, MEMORY)
    assert decode_memory(body) == MEMORY
    assert "opens after 2026-12-05 10:00 UTC" in body
    assert body.count("not YAML") == 1
    assert ticked(body) == []


def test_ticked_boxes_are_read_then_unticked() -> None:
    body = render_dashboard(VIEW, MEMORY).replace("- [ ]", "- [x]").replace("\n", "\r\n")
    assert ticked(body) == [
        Box(BoxVerb.REBASE, "image-bot/web"),
        Box(BoxVerb.OPEN, "image-bot/redis"),
        Box(BoxVerb.UNIGNORE, "docker.io/library/nginx"),
    ]
    assert ticked(untick(body)) == []
    assert untick(body) == render_dashboard(VIEW, MEMORY)


def test_hand_made_boxes_with_odd_arguments_are_not_boxes() -> None:
    body = "- [x] <!-- image-bot-box: rebase a b -->\n- [x] <!-- image-bot-box: drop x -->\n"
    body += "- [x] <!-- image-bot-box: unignore <script> -->\n"
    assert ticked(body) == []
