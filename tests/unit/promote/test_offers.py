"""What a stage is offered and when: soak, checks, window, hold, bundles, rollbacks, upstreams."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from image_bot.history.entries import Commit, Timeline
from image_bot.history.timeline import FileRef, TimelineBuilder
from image_bot.model import CheckState, ImageName
from image_bot.promote.calendar import Calendar, Window, parse_days, parse_hours
from image_bot.promote.offers import Runs, bundle_offers, offer
from image_bot.promote.stages import Bundle, Require, Stage, StageGraph

T0 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)  # a Monday
API = ImageName("ghcr.io", "acme/api")
WEB = ImageName("ghcr.io", "acme/web")
DEV, STAGING = Stage("dev", ("dev",)), Stage("staging", ("staging",), promote_from=("dev",))


def timeline(commits: Sequence[tuple[timedelta, Mapping[str, Sequence[FileRef]]]]) -> Timeline:
    """Commits at T0 + offset, each setting the refs of some files (`dev/x`, `staging/x`)."""
    builder = TimelineBuilder(lambda path: path.split("/")[0], upstreams={"staging": ("dev",)})
    for position, (offset, files) in enumerate(commits):
        builder.commit(Commit(f"{position:040x}", T0 + offset, "A <a@x>", None, position), files)
    return builder.finish()


def runs(*versions: tuple[str | None, str | None]) -> Runs:
    """What the stage runs now: these versions."""
    return lambda version: version in versions


def green(_: str) -> CheckState:
    return CheckState.SUCCESS


START = (
    timedelta(0),
    {"dev/api": [(API, "1.0", "sha256:a")], "staging/api": [(API, "1.0", "sha256:a")]},
)
BUMP = (timedelta(hours=1), {"dev/api": [(API, "1.1", "sha256:b")]})


def test_nothing_is_offered_when_the_stage_runs_what_its_upstream_runs() -> None:
    graph = StageGraph((DEV, STAGING))
    assert (
        offer(
            STAGING, graph, timeline([START]), API, runs(("1.0", "sha256:a")), now=T0, checks=green
        )
        is None
    )


def test_soak_counts_from_the_commit_that_put_the_version_upstream() -> None:
    soaking = Stage("staging", ("staging",), promote_from=("dev",), soak=timedelta(hours=24))
    graph = StageGraph((DEV, soaking))
    history = timeline([START, BUMP])
    current = runs(("1.0", "sha256:a"))
    early = offer(
        soaking,
        graph,
        history,
        API,
        current,
        now=T0 + timedelta(hours=19, minutes=48),
        checks=green,
    )
    assert early is not None and not early.verdict.ready
    assert early.verdict.reason == "waiting for soak, 5h12m left"
    assert early.verdict.opens_at == T0 + timedelta(hours=25)
    assert early.version == ("1.1", "sha256:b")  # the exact artifact, digest included
    later = offer(soaking, graph, history, API, current, now=T0 + timedelta(hours=25), checks=green)
    assert later is not None and later.verdict.ready


def test_checks_and_hold_block_without_a_time() -> None:
    checked = Stage("staging", ("staging",), promote_from=("dev",), checks=True)
    history = timeline([START, BUMP])
    failed = offer(
        checked,
        StageGraph((DEV, checked)),
        history,
        API,
        runs(),
        now=T0 + timedelta(hours=2),
        checks=lambda _: CheckState.FAILURE,
    )
    assert failed is not None and failed.verdict.blocked
    assert failed.verdict.reason.startswith("checks failed on 000000000000")
    held = Stage("staging", ("staging",), promote_from=("dev",), hold="incident 42")
    stopped = offer(
        held,
        StageGraph((DEV, held)),
        history,
        API,
        runs(),
        now=T0 + timedelta(hours=2),
        checks=green,
    )
    assert (
        stopped is not None
        and stopped.verdict.blocked
        and stopped.verdict.reason == "held: incident 42"
    )


def test_a_window_says_when_it_opens() -> None:
    window = Window(
        parse_days("mon-thu"), parse_hours("09:00-16:00"), "UTC", "mon-thu 09:00-16:00 UTC"
    )
    prod = Stage("staging", ("staging",), promote_from=("dev",), calendar=Calendar(window))
    evening = T0 + timedelta(hours=8)  # Monday 18:00
    made = offer(
        prod,
        StageGraph((DEV, prod)),
        timeline([START, BUMP]),
        API,
        runs(),
        now=evening,
        checks=green,
    )
    assert made is not None and not made.verdict.ready
    assert made.verdict.reason == (
        "outside the window mon-thu 09:00-16:00 UTC; opens 2026-12-08 09:00 UTC"
    )
    assert made.verdict.opens_at == datetime(2026, 12, 8, 9, 0, tzinfo=UTC)


def test_a_version_the_stage_was_rolled_back_from_is_not_offered_again() -> None:
    history = timeline(
        [
            START,
            BUMP,
            (timedelta(hours=2), {"staging/api": [(API, "1.1", "sha256:b")]}),
            (timedelta(hours=3), {"staging/api": [(API, "1.0", "sha256:a")]}),  # rolled back
        ]
    )
    made = offer(
        STAGING,
        StageGraph((DEV, STAGING)),
        history,
        API,
        runs(("1.0", "sha256:a")),
        now=T0 + timedelta(hours=4),
        checks=green,
    )
    assert made is not None and not made.verdict.ready
    assert "rolled back from 1.1@sha256:b" in made.verdict.reason


def test_images_of_one_upstream_merge_wait_for_each_other() -> None:
    both = (timedelta(hours=1), {"dev/api": [(API, "1.1", None)], "dev/web": [(WEB, "2.1", None)]})
    history = timeline([START, (timedelta(0), {"staging/web": [(WEB, "2.0", None)]}), both])
    graph = StageGraph((DEV, STAGING))
    now = T0 + timedelta(hours=2)
    api = offer(STAGING, graph, history, API, runs(("1.0", "sha256:a")), now=now, checks=green)
    web = offer(STAGING, graph, history, WEB, runs(("2.0", None)), now=now, checks=green)
    assert api is not None and web is not None
    blocked_web = type(web)(
        web.stage, web.image, web.sources, type(web.verdict)(ready=False, reason="x")
    )
    bundled = bundle_offers(STAGING, [api, blocked_web])
    assert (
        not bundled[0].verdict.ready
        and "waiting with ghcr.io/acme/web" in bundled[0].verdict.reason
    )
    alone = Stage("staging", ("staging",), promote_from=("dev",), bundle=Bundle.IMAGE)
    assert bundle_offers(alone, [api, blocked_web])[0].verdict.ready


def test_several_upstreams_all_must_agree_any_takes_the_newest_ready() -> None:
    builder = TimelineBuilder(lambda path: path.split("/")[0])
    for position, files in enumerate(
        [
            {
                "eu/api": [(API, "1.1", None)],
                "us/api": [(API, "1.0", None)],
                "prod/api": [(API, "0.9", None)],
            },
            {"us/api": [(API, "1.2", None)]},
        ]
    ):
        builder.commit(
            Commit(f"{position:040x}", T0 + timedelta(hours=position), "A", None, position), files
        )
    history = builder.finish()
    eu, us = Stage("eu", ("eu",)), Stage("us", ("us",))
    every = Stage("prod", ("prod",), promote_from=("eu", "us"))
    graph = StageGraph((eu, us, every))
    made = offer(
        every, graph, history, API, runs(("0.9", None)), now=T0 + timedelta(hours=5), checks=green
    )
    assert made is not None and "upstreams disagree" in made.verdict.reason
    anyone = Stage("prod", ("prod",), promote_from=("eu", "us"), require=Require.ANY)
    picked = offer(
        anyone,
        StageGraph((eu, us, anyone)),
        history,
        API,
        runs(("0.9", None)),
        now=T0 + timedelta(hours=5),
        checks=green,
    )
    assert picked is not None and picked.verdict.ready and picked.version == ("1.2", None)
