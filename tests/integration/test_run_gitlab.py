"""`image-bot run --once` with `forge: gitlab`: real python-gitlab and git over HTTP, fake forge."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakeforge.control import FakeForge
from tests.support.registry import RunningRegistry
from tests.support.runs import run_once

pytestmark = pytest.mark.integration

PROJECT = "group/deploy"


def test_a_merge_request_is_opened_then_left_alone_when_nothing_is_new(
    fake_forge: FakeForge, registry: RunningRegistry, repo_name: str, tmp_path: Path
) -> None:
    image = f"{registry.host}/{repo_name}/app"
    registry.push_tags(f"{repo_name}/app", ["3.0", "3.1"], distinct=True)
    fake_forge.create_repo(PROJECT, {"values.yaml": f"app:\n  image: {image}:3.0\n"})
    config = tmp_path / "image-bot.yaml"
    config.write_text(
        f"registries: [{{host: '{registry.host}', insecure: true}}]\n"
        "repositories:\n"
        f"  - url: '{fake_forge.git_url(PROJECT, user='oauth2')}'\n"
        f"    forge: {{type: gitlab, url: '{fake_forge.gitlab_url}',"
        f" token: '{fake_forge.bot_token}'}}\n"
    )
    code, report = run_once(config, tmp_path)
    assert code == 0, report
    (merge_request,) = fake_forge.pulls(PROJECT)
    assert merge_request.title == f"Update {image} to 3.1"
    assert fake_forge.read_file(PROJECT, merge_request.head, "values.yaml") == (
        f"app:\n  image: {image}:3.1\n"
    )
    assert fake_forge.bot_token not in json.dumps(report)

    fake_forge.clear_calls()
    code, report = run_once(config, tmp_path)
    assert code == 0, report
    assert [b["action"] for b in report["repositories"][0]["branches"]] == ["keep"]
    assert fake_forge.count_calls(writes=True) == 0
