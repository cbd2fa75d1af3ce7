"""`image-bot serve` in GitHub App mode, end to end: the real command in its own process, a real
docker-registry, the fake forge as GitHub (real RS256 App JWTs, installation tokens, git over
HTTP). The App's repositories are discovered, each with its `.github/image-bot.yml`; signed
webhooks start passes at once (the schedule is a day long); an invalid settings file gets an
issue on its repository, closed once fixed; SIGTERM during a pass drains it.
"""

from __future__ import annotations

import json
import re
import signal
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from image_bot.state import StateStore
from tests.fakeforge.control import FakeForge
from tests.integration.serve_process import ServeProcess, serve_process, wait_for
from tests.integration.test_serve import DEPLOY
from tests.support.deliveries import github_delivery_headers
from tests.support.registry import RunningRegistry, free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SECRET = "app-webhook-secret-for-tests"
REPO = "acme/gitops"
BROKEN = "acme/broken"
SETTINGS = ".github/image-bot.yml"
GOOD_SETTINGS = "# settings for image-bot\npull_request:\n  labels: [images]\n"
BAD_SETTINGS = "# settings for image-bot\npull_request:\n  draft: maybe\n"


@dataclass
class AppService(ServeProcess):
    """The running service and what it was set up with."""

    image: str
    app_id: int
    installation_id: int

    def passes(self) -> int:
        """Passes finished so far (scheduled and targeted), from /metrics."""
        found = re.findall(
            r'^image_bot_passes_total\{kind="\w+",outcome="\w+"\} (\S+)$',
            self.text("/metrics"),
            re.M,
        )
        return int(sum(float(value) for value in found))

    def deliver(self, event: str, payload: dict[str, object], *, secret: str = SECRET) -> int:
        body = json.dumps(payload).encode()
        response = httpx.post(
            f"{self.url}/webhooks/github",
            content=body,
            headers=github_delivery_headers(secret, body, event=event, delivery=str(uuid.uuid4())),
            timeout=10,
        )
        return response.status_code


def package_event(image: str, tag: str) -> dict[str, object]:
    """A `registry_package` delivery as GitHub sends it for a pushed container tag."""
    return {
        "action": "published",
        "registry_package": {
            "name": image.rsplit("/", 1)[-1],
            "package_type": "CONTAINER",
            "package_version": {
                "container_metadata": {"tag": {"name": tag, "digest": ""}},
                "package_url": f"{image}:{tag}",
            },
        },
        "installation": {"id": 1},
    }


def push_event(repository: str) -> dict[str, object]:
    return {
        "ref": "refs/heads/main",
        "deleted": False,
        "repository": {"full_name": repository, "default_branch": "main"},
    }


@pytest.fixture
def app_service(
    fake_forge: FakeForge, registry: RunningRegistry, repo_name: str, tmp_path: Path
) -> Iterator[AppService]:
    image = f"{registry.host}/{repo_name}/web"
    registry.push_tags(f"{repo_name}/web", ["1.0.0"], distinct=True)
    deploy = DEPLOY.format(image=image)
    fake_forge.create_repo(REPO, {"apps/web/deploy.yaml": deploy, SETTINGS: GOOD_SETTINGS})
    fake_forge.create_repo(BROKEN, {"apps/web/deploy.yaml": deploy, SETTINGS: BAD_SETTINGS})
    app_id, private_key = fake_forge.create_app()
    installation_id = fake_forge.install_app(app_id, "acme", [REPO, BROKEN])
    (tmp_path / "app.pem").write_text(private_key)
    port = free_port()
    config = tmp_path / "image-bot.yaml"
    config.write_text(
        "registries:\n"
        f"  - host: '{registry.host}'\n"
        "    insecure: true\n"
        "github_app:\n"
        f"  app_id: {app_id}\n"
        "  private_key: ${file:app.pem}\n"
        f"  api_url: {fake_forge.github_api_url}\n"
        "service:\n"
        "  schedule: {interval: 24h}\n"
        "  host: 127.0.0.1\n"
        f"  port: {port}\n"
        "  webhooks:\n"
        f"    github: {SECRET}\n"
    )
    with serve_process(config, port) as process:
        service = AppService(
            **vars(process), image=image, app_id=app_id, installation_id=installation_id
        )
        wait_for("the first pass", lambda: service.passes() == 1, timeout=60)
        yield service
    text = service.logs()
    assert private_key.splitlines()[1] not in text
    assert "ghs_" not in text  # installation tokens (in clone URLs) are redacted


