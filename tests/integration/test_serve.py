"""`image-bot serve` end to end: the real command in its own process, a real docker-registry,
a real git remote (local forge). The first scheduled pass opens a branch; a signed webhook
after a new tag moves the branch at once; SIGTERM lets the process finish cleanly.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.serve_process import ServeProcess, serve_process, wait_for
from tests.support.gitrepo import GitRemote, MakeRemote
from tests.support.registry import RunningRegistry, free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TOKEN = "serve-test-generic-token"
DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: web
          image: {image}:1.0.0   # keep this comment
"""


@pytest.fixture
def served(
    registry: RunningRegistry, repo_name: str, git_remote: MakeRemote, tmp_path: Path
) -> Iterator[tuple[ServeProcess, GitRemote, str]]:
    image = f"{registry.host}/{repo_name}/web"
    registry.push_tags(f"{repo_name}/web", ["1.0.0", "1.1.0"], distinct=True)
    remote = git_remote(files={"apps/web/deploy.yaml": DEPLOY.format(image=image)})
    port = free_port()
    config = tmp_path / "image-bot.yaml"
    config.write_text(
        "registries:\n"
        f"  - host: '{registry.host}'\n"
        "    insecure: true\n"
        "repositories:\n"
        f"  - url: '{remote.url}'\n"
        "    forge: local\n"
        "service:\n"
        "  schedule: {interval: 1h}\n"
        "  host: 127.0.0.1\n"
        f"  port: {port}\n"
        "  webhooks:\n"
        f"    generic: {TOKEN}\n"
    )
    with serve_process(config, port) as service:
        yield service, remote, image


def deployed_tag(remote: GitRemote) -> str | None:
    branches = remote.branches("image-bot/")
    if not branches:
        return None
    (branch,) = branches
    text = remote.show(branch, "apps/web/deploy.yaml")
    return text.split("image: ", 1)[1].split(":")[-1].split()[0]


def test_serve_schedules_takes_webhooks_and_drains(
    served: tuple[ServeProcess, GitRemote, str], registry: RunningRegistry, repo_name: str
) -> None:
    service, remote, image = served

    def ready() -> bool:
        response = service.get("/readyz")
        return response is not None and response.status_code == 200

    wait_for("readiness" + service.log.read_text(errors="replace")[-500:], ready, timeout=30)
    wait_for("the first scheduled pass", lambda: deployed_tag(remote) == "1.1.0")
    wait_for("the status page", lambda: "1.1.0" in service.text("/"))

    registry.push_tags(f"{repo_name}/web", ["1.2.0"], distinct=True)
    refused = httpx.post(f"{service.url}/webhooks/generic", json={"image": f"{image}:1.2.0"})
    assert refused.status_code == 401
    accepted = httpx.post(
        f"{service.url}/webhooks/generic",
        json={"image": f"{image}:1.2.0"},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert accepted.status_code == 202, accepted.text
    wait_for("the webhook's pass", lambda: deployed_tag(remote) == "1.2.0")

    targeted = 'image_bot_passes_total{kind="targeted",outcome="ok"} 1.0'
    wait_for("the pass metrics", lambda: targeted in service.text("/metrics"))
    metrics = service.text("/metrics")
    assert 'image_bot_webhooks_total{outcome="unauthorized",source="generic"} 1.0' in metrics
    tags_read = f'image_bot_tags_fetched_total{{registry="{registry.host}"}} 5.0'
    assert tags_read in metrics  # 2 tags on the first pass, 3 on the webhook's

    # SIGHUP: a broken config is refused (the old one stays), a good one is taken
    original = service.config.read_text()
    service.config.write_text("repositories: [\n")
    service.process.send_signal(signal.SIGHUP)
    wait_for("the refused reload", lambda: "reload failed" in service.log.read_text())
    repository = f"  - url: '{remote.url}'\n    forge: local\n"
    service.config.write_text(
        original.replace(f"repositories:\n{repository}", "repositories: []\n")
    )
    service.process.send_signal(signal.SIGHUP)

    def repository_gone() -> bool:
        page = service.get("/")
        return page is not None and 'class="repository"' not in page.text

    wait_for("the reload", repository_gone)

    service.process.send_signal(signal.SIGTERM)
    assert service.process.wait(timeout=30) == 0, service.log.read_text(errors="replace")[-2000:]
    assert TOKEN not in service.log.read_text(errors="replace")
