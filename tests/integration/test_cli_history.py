"""`image-bot history` and `image-bot envs` through the CLI: the JSON shapes the issue gives,
stages from a config or the repository's own `.github/image-bot.yml`, filters, errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from image_bot.cli import cli
from tests.support.gitrepo import git_cmd

pytestmark = pytest.mark.integration

DIGEST = "sha256:" + "1" * 64


def pod(tag: str) -> str:
    return (
        f"kind: Pod\nspec:\n  containers:\n    - name: api\n      image: ghcr.io/acme/api:{tag}\n"
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "deploy"
    git_cmd(tmp_path, "init", "--quiet", "-b", "main", str(root))
    steps = [
        ({"envs/dev/api.yaml": pod("1.0"), "envs/prod/api.yaml": pod("1.0")}, "init", 1),
        ({"envs/dev/api.yaml": pod(f"1.1@{DIGEST}")}, "Update api (#3)", 2),
        ({"envs/dev/api.yaml": pod("1.2")}, "Update api again (#4)", 3),
    ]
    for files, message, day in steps:
        for name, text in files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(text)
        git_cmd(root, "add", "--all")
        git_cmd(root, "commit", "--quiet", "-m", message,
                env={"GIT_COMMITTER_DATE": f"2026-12-0{day}T10:00:00Z"})  # fmt: skip
    settings = root / ".github" / "image-bot.yml"
    settings.parent.mkdir()
    settings.write_text(
        "stages:\n  - {name: dev, paths: [envs/dev]}\n"
        "  - {name: prod, paths: [envs/prod], promote_from: [dev]}\n"
    )
    return root


def run(*args: str, code: int = 0) -> Any:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == code, result.output
    return json.loads(result.stdout) if "--json" in args and code == 0 else result.output


def test_envs_json_has_the_issue_shape_with_stages_from_the_settings_file(repo: Path) -> None:
    data = run("envs", str(repo), "--json")
    assert data == {
        "kind": "envs",
        "schema_version": 1,
        "stages": ["dev", "prod"],
        "images": [
            {
                "image": "ghcr.io/acme/api",
                "stages": {
                    "dev": {"tag": "1.2", "digest": None, "since": "2026-12-03T10:00:00Z"},
                    "prod": {"tag": "1.0", "digest": None, "since": "2026-12-01T10:00:00Z"},
                },
                "behind": {"prod": {"versions": 2, "since": "2026-12-02T10:00:00Z"}},
            }
        ],
    }
    text = run("envs", str(repo))
    assert text.splitlines()[0].split() == ["image", "dev", "prod"]
    assert "2 behind" in text


def test_history_filters_and_keys(repo: Path) -> None:
    entries = run("history", str(repo), "--json", "--stage", "dev", "--since", "2026-12-02T12:00")
    assert (entries["kind"], entries["schema_version"]) == ("history", 1)
    assert [(e["tag"], e["digest"], e["pull_request"]) for e in entries["entries"]] == [
        ("1.1", DIGEST, "#3"),
        ("1.2", None, "#4"),
    ]
    assert set(entries["entries"][0]) == {
        "stage", "image", "tag", "digest", "since", "until", "commit", "author",
        "pull_request", "promoted_from",
    }  # fmt: skip
    by_file = run("history", str(repo / "envs"), "--json", "--path-only", "--image", "*/api")
    assert {e["file"] for e in by_file["entries"]} == {"envs/dev/api.yaml", "envs/prod/api.yaml"}
    assert all(e["stage"] is None for e in by_file["entries"])


def test_a_config_with_several_repositories_needs_repository(repo: Path, tmp_path: Path) -> None:
    config = tmp_path / "image-bot.yaml"
    config.write_text(f"repositories:\n  - url: '{repo}'\n  - url: https://example.com/x.git\n")
    output = run("history", str(repo), "--config", str(config), code=2)
    assert "choose one with --repository" in output
    assert run("history", str(repo), "--config", str(config), "--repository", str(repo))
