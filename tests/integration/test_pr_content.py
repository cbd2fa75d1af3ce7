"""What a pull request tells a reviewer, end to end on GitHub and GitLab (fake forge, real
registry): an image whose OCI labels name a fake-forge source repository with releases gets
its update type, digest, platforms, age, policy, source and compare links, and the releases
in between (newest first, hostile text neutralised); the same in `--json` and `--dry-run`;
labels by update type; and a pass with nothing new reads no label and no release."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from image_bot.cli import cli
from image_bot.publish.pr.marker import decode_pr_marker
from tests.fakeforge.control import FakeForge
from tests.support.registry import RunningRegistry

pytestmark = pytest.mark.integration

REPO = "acme/deploy"
SOURCE = "acme/app-src"
HOSTILE = (
    "Thanks @alice for #12!\n"
    '<!-- image-bot: {"v":1,"group":"x","fingerprint":"evil","proposals":[]} -->\n'
    "</details><img src=x onerror=alert(1)>\n"
    "```\nunclosed fence"
)


def setup(fake: FakeForge, registry: RunningRegistry, kind: str, ns: str, tmp: Path) -> Path:
    old_sha = fake.create_repo(SOURCE, {"app.go": "package main\n"}).git.branch_sha("main")
    new_sha = fake.commit(SOURCE, "main", {"app.go": "package main // 1.2\n"}, message="1.2")
    for tag, body in (
        ("v1.0.0", "first"),
        ("v1.1.0", "## Features\n- faster"),
        ("v1.2.0", HOSTILE),
    ):
        fake.releases.add(SOURCE, tag, body, name=f"App {tag}")
    source = f"{fake.base_url}/{SOURCE}"
    for tag, revision in (("1.0.0", old_sha), ("1.2.0", new_sha)):
        labels = {
            "org.opencontainers.image.source": source,
            "org.opencontainers.image.revision": str(revision),
            "org.opencontainers.image.version": tag,
        }
        registry.push_image(
            f"{ns}/app", tag, platforms=("linux/amd64", "linux/arm64"),
            created=datetime(2026, 11, 30, 9, 0, tzinfo=UTC), labels=labels,
        )  # fmt: skip
    image = f"{registry.host}/{ns}/app"
    fake.create_repo(REPO, {"deploy/app.yaml": f"image: {image}:1.0.0\n"})
    if kind == "github":
        url, api = fake.git_url(REPO), fake.github_api_url
        forge = f"{{type: github, api_url: '{api}', token: '{fake.bot_token}'}}"
    else:
        url, api = fake.git_url(REPO, user="oauth2"), f"{fake.gitlab_url}/api/v4"
        forge = f"{{type: gitlab, url: '{fake.gitlab_url}', token: '{fake.bot_token}'}}"
    config = tmp / "image-bot.yaml"
    config.write_text(
        f"registries: [{{host: '{registry.host}', insecure: true}}]\n"
        "release_notes:\n"
        f"  hosts: [{{host: '127.0.0.1:{fake.port}', type: {kind}, api_url: '{api}',"
        f" token: '{fake.bot_token}'}}]\n"
        "repositories:\n"
        f"  - url: '{url}'\n"
        f"    project: {REPO}\n"
        f"    forge: {forge}\n"
        "    pull_request: {labels_by_update_type: {minor: [minor-bump], major: [major]}}\n"
    )
    return config


def run(config: Path, tmp: Path, *extra: str) -> tuple[dict, str]:  # type: ignore[type-arg]
    args = ["run", "--once", "--config", str(config), "--state-dir", str(tmp / "state"),
            "--cache-dir", str(tmp / "cache"), *extra]  # fmt: skip
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    if "--json" in extra:
        return json.loads(result.stdout), result.stdout
    return {}, result.stdout


@pytest.mark.parametrize("kind", ["github", "gitlab"])
def test_a_pull_request_shows_what_changed_and_why(
    kind: str, fake_forge: FakeForge, registry: RunningRegistry, repo_name: str, tmp_path: Path
) -> None:
    config = setup(fake_forge, registry, kind, repo_name, tmp_path)
    dry, _ = run(config, tmp_path, "--dry-run", "--json")
    _, dry_text = run(config, tmp_path, "--dry-run")  # what CI users read
    report, _ = run(config, tmp_path, "--json")
    (pull,) = fake_forge.pulls(REPO)
    body = pull.body
    (branch,) = report["repositories"][0]["branches"]
    assert branch["body"] == body  # the JSON report carries the very body
    (dry_branch,) = dry["repositories"][0]["branches"]
    # so does a dry run (which records no first-seen time: it writes no state)
    unstamped = [{**d, "first_seen": None} for d in branch["details"]]
    assert [{**d, "first_seen": None} for d in dry_branch["details"]] == unstamped
    assert dry_branch["body"].split("- **age**")[0] == body.split("- **age**")[0]

    (details,) = branch["details"]
    assert details["update_type"] == "minor"
    assert details["policy"] == "default_policy"
    assert details["platforms"] == ["linux/amd64", "linux/arm64"]
    assert details["digest"].startswith("sha256:")
    source = f"{fake_forge.base_url}/{SOURCE}"
    assert details["source"] == source
    compare = "/compare/" if kind == "github" else "/-/compare/"
    assert details["compare"].startswith(source + compare)
    notes = details["release_notes"]
    assert [r["tag"] for r in notes["releases"]] == ["v1.2.0", "v1.1.0"]  # newest first
    assert notes["missing"] is None

    assert "| minor |" in body and "- **platforms**: linux/amd64, linux/arm64" in body
    assert "[compare `" in body and details["compare"] in body
    assert "#### [App v1.2.0]" in body and "- faster" in body and "App v1.0.0" not in body
    assert "@alice" not in body and "@&#8203;alice" in body  # nobody is pinged
    assert "#&#8203;12" in body  # no cross-reference
    assert "<img" not in body and "&lt;/details>" in body
    marker = decode_pr_marker(body)
    assert marker is not None and marker.fingerprint != "evil"  # the fake marker is inert
    assert body.count("```") % 2 == 0  # the fence is closed
    assert "minor-bump" in pull.labels and "major" not in pull.labels
    for line in ("| minor |", "- **platforms**: linux/amd64, linux/arm64", "#### [App v1.2.0]"):
        assert line in dry_text
    assert details["compare"] in dry_text

    fake_forge.clear_calls()
    report, _ = run(config, tmp_path, "--json")
    assert [b["action"] for b in report["repositories"][0]["branches"]] == ["keep"]
    assert fake_forge.count_calls(path="releases") == 0  # nothing written: nothing read
    assert fake_forge.count_calls(writes=True) == 0


@pytest.mark.parametrize("kind", ["github", "gitlab"])
def test_an_unreachable_source_leaves_the_notes_out_in_one_line(
    kind: str, fake_forge: FakeForge, registry: RunningRegistry, repo_name: str, tmp_path: Path
) -> None:
    config = setup(fake_forge, registry, kind, repo_name, tmp_path)
    text = config.read_text().replace(f", token: '{fake_forge.bot_token}'}}]", "}]", 1)
    config.write_text(text)  # anonymous: the fake forge refuses it, as for a private repository
    report, _ = run(config, tmp_path, "--json")
    (details,) = report["repositories"][0]["branches"][0]["details"]
    assert (
        details["release_notes"]["missing"] == "the source repository is private or missing (401)"
    )
    (pull,) = fake_forge.pulls(REPO)
    assert "Release notes left out: the source repository is private or missing (401)." in pull.body
    assert details["compare"]  # the links do not need the API
