"""Webhooks from the fake forge reach a real HTTP receiver: GitHub `pull_request` and `push`
deliveries are schema-checked against the contract and signed with X-Hub-Signature-256;
GitLab deliveries carry X-Gitlab-Token and the documented merge request payload keys."""

from __future__ import annotations

import hashlib
import hmac
import subprocess  # noqa: TID251 - the test drives the real git client
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import gitlab
import pytest
from github import Auth, Github
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.fakeforge.barerepo import git_env
from tests.fakeforge.control import FakeForge
from tests.fakeforge.server import BackgroundServer

pytestmark = pytest.mark.integration

REPO = "acme/deploy"
SECRET = "It's a Secret to Everybody"


@dataclass
class Receiver:
    url: str
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    box = Receiver(url="")

    async def hook(request: Request) -> Response:
        box.received.append((dict(request.headers), await request.body()))
        return Response(status_code=200)

    server = BackgroundServer(Starlette(routes=[Route("/hook", hook, methods=["POST"])]))
    server.start()
    box.url = f"http://127.0.0.1:{server.port}/hook"
    yield box
    server.stop()


@pytest.fixture
def hooked(fake_forge: FakeForge, receiver: Receiver) -> FakeForge:
    receiver.received.clear()
    fake_forge.create_repo(REPO, {"app.yaml": "image: nginx:1.0\n"})
    fake_forge.commit(REPO, "image-bot/nginx", {"app.yaml": "image: nginx:1.1\n"}, start="main")
    return fake_forge


def test_github_pull_request_and_push_deliveries(hooked: FakeForge, receiver: Receiver) -> None:
    hooked.add_webhook(receiver.url, secret=SECRET, repo=REPO)
    gh = Github(
        auth=Auth.Token(hooked.bot_token),
        base_url=hooked.github_api_url,
        seconds_between_requests=None,
        seconds_between_writes=None,
    )
    pr = gh.get_repo(REPO).create_pull(base="main", head="image-bot/nginx", title="B", body="")
    pr.edit(title="Bump nginx")
    hooked.commit(REPO, "image-bot/nginx", {"app.yaml": "image: nginx:1.2\n"})
    pr.merge()

    deliveries = hooked.deliveries()
    seen = [(d.event, d.payload.get("action") or d.payload.get("ref")) for d in deliveries]
    assert seen == [
        ("pull_request", "opened"),
        ("pull_request", "edited"),
        ("push", "refs/heads/image-bot/nginx"),
        ("pull_request", "synchronize"),
        ("push", "refs/heads/main"),
        ("pull_request", "closed"),
    ]
    assert deliveries[1].payload["changes"] == {"title": {"from": "B"}}
    closed = deliveries[-1].payload["pull_request"]
    assert (closed["merged"], closed["title"]) == (True, "Bump nginx")
    assert deliveries[4].payload["after"] == hooked.branch_sha(REPO, "main")
    assert all(d.status == 200 for d in deliveries)
    for headers, body in receiver.received:
        digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert headers["x-hub-signature-256"] == f"sha256={digest}"
        assert headers["user-agent"].startswith("GitHub-Hookshot/")


def test_git_push_over_http_is_delivered(
    hooked: FakeForge, receiver: Receiver, tmp_path: Path
) -> None:
    hooked.add_webhook(receiver.url)
    env = git_env()
    work = tmp_path / "w"
    subprocess.run(["git", "clone", "-q", hooked.git_url(REPO), str(work)], env=env, check=True)
    (work / "app.yaml").write_text("image: nginx:9\n")
    subprocess.run(["git", "commit", "-qam", "by hand"], cwd=work, env=env, check=True)
    subprocess.run(["git", "push", "-q", "origin", "main"], cwd=work, env=env, check=True)

    pushes = [d for d in hooked.deliveries() if d.event == "push"]
    assert len(pushes) == 1
    payload = pushes[0].payload
    assert payload["ref"] == "refs/heads/main"
    assert [c["message"] for c in payload["commits"]] == ["by hand"]
    assert "x-hub-signature-256" not in receiver.received[0][0]  # no secret, no signature


def test_gitlab_merge_request_and_push_hooks(hooked: FakeForge, receiver: Receiver) -> None:
    hooked.add_webhook(receiver.url, flavour="gitlab", secret=SECRET)
    project = gitlab.Gitlab(url=hooked.gitlab_url, private_token=hooked.bot_token).projects.get(
        REPO
    )
    mr = project.mergerequests.create(
        {"source_branch": "image-bot/nginx", "target_branch": "main", "title": "Bump"}
    )
    mr.merge()

    deliveries = hooked.deliveries()
    seen = [
        (d.event, d.payload.get("object_attributes", {}).get("action") or d.payload.get("ref"))
        for d in deliveries
    ]
    assert seen == [
        ("Merge Request Hook", "open"),
        ("Push Hook", "refs/heads/main"),
        ("Merge Request Hook", "merge"),
    ]
    assert deliveries[1].payload["checkout_sha"] == hooked.branch_sha(REPO, "main")
    assert deliveries[2].payload["object_attributes"]["state"] == "merged"
    for headers, _ in receiver.received:
        assert headers["x-gitlab-token"] == SECRET
        assert headers["idempotency-key"]


def test_unreachable_receiver_is_recorded_not_raised(hooked: FakeForge) -> None:
    hooked.add_webhook("http://127.0.0.1:9/nothing-listens-here")
    hooked.commit(REPO, "main", {"x": "1"})
    deliveries = hooked.deliveries()
    assert [(d.event, d.status) for d in deliveries] == [("push", None)]


def test_branch_deleted_by_push_closes_the_pull_request(
    hooked: FakeForge, receiver: Receiver
) -> None:
    number = hooked.open_pull(REPO, "image-bot/nginx", title="Bump").number
    hooked.add_webhook(receiver.url)
    hooked.delete_branch(REPO, "image-bot/nginx")
    events = [(d.event, d.payload.get("action") or d.payload["ref"]) for d in hooked.deliveries()]
    assert events == [("push", "refs/heads/image-bot/nginx"), ("pull_request", "closed")]
    assert hooked.pull(REPO, number).state == "closed"
