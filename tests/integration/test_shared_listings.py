"""A `serve` replica on PostgreSQL state: the queued passes of one scheduled period share tag
listings, as one `run --once` pass shares them among its repositories; a webhook's pass lists
afresh. Counted by the real registry's access log."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.fakeforge.control import FakeForge
from tests.integration.serve_process import ServeProcess, serve_process, wait_for
from tests.support.deliveries import github_delivery_headers
from tests.support.org import deployment, org_config, seed_org
from tests.support.registry import RunningRegistry, free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPOSITORIES = 6
IMAGES = 3
SECRET = "shared-listings-secret"


def _done(service: ServeProcess) -> list[str]:
    """The repositories whose queued pass the replica finished, in order (its JSON log)."""
    return [
        json.loads(line)["repository"]
        for line in service.logs().splitlines()
        if "queued pass done" in line
    ]


def _listings(registry: RunningRegistry, repo_name: str, before: int) -> Counter[str]:
    """Tag listings per image since the `before`-th request the registry served."""
    return Counter(
        request.path.split("/tags/")[0].rsplit("/", 1)[1]
        for request in registry.served(repo_name)[before:]
        if request.kind == "list"
    )


def test_queued_passes_of_a_period_list_each_image_once_and_a_webhook_lists_afresh(
    fake_forge: FakeForge, registry: RunningRegistry, repo_name: str, postgres_url: str,
    tmp_path: Path,
) -> None:  # fmt: skip
    images = [f"{registry.host}/{repo_name}/img{n}" for n in range(IMAGES)]
    for n in range(IMAGES):
        registry.push_tags(f"{repo_name}/img{n}", ["1.0.0", "1.1.0"], distinct=True)
    every_image = {f"deploy/app{n}.yaml": deployment(images[n], "1.1.0") for n in range(IMAGES)}
    names = seed_org(fake_forge, {f"org/r{n}": every_image for n in range(REPOSITORIES)})
    config = tmp_path / "image-bot.yaml"
    config.write_text(
        org_config(
            fake_forge,
            registry.host,
            names,
            extra=(
                f"state: {{url: '{postgres_url}'}}\n"
                f"service: {{schedule: {{interval: 100d}}, webhooks: {{github: {SECRET}}}}}"
            ),
        )
    )
    port = free_port()
    before = len(registry.served(repo_name))
    # one job at a time: two jobs side by side would each list what neither had stored yet
    with serve_process(config, port, "--port", str(port), "--log-format", "json",
                       "--concurrency", "1") as service:  # fmt: skip
        wait_for("every repository's scheduled pass", lambda: len(_done(service)) == len(names))
        assert sorted(_done(service)) == sorted(names)  # one job per repository
        assert _listings(registry, repo_name, before) == {f"img{n}": 1 for n in range(IMAGES)}

        before = len(registry.served(repo_name))
        repo = fake_forge.repo(names[0])
        head = repo.git.branch_sha("main") or ""
        body = json.dumps(fake_forge.webhooks.payloads.github_push(repo, "main", head, head))
        answer = httpx.post(
            f"{service.url}/webhooks/github",
            content=body.encode(),
            headers=github_delivery_headers(SECRET, body.encode(), event="push", delivery="p1"),
            timeout=30,
        )
        assert answer.status_code in (200, 202), answer.text
        wait_for("the push's pass", lambda: len(_done(service)) == len(names) + 1)
        assert _listings(registry, repo_name, before) == {f"img{n}": 1 for n in range(IMAGES)}
