"""The fake forge's contract-checked GitHub and GitLab deliveries reach the service's real app.

The fake forge (tests/fakeforge) signs GitHub payloads it has validated against
`../shared/contracts` and sends GitLab hooks with `X-Gitlab-Token` and `Idempotency-Key`; the
app runs under uvicorn. What the bot should do with each delivery is checked end to end.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from image_bot.github_app.webhooks import GitHubEvent, PullRequestDeclined
from image_bot.model import Trigger
from image_bot.publish.pr.marker import PrMarker, encode_pr_marker
from image_bot.service.metrics import Metrics
from image_bot.service.status import ServiceState
from image_bot.service.web import create_app
from image_bot.service.webhooks import (
    WebhookSecrets,
)
from tests.fakeforge.control import FakeForge
from tests.fakeforge.server import serve_in_thread

pytestmark = pytest.mark.integration

REPO = "acme/gitops"
SECRET = "forge-webhook-secret"
BOT_BODY = "Update nginx\n\n" + encode_pr_marker(
    PrMarker("nginx", "fp-1", ("docker.io/library/nginx:1.27.1",))
)


@dataclass
class Received:
    url: str = ""
    triggers: list[Trigger] = field(default_factory=list)
    github: list[GitHubEvent] = field(default_factory=list)


@pytest.fixture(scope="module")
def service() -> Iterator[Received]:
    received = Received()
    app = create_app(
        ServiceState(),
        trigger=received.triggers.append,
        secrets=WebhookSecrets(github=SECRET, gitlab=SECRET),
        metrics=Metrics(),
        on_github=received.github.append,
    )
    with serve_in_thread(app) as url:
        received.url = url
        yield received


@pytest.fixture
def hooked(fake_forge: FakeForge, service: Received) -> FakeForge:
    service.triggers.clear()
    service.github.clear()
    fake_forge.create_repo(REPO, {"deploy.yaml": "image: nginx:1.25.3\n"})
    fake_forge.commit(
        REPO, "image-bot/nginx", {"deploy.yaml": "image: nginx:1.27.1\n"}, start="main"
    )
    return fake_forge


def test_github_deliveries(hooked: FakeForge, service: Received) -> None:
    hooked.add_webhook(f"{service.url}/webhooks/github", secret=SECRET, repo=REPO)
    pull = hooked.open_pull(REPO, "image-bot/nginx", title="Update nginx", body=BOT_BODY)
    hooked.commit(REPO, "image-bot/nginx", {"deploy.yaml": "image: nginx:1.27.2\n"})
    hooked.commit(REPO, "main", {"README.md": "hello\n"}, message="docs")
    hooked.close_pull(REPO, pull.number)

    answers = [(d.event, d.status) for d in hooked.deliveries()]
    assert answers == [
        ("pull_request", 200),  # opened: nothing to do
        ("push", 200),  # the bot's own branch: not a base branch
        ("pull_request", 200),  # synchronize
        ("push", 202),  # the base branch moved: re-plan
        ("pull_request", 202),  # closed without merging: handed to the service
    ]
    assert service.triggers == [
        Trigger(repositories=(REPO,), reason=f"push to {REPO} main"),
    ]
    assert service.github == [
        PullRequestDeclined(
            repository=REPO,
            number=pull.number,
            branch="image-bot/nginx",
            proposals=("docker.io/library/nginx:1.27.1",),
        )
    ]


def test_github_deliveries_with_a_wrong_secret_trigger_nothing(
    hooked: FakeForge, service: Received
) -> None:
    hooked.add_webhook(f"{service.url}/webhooks/github", secret="not-the-secret", repo=REPO)
    hooked.add_webhook(f"{service.url}/webhooks/github", secret=None, repo=REPO)  # unsigned
    hooked.commit(REPO, "main", {"README.md": "hello\n"}, message="docs")
    assert [d.status for d in hooked.deliveries()] == [401, 401]
    assert service.triggers == []


def test_gitlab_push_hook(hooked: FakeForge, service: Received) -> None:
    hooked.add_webhook(f"{service.url}/webhooks/gitlab", flavour="gitlab", secret=SECRET)
    hooked.commit(REPO, "image-bot/nginx", {"deploy.yaml": "image: nginx:1.27.3\n"})
    hooked.commit(REPO, "main", {"README.md": "hello\n"}, message="docs")
    assert [(d.event, d.status) for d in hooked.deliveries()] == [
        ("Push Hook", 200),
        ("Push Hook", 202),
    ]
    assert service.triggers == [Trigger(repositories=(REPO,), reason=f"push to {REPO} main")]