def test_a_signed_package_webhook_opens_a_pull_request_at_once(
    app_service: AppService, fake_forge: FakeForge, registry: RunningRegistry, repo_name: str
) -> None:
    service = app_service
    assert fake_forge.pulls(REPO) == []  # 1.0.0 is the newest tag so far

    registry.push_tags(f"{repo_name}/web", ["1.1.0"], distinct=True)
    event = package_event(service.image, "1.1.0")
    assert service.deliver("registry_package", event, secret="not-the-secret") == 401
    time.sleep(1.0)
    assert service.passes() == 1  # the refused delivery started nothing

    sent = time.monotonic()
    assert service.deliver("registry_package", event) == 202
    wait_for("the pull request", lambda: len(fake_forge.pulls(REPO)) == 1, timeout=30)
    latency = time.monotonic() - sent
    print(f"webhook to pull request: {latency:.2f}s")  # measured, not asserted

    # labels come in a second call, after the pull request exists
    labelled = lambda: fake_forge.pulls(REPO)[0].labels == ["images"]  # noqa: E731
    wait_for("the labels of .github/image-bot.yml", labelled, timeout=30)
    (pr,) = fake_forge.pulls(REPO)
    assert pr.author.login == "image-bot[bot]"  # an installation token, not a user's
    # two passes, one installation token each for discovery and for the forge, reused
    assert fake_forge.count_calls("github", path="access_tokens") == 2
    for what in ("installations$", "installation/repositories", "contents/", "/issues"):
        print(f"calls {what}: {fake_forge.count_calls('github', path=what)}")
    head = fake_forge.read_file(REPO, pr.head, "apps/web/deploy.yaml")
    assert f"image: {service.image}:1.1.0   # keep this comment" in head
    assert fake_forge.pulls(BROKEN) == []  # skipped: its settings file is invalid


def test_an_invalid_settings_file_gets_one_issue_closed_once_fixed(
    app_service: AppService, fake_forge: FakeForge
) -> None:
    service = app_service
    (issue,) = fake_forge.issues(BROKEN)
    assert issue.state == "open"
    assert SETTINGS in issue.title
    assert f"{SETTINGS}:3: pull_request.draft:" in issue.body
    assert fake_forge.issues(REPO) == []

    # another pass while still broken: the same issue, not a second one
    assert service.deliver("push", push_event(REPO)) == 202
    wait_for("the push's pass", lambda: service.passes() == 2)
    assert [i.number for i in fake_forge.issues(BROKEN)] == [issue.number]

    fake_forge.commit(BROKEN, "main", {SETTINGS: GOOD_SETTINGS}, message="fix settings")
    assert service.deliver("push", push_event(BROKEN)) == 202
    wait_for("the issue to close", lambda: fake_forge.issues(BROKEN)[0].state == "closed")
    assert "valid again" in fake_forge.issues(BROKEN)[0].comments[-1].body


def test_installation_repositories_event_adds_a_repository(
    app_service: AppService, fake_forge: FakeForge, registry: RunningRegistry, repo_name: str
) -> None:
    service = app_service
    registry.push_tags(f"{repo_name}/web", ["1.2.0"], distinct=True)
    later = "acme/later"
    fake_forge.create_repo(later, {"deploy.yaml": DEPLOY.format(image=service.image)})
    with fake_forge.state.lock:  # GitHub: the owner selects one more repository
        fake_forge.state.apps[service.app_id].installations[service.installation_id][1].append(
            later
        )
    event = {
        "action": "added",
        "installation": {"id": service.installation_id},
        "repositories_added": [{"full_name": later}],
        "repositories_removed": [],
    }
    assert service.deliver("installation_repositories", event) == 202
    wait_for("the new repository's pull request", lambda: len(fake_forge.pulls(later)) == 1)
    assert fake_forge.pulls(REPO) == []  # only the added repository was planned


def test_sigterm_during_a_pass_finishes_it_and_leaves_consistent_state(
    app_service: AppService, fake_forge: FakeForge, registry: RunningRegistry, repo_name: str
) -> None:
    service = app_service
    registry.push_tags(f"{repo_name}/web", ["1.3.0"], distinct=True)
    assert service.deliver("registry_package", package_event(service.image, "1.3.0")) == 202
    wait_for("the pass to start", lambda: service.logs().count("pass starting") == 2)
    service.process.send_signal(signal.SIGTERM)
    assert service.process.wait(timeout=60) == 0, service.logs()[-2000:]

    # the pass ran to its end: the branch pushed has its pull request, nothing half done
    branches = [b for b in fake_forge.branches(REPO) if b.startswith("image-bot/")]
    heads = sorted(pr.head for pr in fake_forge.pulls(REPO) if pr.state == "open")
    assert sorted(branches) == heads
    assert len(heads) == 1
    with StateStore.in_dir(service.state_dir, read_only=True) as store:
        assert store is not None  # the state file opens: it was not left half-written
