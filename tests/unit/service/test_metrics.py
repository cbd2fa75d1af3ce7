"""Prometheus metrics: what a scrape shows after passes and webhooks; no state shared."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from image_bot.service.metrics import Metrics, PassSummary


def scrape(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, keyed by (sample name, sorted labels)."""
    text = metrics.exposition().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_fresh_metrics_export_zero_pull_request_counts() -> None:
    samples = scrape(Metrics())
    for action in ("opened", "updated", "closed"):
        assert samples[("image_bot_pull_requests_total", (("action", action),))] == 0
    assert not any(name == "image_bot_passes_total" for name, _ in samples)


def test_passes_feed_every_collector() -> None:
    metrics = Metrics()
    metrics.observe_pass(
        PassSummary(
            duration_seconds=12.5,
            tags_fetched={"docker.io": 120, "ghcr.io": 30},
            registry_errors={"quay.io": 1},
            pull_requests={"opened": 2, "updated": 1},
            rate_limit_remaining={("github", "api.github.com"): 4990},
            finished_at=1_800_000_000.0,
        )
    )
    metrics.observe_pass(
        PassSummary(
            duration_seconds=2.0,
            outcome="partial",
            targeted=True,
            tags_fetched={"docker.io": 5},
            registry_errors={"quay.io": 2},
            pull_requests={"closed": 1},
            rate_limit_remaining={
                ("github", "api.github.com"): 4950,
                ("registry", "registry-1.docker.io"): 97,
            },
        )
    )
    samples = scrape(metrics)
    assert samples[("image_bot_passes_total", (("kind", "scheduled"), ("outcome", "ok")))] == 1
    assert samples[("image_bot_passes_total", (("kind", "targeted"), ("outcome", "partial")))] == 1
    assert samples[("image_bot_pass_duration_seconds_sum", (("kind", "scheduled"),))] == 12.5
    assert samples[("image_bot_pass_duration_seconds_count", (("kind", "targeted"),))] == 1
    assert samples[("image_bot_tags_fetched_total", (("registry", "docker.io"),))] == 125
    assert samples[("image_bot_tags_fetched_total", (("registry", "ghcr.io"),))] == 30
    assert samples[("image_bot_registry_errors_total", (("registry", "quay.io"),))] == 3
    assert samples[("image_bot_pull_requests_total", (("action", "opened"),))] == 2
    assert samples[("image_bot_pull_requests_total", (("action", "updated"),))] == 1
    assert samples[("image_bot_pull_requests_total", (("action", "closed"),))] == 1
    github = (("host", "api.github.com"), ("source", "github"))
    assert samples[("image_bot_rate_limit_remaining", github)] == 4950  # the last one reported
    docker_hub = (("host", "registry-1.docker.io"), ("source", "registry"))
    assert samples[("image_bot_rate_limit_remaining", docker_hub)] == 97
    assert samples[("image_bot_last_pass_timestamp_seconds", ())] == 1_800_000_000.0


def test_build_info_names_the_version_and_python() -> None:
    samples = scrape(Metrics(version="1.2.3"))
    ((labels, value),) = [
        (labels, value)
        for (name, labels), value in samples.items()
        if name == "image_bot_build_info"
    ]
    assert value == 1
    assert dict(labels)["version"] == "1.2.3"
    assert dict(labels)["python"].count(".") == 2


def test_webhook_outcomes_are_counted() -> None:
    metrics = Metrics()
    metrics.observe_webhook("github", "triggered")
    metrics.observe_webhook("github", "triggered")
    metrics.observe_webhook("quay", "unauthorized")
    samples = scrape(metrics)
    assert (
        samples[("image_bot_webhooks_total", (("outcome", "triggered"), ("source", "github")))] == 2
    )
    assert (
        samples[("image_bot_webhooks_total", (("outcome", "unauthorized"), ("source", "quay")))]
        == 1
    )


def test_two_instances_share_nothing() -> None:
    first, second = Metrics(), Metrics()  # a global registry would refuse the second
    first.observe_pass(PassSummary(duration_seconds=1.0, pull_requests={"opened": 3}))
    assert scrape(second)[("image_bot_pull_requests_total", (("action", "opened"),))] == 0
    assert scrape(first)[("image_bot_pull_requests_total", (("action", "opened"),))] == 3


def test_negative_inputs_do_not_break_counters() -> None:
    metrics = Metrics()
    metrics.observe_pass(PassSummary(duration_seconds=-1.0, tags_fetched={"docker.io": -5}))
    samples = scrape(metrics)
    assert samples[("image_bot_pass_duration_seconds_sum", (("kind", "scheduled"),))] == 0
    assert samples[("image_bot_tags_fetched_total", (("registry", "docker.io"),))] == 0
