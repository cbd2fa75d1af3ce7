"""The service's HTTP app, driven in process through httpx's ASGI transport (the real app)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from ruamel.yaml import YAML

from image_bot.cli import cli
from image_bot.config.load import parse_config
from image_bot.github_app.webhooks import GitHubEvent
from image_bot.model import ImageName, StageVersion, Trigger, Waiting
from image_bot.publish.pr.marker import PrMarker, encode_pr_marker
from image_bot.service.metrics import Metrics
from image_bot.service.status import (
    ImageStatus,
    PullRequestStatus,
    RepositoryStatus,
    ServiceState,
)
from image_bot.service.web import REGISTRY_MAX_BODY, create_app
from image_bot.service.webhooks import (
    WebhookSecrets,
)

Client = httpx.AsyncClient
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
GITHUB_SECRET = "gh-webhook-secret"
SECRETS = WebhookSecrets(
    github=GITHUB_SECRET,
    dockerhub="hub-secret-token",
    harbor="harbor-secret-token",
    quay="quay-secret-token",
    gitlab="gitlab-secret-token",
    generic="generic-secret-key",
)


@dataclass
class Recorder:
    """Collects what the app hands to its callbacks."""

    triggers: list[Trigger] = field(default_factory=list)
    github: list[GitHubEvent] = field(default_factory=list)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def state() -> ServiceState:
    return ServiceState()


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


def make_client(
    state: ServiceState,
    recorder: Recorder,
    metrics: Metrics,
    *,
    secrets: WebhookSecrets = SECRETS,
    with_github_handler: bool = True,
) -> httpx.AsyncClient:
    app = create_app(
        state,
        trigger=recorder.triggers.append,
        secrets=secrets,
        metrics=metrics,
        on_github=recorder.github.append if with_github_handler else None,
        clock=lambda: NOW,
    )
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://image-bot.test")


@pytest.fixture
async def client(
    state: ServiceState, recorder: Recorder, metrics: Metrics
) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(state, recorder, metrics) as client:
        yield client


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# --- probes and metrics ---------------------------------------------------------------------------


async def test_healthz_always_ok(client: Client) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.text == "ok\n"


async def test_readyz_waits_for_config_and_scheduler(client: Client, state: ServiceState) -> None:
    assert (await client.get("/readyz")).status_code == 503
    state.mark_config_loaded()
    assert (await client.get("/readyz")).status_code == 503
    state.mark_scheduler_started()
    response = await client.get("/readyz")
    assert (response.status_code, response.text) == (200, "ready\n")


async def test_metrics_are_served_in_prometheus_format(client: Client) -> None:
    await client.post("/webhooks/quay", content=b"{}")  # unauthorized: counted
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    assert 'image_bot_webhooks_total{outcome="unauthorized",source="quay"} 1.0' in response.text


# --- status page ----------------------------------------------------------------------------------


def put_repository(state: ServiceState, *, note: str = "", url: str = "https://x/pull/7") -> None:
    state.put(
        RepositoryStatus(
            repository="acme/gitops",
            last_pass=NOW - timedelta(minutes=3),
            next_pass=NOW + timedelta(minutes=7),
            images=(
                ImageStatus("nginx:1.25.3", "1.25.3", "1.27.1", note),
                ImageStatus("ghcr.io/acme/app:2.0.0", "2.0.0", None, "newest allowed"),
            ),
            pull_requests=(
                PullRequestStatus(
                    title="Update nginx to 1.27.1",
                    url=url,
                    branch="image-bot/nginx",
                    base="main",
                    number=7,
                ),
            ),
            errors=("registry quay.io (x/y): 503 Service Unavailable",),
        )
    )


async def test_status_page_shows_each_repository(client: Client, state: ServiceState) -> None:
    put_repository(state)
    response = await client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = response.text
    for expected in (
        "acme/gitops",
        "nginx:1.25.3",
        "1.27.1",
        "up to date",
        "#7 Update nginx to 1.27.1",
        'href="https://x/pull/7"',
        "3 min ago",
        "in 7 min",
        "503 Service Unavailable",
        "1 repository",
    ):
        assert expected in page


async def test_status_page_before_the_first_pass(client: Client, state: ServiceState) -> None:
    page = (await client.get("/")).text
    assert "0 repositories" in page
    assert "starting" in page
    assert "first pass has not finished" in page
    state.put(RepositoryStatus("acme/new", next_pass=NOW))
    state.put(RepositoryStatus("acme/quiet", last_pass=NOW))
    page = (await client.get("/")).text
    waiting, quiet = page.split('id="repo-acme-quiet"')
    assert "Waiting for the first pass." in waiting
    assert "up to date" in quiet
    assert "not yet" in waiting


async def test_status_page_escapes_and_forbids_scripts(client: Client, state: ServiceState) -> None:
    put_repository(
        state,
        note='<script>alert("x")</script><img src=x onerror=alert(1)>',
        url="javascript:alert(1)",
    )
    response = await client.get("/")
    page = response.text
    assert "<script>" not in page
    assert "<img" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "javascript:" not in page  # not a link, and the URL is not shown
    assert "#7 Update nginx to 1.27.1" in page
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src" not in policy  # so scripts fall back to 'none'


async def test_status_page_shows_the_environments_matrix_and_waiting_promotions(
    client: Client, state: ServiceState
) -> None:
    app = ImageName("ghcr.io", "acme/app")
    digest = "sha256:" + "ab" * 32
    state.put(
        RepositoryStatus(
            "acme/deploy",
            last_pass=NOW,
            stages=("dev", "staging", "prod"),
            environments=(
                StageVersion("dev", app, "1.2.0", digest, NOW - timedelta(hours=5)),
                StageVersion("staging", app, "1.1.0", None, NOW - timedelta(days=2), 1, NOW),
                StageVersion("prod", app, "<b>1.0</b>", None, NOW - timedelta(days=9), 2, NOW),
            ),
            waiting=(
                Waiting(
                    "staging",
                    app,
                    "1.2.0@sha256:abababababab",
                    "waiting for soak, 19h left",
                    NOW + timedelta(hours=19),
                ),
            ),
        )
    )
    page = (await client.get("/")).text
    matrix = page.split('<table class="envs">')[1].split("</table>")[0]
    assert [h.split("</th>")[0] for h in matrix.split('"col">')[2:]] == ["dev", "staging", "prod"]
    assert "1.2.0@sha256:abababababab" in matrix and "5 h ago" in matrix
    assert "1 version behind" in matrix and "2 versions behind" in matrix
    assert "&lt;b&gt;1.0&lt;/b&gt;" in matrix and "<b>1.0" not in matrix
    assert "staging</strong>: <code>ghcr.io/acme/app</code> 1.2.0@sha256:abababababab:" in page
    assert "waiting for soak, 19h left (opens" in page and "in 19 h" in page


# --- registry webhooks ----------------------------------------------------------------------------

DOCKERHUB = json.dumps(
    {"push_data": {"tag": "1.2.3"}, "repository": {"repo_name": "acme/app"}}
).encode()
QUAY = json.dumps({"docker_url": "quay.io/acme/app", "updated_tags": ["1.2.3"]}).encode()
HARBOR = json.dumps(
    {
        "type": "PUSH_ARTIFACT",
        "event_data": {"resources": [{"resource_url": "harbor.example.com/acme/app:1.2.3"}]},
    }
).encode()
GITLAB = json.dumps(
    {
        "events": [
            {
                "action": "push",
                "target": {"repository": "acme/app", "tag": "1.2.3"},
                "request": {"host": "registry.gitlab.example.com"},
            }
        ]
    }
).encode()
GENERIC = b'{"image": "ghcr.io/acme/app:1.2.3"}'

GOOD_DELIVERIES = [
    ("dockerhub", DOCKERHUB, {}, "?token=hub-secret-token", ImageName("docker.io", "acme/app")),
    ("dockerhub", DOCKERHUB, {}, "/hub-secret-token", ImageName("docker.io", "acme/app")),
    ("quay", QUAY, {}, "/quay-secret-token", ImageName("quay.io", "acme/app")),
    (
        "harbor",
        HARBOR,
        {"Authorization": "harbor-secret-token"},
        "",
        ImageName("harbor.example.com", "acme/app"),
    ),
    (
        "gitlab",
        GITLAB,
        {"Authorization": "Bearer gitlab-secret-token"},
        "",
        ImageName("registry.gitlab.example.com", "acme/app"),
    ),
    (
        "generic",
        GENERIC,
        {"X-Signature-256": sign("generic-secret-key", GENERIC)},
        "",
        ImageName("ghcr.io", "acme/app"),
    ),
]


@pytest.mark.parametrize("case", GOOD_DELIVERIES, ids=lambda case: f"{case[0]}{case[3][:7]}")
async def test_authenticated_registry_hook_triggers_a_targeted_pass(
    client: Client, recorder: Recorder, case: tuple[str, bytes, dict[str, str], str, ImageName]
) -> None:
    source, payload, headers, suffix, image = case
    response = await client.post(f"/webhooks/{source}{suffix}", content=payload, headers=headers)
    assert response.status_code == 202
    assert response.json()["images"] == [str(image)]
    assert [trigger.images for trigger in recorder.triggers] == [(image,)]


@pytest.mark.parametrize(
    "case",
    [
        ("dockerhub", DOCKERHUB, {}, ""),  # unsigned
        ("dockerhub", DOCKERHUB, {}, "?token=quay-secret-token"),  # another route's secret
        ("quay", QUAY, {}, "/wrong"),
        ("harbor", HARBOR, {"Authorization": "Bearer nope"}, ""),
        ("gitlab", GITLAB, {"X-Gitlab-Token": "gitlab-secret-token "}, ""),
        ("generic", GENERIC, {"X-Signature-256": sign("generic-secret-key", GENERIC + b" ")}, ""),
        ("generic", b"not even json", {}, ""),  # unauthenticated garbage: 401 before parsing
    ],
)
async def test_bad_or_unsigned_registry_hooks_are_rejected(
    client: Client, recorder: Recorder, case: tuple[str, bytes, dict[str, str], str]
) -> None:
    source, payload, headers, suffix = case
    response = await client.post(f"/webhooks/{source}{suffix}", content=payload, headers=headers)
    assert response.status_code == 401
    assert recorder.triggers == []


async def test_route_without_a_secret_accepts_nothing(
    state: ServiceState, recorder: Recorder, metrics: Metrics
) -> None:
    async with make_client(
        state, recorder, metrics, secrets=WebhookSecrets(github="only-github")
    ) as client:
        for path in ("/webhooks/quay?token=", "/webhooks/quay?token=None", "/webhooks/generic"):
            response = await client.post(path, content=QUAY, headers={"Authorization": ""})
            assert response.status_code == 401
    assert recorder.triggers == []


async def test_malformed_authenticated_payload_is_a_400(client: Client, recorder: Recorder) -> None:
    response = await client.post("/webhooks/quay/quay-secret-token", content=b'{"name": "x"}')
    assert response.status_code == 400
    assert "docker_url" in response.json()["error"]
    assert recorder.triggers == []


async def test_valid_event_asking_for_nothing_is_a_200(client: Client, recorder: Recorder) -> None:
    payload = json.loads(HARBOR)
    payload["type"] = "DELETE_ARTIFACT"
    response = await client.post(
        "/webhooks/harbor",
        content=json.dumps(payload).encode(),
        headers={"Authorization": "harbor-secret-token"},
    )
    assert (response.status_code, response.json()["status"]) == (200, "ignored")
    assert recorder.triggers == []


async def test_oversized_body_is_refused(client: Client, recorder: Recorder) -> None:
    huge = b'{"image": "nginx", "pad": "' + b"x" * REGISTRY_MAX_BODY + b'"}'
    response = await client.post("/webhooks/generic/generic-secret-key", content=huge)
    assert response.status_code == 413
    assert recorder.triggers == []


GITLAB_PUSH = json.dumps(
    {
        "object_kind": "push",
        "ref": "refs/heads/main",
        "after": "1" * 40,
        "checkout_sha": "1" * 40,
        "project": {"path_with_namespace": "acme/gitops", "default_branch": "main"},
    }
).encode()


async def test_gitlab_project_push_shares_the_gitlab_route(
    client: Client, recorder: Recorder
) -> None:
    headers = {
        "X-Gitlab-Event": "Push Hook",
        "X-Gitlab-Token": "gitlab-secret-token",
        "Idempotency-Key": "f5e5f430-f57b-4e6e-9fac-d9128cd7232f",
    }
    first = await client.post("/webhooks/gitlab", content=GITLAB_PUSH, headers=headers)
    again = await client.post("/webhooks/gitlab", content=GITLAB_PUSH, headers=headers)
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["status"] == "duplicate"
    assert recorder.triggers == [
        Trigger(repositories=("acme/gitops",), reason="push to acme/gitops main")
    ]
    note = await client.post(
        "/webhooks/gitlab",
        content=b'{"object_kind": "note"}',
        headers={**headers, "X-Gitlab-Event": "Note Hook", "Idempotency-Key": "other"},
    )
    assert (note.status_code, note.json()["status"]) == (200, "ignored")
    forged = {**headers, "X-Gitlab-Token": "guess", "Idempotency-Key": "k2"}
    assert (
        await client.post("/webhooks/gitlab", content=GITLAB_PUSH, headers=forged)
    ).status_code == 401
    assert len(recorder.triggers) == 1


async def test_webhooks_only_accept_post(client: Client) -> None:
    assert (await client.get("/webhooks/generic/generic-secret-key")).status_code == 405


# --- GitHub ---------------------------------------------------------------------------------------

PUSH = json.dumps(
    {
        "ref": "refs/heads/main",
        "deleted": False,
        "repository": {"full_name": "acme/gitops", "default_branch": "main"},
    }
).encode()


def github_headers(
    payload: bytes, event: str, delivery: str, secret: str = GITHUB_SECRET
) -> dict[str, str]:
    return {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": sign(secret, payload),
        "User-Agent": "GitHub-Hookshot/044aadd",
        "Content-Type": "application/json",
    }


async def test_signed_push_replans_the_repository(client: Client, recorder: Recorder) -> None:
    response = await client.post(
        "/webhooks/github", content=PUSH, headers=github_headers(PUSH, "push", "d-1")
    )
    assert response.status_code == 202
    assert recorder.triggers == [
        Trigger(repositories=("acme/gitops",), reason="push to acme/gitops main")
    ]


async def test_redelivery_is_answered_but_not_repeated(client: Client, recorder: Recorder) -> None:
    headers = github_headers(PUSH, "push", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
    first = await client.post("/webhooks/github", content=PUSH, headers=headers)
    again = await client.post("/webhooks/github", content=PUSH, headers=headers)
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["status"] == "duplicate"
    assert len(recorder.triggers) == 1


@pytest.mark.parametrize(
    "headers",
    [
        {"X-GitHub-Event": "push", "X-GitHub-Delivery": "d-2"},  # unsigned
        {"X-GitHub-Event": "push", "X-GitHub-Delivery": "d-2", "X-Hub-Signature-256": "sha256=00"},
        github_headers(PUSH, "push", "d-2", secret="guessed"),
        {
            "X-GitHub-Event": "push",
            "X-GitHub-Delivery": "d-2",
            "X-Hub-Signature": "sha1=" + hmac.new(b"gh-webhook-secret", PUSH, "sha1").hexdigest(),
        },  # the legacy SHA-1 header alone is not enough
    ],
)
async def test_bad_github_signatures_are_rejected_and_not_remembered(
    client: Client, recorder: Recorder, headers: dict[str, str]
) -> None:
    assert (await client.post("/webhooks/github", content=PUSH, headers=headers)).status_code == 401
    assert recorder.triggers == []
    # the forged delivery id did not poison the log: the real delivery still goes through
    real = await client.post(
        "/webhooks/github", content=PUSH, headers=github_headers(PUSH, "push", "d-2")
    )
    assert real.status_code == 202


async def test_github_route_without_secret_rejects(
    state: ServiceState, recorder: Recorder, metrics: Metrics
) -> None:
    headers = github_headers(PUSH, "push", "d-3", secret="")
    async with make_client(state, recorder, metrics, secrets=WebhookSecrets()) as client:
        response = await client.post("/webhooks/github", content=PUSH, headers=headers)
    assert response.status_code == 401
    assert recorder.triggers == []


COMMENT = json.dumps(
    {
        "action": "created",
        "issue": {
            "number": 7,
            "body": encode_pr_marker(PrMarker("nginx", "fp", ("docker.io/library/nginx:1.27.1",))),
            "pull_request": {"url": "https://api.github.com/repos/acme/gitops/pulls/7"},
        },
        "comment": {
            "body": "/image-bot ignore major",
            "author_association": "OWNER",
            "user": {"login": "octocat", "type": "User"},
        },
        "repository": {"full_name": "acme/gitops"},
    }
).encode()


async def test_commands_trigger_a_pass_of_their_repository(
    client: Client, recorder: Recorder
) -> None:
    headers = github_headers(COMMENT, "issue_comment", "d-4")
    response = await client.post("/webhooks/github", content=COMMENT, headers=headers)
    assert response.status_code == 202
    assert recorder.triggers == [
        Trigger(repositories=("acme/gitops",), reason="/image-bot on pull request #7")
    ]
    assert recorder.github == []


async def test_commands_trigger_even_without_a_github_handler(
    state: ServiceState, recorder: Recorder, metrics: Metrics
) -> None:
    headers = github_headers(COMMENT, "issue_comment", "d-5")
    async with make_client(state, recorder, metrics, with_github_handler=False) as client:
        response = await client.post("/webhooks/github", content=COMMENT, headers=headers)
    assert response.status_code == 202
    assert len(recorder.triggers) == 1


async def test_ping_and_malformed_github_deliveries(client: Client, recorder: Recorder) -> None:
    ping = b'{"zen": "Design for failure.", "hook_id": 1}'
    response = await client.post(
        "/webhooks/github", content=ping, headers=github_headers(ping, "ping", "p")
    )
    assert response.json() == {"status": "ignored", "reason": "ping"}
    bad = b'{"ref": "refs/heads/main"}'
    response = await client.post(
        "/webhooks/github", content=bad, headers=github_headers(bad, "push", "b")
    )
    assert response.status_code == 400
    assert recorder.triggers == []
    assert recorder.github == []


# --- deploy/kubernetes agrees with the app --------------------------------------------------------

DEPLOY = Path(__file__).resolve().parents[3] / "deploy" / "kubernetes"


def load_yaml(path: Path) -> dict[str, Any]:
    loaded = YAML(typ="safe").load(path.read_text())
    assert isinstance(loaded, dict), path
    return loaded


def test_every_kustomization_resource_exists() -> None:
    kustomizations = sorted(DEPLOY.rglob("kustomization.yaml"))
    assert len(kustomizations) == 7  # root, base, service, cronjob, org and two components
    for kustomization in kustomizations:
        loaded = load_yaml(kustomization)
        for resource in [*loaded["resources"], *loaded.get("components", [])]:
            target = kustomization.parent / resource
            assert target.is_file() or (target / "kustomization.yaml").is_file(), target


async def test_deployment_probes_routes_the_app_serves(client: Client, state: ServiceState) -> None:
    deployment = load_yaml(DEPLOY / "service" / "deployment.yaml")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["args"][0] == "serve"
    options = {opt for param in cli.commands["serve"].params for opt in param.opts}
    assert set(container["args"][1::2]) <= options  # every flag the manifest passes exists
    probes = {
        kind: container[kind]["httpGet"]["path"]
        for kind in ("startupProbe", "livenessProbe", "readinessProbe")
    }
    assert (await client.get(probes["livenessProbe"])).status_code == 200
    assert (await client.get(probes["startupProbe"])).status_code == 200
    assert (await client.get(probes["readinessProbe"])).status_code == 503  # not ready yet
    state.mark_config_loaded()
    state.mark_scheduler_started()
    assert (await client.get(probes["readinessProbe"])).status_code == 200
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert (await client.get(annotations["prometheus.io/path"])).status_code == 200


def test_ports_and_config_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_example_token_for_the_test")
    for name in ("GITHUB", "DOCKERHUB", "HARBOR", "QUAY", "GITLAB", "GENERIC"):
        monkeypatch.delenv(f"{name}_WEBHOOK_SECRET", raising=False)
        monkeypatch.delenv(f"{name}_WEBHOOK_TOKEN", raising=False)
    configmap = load_yaml(DEPLOY / "base" / "configmap.yaml")
    config = parse_config(configmap["data"]["config.yaml"], source="configmap", base_dir=DEPLOY)
    deployment = load_yaml(DEPLOY / "service" / "deployment.yaml")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    (port,) = container["ports"]
    assert port["containerPort"] == config.service.port
    service = load_yaml(DEPLOY / "service" / "service.yaml")
    assert service["spec"]["ports"][0]["targetPort"] == port["name"]
    assert service["spec"]["selector"].items() <= pod_labels(deployment).items()
    mounts = {mount["mountPath"] for mount in container["volumeMounts"]}
    assert str(config.state_dir) in mounts  # state survives in its own volume, not the image
    assert container["args"][-1].startswith("/etc/image-bot/")
    secrets = WebhookSecrets.from_spec(config.service.webhooks)
    assert repr(secrets) == "WebhookSecrets(configured=[])"  # unset env: every route closed


def pod_labels(workload: dict[str, Any]) -> dict[str, str]:
    labels = workload["spec"]["template"]["metadata"]["labels"]
    assert isinstance(labels, dict)
    return labels


def test_cronjob_runs_one_pass_with_the_same_config() -> None:
    cronjob = load_yaml(DEPLOY / "cronjob" / "cronjob.yaml")
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["args"][:2] == ["run", "--once"]
    command = cli.commands["run"]
    assert {"--once", "--config"} <= {opt for p in command.params for opt in p.opts}
    config_volumes = [v["configMap"]["name"] for v in pod["volumes"] if "configMap" in v]
    assert config_volumes == [load_yaml(DEPLOY / "base" / "configmap.yaml")["metadata"]["name"]]


def test_put_if_absent_never_overwrites_a_pass_result() -> None:
    state = ServiceState()
    state.put(RepositoryStatus("acme/gitops", last_pass=NOW))
    state.put_if_absent(RepositoryStatus("acme/gitops"))
    state.put_if_absent(RepositoryStatus("acme/new"))
    assert [(s.repository, s.last_pass) for s in state.repositories()] == [
        ("acme/gitops", NOW),
        ("acme/new", None),
    ]


NESTED = b'{"image": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
SHALLOW_BUT_DEEP = b'{"image": "nginx", "x": ' + b"[" * 500 + b"]" * 500 + b"}"


@pytest.mark.parametrize("body", [NESTED, SHALLOW_BUT_DEEP], ids=["recursion", "depth"])
async def test_deeply_nested_json_is_a_400_on_every_route(
    client: Client, recorder: Recorder, body: bytes
) -> None:
    answers = [
        await client.post(f"/webhooks/{source}", content=body, headers=headers)
        for source, headers in (
            ("generic", {"X-Signature-256": sign("generic-secret-key", body)}),
            ("dockerhub", {"Authorization": "Bearer hub-secret-token"}),
            ("quay", {"Authorization": "Bearer quay-secret-token"}),
            ("harbor", {"Authorization": "harbor-secret-token"}),
            ("gitlab", {"X-Gitlab-Token": "gitlab-secret-token"}),
            ("gitlab", {"X-Gitlab-Token": "gitlab-secret-token", "X-Gitlab-Event": "Push Hook"}),
            ("github", github_headers(body, "push", "nested-1")),
        )
    ]
    assert [(a.status_code, a.json()["status"]) for a in answers] == [(400, "invalid")] * 7
    assert all("nested more than 64 levels" in a.json()["error"] for a in answers)
    assert recorder.triggers == []
    assert recorder.github == []
    assert (await client.get("/healthz")).status_code == 200
