"""`image-bot tags` end to end against real docker-registry processes (anonymous, basic, token)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from image_bot.cli import cli
from tests.support.registry import RunningRegistry

pytestmark = pytest.mark.integration

TAGS = ("1.0.0", "1.1.0", "1.2.0-rc.1", "2.0.0", "latest")


def tags(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["tags", *args], env=env, input=stdin)


def seed(registry: RunningRegistry, repo: str) -> str:
    """Each tag its own image (so no two tags collapse into one digest); returns IMAGE:1.0.0."""
    registry.push_tags(repo, TAGS, distinct=True)
    return f"{registry.host}/{repo}:1.0.0"


def test_lists_tags_and_prints_the_selected_one_last(
    registry: RunningRegistry, repo_name: str
) -> None:
    image = seed(registry, repo_name)
    result = tags(image, "--insecure", "--policy", "semver: ^1")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"{registry.host}/{repo_name}: {len(TAGS)} tags"
    assert lines[-1] == "1.1.0"
    assert any(line.startswith("* 1.1.0") for line in lines)
    assert {line.split()[0] for line in lines[1 : 1 + len(TAGS)] if not line.startswith("*")} == {
        "1.0.0",
        "1.2.0-rc.1",
        "2.0.0",
        "latest",
    }


def test_json_has_every_tag_with_a_status_and_the_rejection_reasons(
    registry: RunningRegistry, repo_name: str
) -> None:
    image = seed(registry, repo_name)
    result = tags(image, "--insecure", "--policy", "semver: ^1", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["current"], report["selected"], report["changes"]) == ("1.0.0", "1.1.0", True)
    statuses = {entry["tag"]: entry for entry in report["tags"]}
    assert set(statuses) == set(TAGS)
    assert statuses["1.1.0"]["status"] == "selected"
    assert statuses["1.0.0"]["status"] == "current"
    assert statuses["2.0.0"]["status"] == "rejected"
    assert statuses["2.0.0"]["reason"]


def test_tags_are_listed_newest_first_by_the_policys_ordering(
    registry: RunningRegistry, repo_name: str
) -> None:
    registry.push_tags(repo_name, ["9.0.0", "10.0.0", "10.0.0-rc.1", "9.1.0", "edge"])
    image = f"{registry.host}/{repo_name}:9.0.0"
    text = tags(image, "--insecure", "--policy", "semver: '*'")
    assert text.exit_code == 0, text.output
    listed = [line[2:].split()[0] for line in text.stdout.splitlines()[1:6]]
    assert listed == ["10.0.0", "10.0.0-rc.1", "9.1.0", "9.0.0", "edge"]
    as_json = tags(image, "--insecure", "--policy", "semver: '*'", "--json")
    assert [entry["tag"] for entry in json.loads(as_json.stdout)["tags"]] == listed


def test_nothing_newer_prints_none(registry: RunningRegistry, repo_name: str) -> None:
    registry.push_tags(repo_name, ["3.0.0"], distinct=True)
    result = tags(f"{registry.host}/{repo_name}:3.0.0", "--insecure", "--policy", "semver: ^3")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "none"


def test_basic_auth_from_the_environment(basic_registry: RunningRegistry, repo_name: str) -> None:
    assert basic_registry.username is not None
    assert basic_registry.password is not None
    image = seed(basic_registry, repo_name)
    result = tags(
        image,
        "--insecure",
        "--username",
        basic_registry.username,
        "--password-env",
        "IB_TEST_REGISTRY_PASSWORD",
        "--policy",
        "semver: ^1",
        env={"IB_TEST_REGISTRY_PASSWORD": basic_registry.password},
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "1.1.0"


def test_refused_credentials_exit_1_without_leaking_the_password(
    basic_registry: RunningRegistry, repo_name: str
) -> None:
    assert basic_registry.username is not None
    image = seed(basic_registry, repo_name)
    wrong = "wrong-password-8c1f"
    result = tags(
        image,
        "--insecure",
        "--username",
        basic_registry.username,
        "--password-env",
        "IB_TEST_REGISTRY_PASSWORD",
        env={"IB_TEST_REGISTRY_PASSWORD": wrong},
    )
    assert result.exit_code == 1
    assert basic_registry.host in result.stderr
    assert wrong not in result.output


def test_token_registry_with_settings_and_policy_from_the_config(
    token_registry: RunningRegistry, repo_name: str, tmp_path: Path
) -> None:
    assert token_registry.username is not None
    assert token_registry.password is not None
    image = seed(token_registry, repo_name)
    config = tmp_path / "bot.yaml"
    config.write_text(
        textwrap.dedent(
            f"""
            registries:
              - host: "{token_registry.host}"
                insecure: true
                username: {token_registry.username}
                password: ${{IB_TEST_TOKEN_PASSWORD}}
            policies:
              majors: {{semver: "*"}}
            images:
              - name: "{token_registry.host}/test/*"
                policy: {{semver: "~1.0"}}
            """
        ),
        encoding="utf-8",
    )
    env = {"IB_TEST_TOKEN_PASSWORD": token_registry.password}
    by_image_rule = tags(image, "--config", str(config), env=env)
    assert by_image_rule.exit_code == 0, by_image_rule.output
    assert by_image_rule.stdout.splitlines()[-1] == "none"  # ~1.0 allows no 1.0.x newer than 1.0.0
    by_name = tags(image, "--config", str(config), "--policy", "majors", env=env)
    assert by_name.exit_code == 0, by_name.output
    assert by_name.stdout.splitlines()[-1] == "2.0.0"


def test_unknown_repository_exits_1(registry: RunningRegistry) -> None:
    result = tags(f"{registry.host}/test/never-pushed:1.0", "--insecure")
    assert result.exit_code == 1
    assert "never-pushed" in result.stderr


def test_a_plain_http_registry_without_insecure_fails_at_once_with_the_fix(
    registry: RunningRegistry, repo_name: str
) -> None:
    image = seed(registry, repo_name)
    result = tags(image, "--policy", "semver: ^1")
    assert result.exit_code == 1
    assert "answered the TLS handshake in plain http" in result.stderr
    assert "set `insecure: true` for this registry (or pass --insecure)" in result.stderr
    assert "attempts" not in result.stderr  # not retried: no retry turns http into https


def test_unreachable_registry_exits_1() -> None:
    result = tags("127.0.0.1:9/app:1.0", "--insecure")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nginx:1.0", "--policy", "semver: ^1\nnumerical: asc"], "choose one ordering"),
        (["nginx:1.0", "--policy", "semver: '>>1'"], "invalid range"),
        (["Not A Reference"], "invalid image reference"),
        (["nginx:1.0", "--policy", "@/nonexistent/policy.yaml"], "cannot read policy file"),
        (["nginx:1.0", "--config", "/nonexistent/bot.yaml"], "cannot read config file"),
        (["nginx:1.0", "--password-env", "IB_TEST_UNSET_VARIABLE"], "IB_TEST_UNSET_VARIABLE"),
    ],
)
def test_bad_input_exits_2_before_any_request(args: list[str], message: str) -> None:
    result = tags(*args, "--tags-file", "-", stdin="1.0\n")
    assert result.exit_code == 2, result.output
    assert message in result.stderr


def test_tags_from_stdin_need_no_registry() -> None:
    listing = "1.25.0\n1.25.3\n1.26.0\n2.0.0\n2.1.0-rc.1\n"
    default = tags("nginx:1.25.0", "--tags-file", "-", stdin=listing)
    assert default.exit_code == 0, default.output
    assert default.stdout.splitlines()[-1] == "2.0.0"  # newest stable: semver "*"
    ranged = tags("nginx:1.25.0", "--tags-file", "-", "--policy", "semver: ~1.25", stdin=listing)
    assert ranged.stdout.splitlines()[-1] == "1.25.3"


def test_offline_tags_cannot_answer_a_policy_that_needs_build_times() -> None:
    result = tags("nginx:1.25.0", "--tags-file", "-", "--policy", "min-age: 3d", stdin="1.26.0\n")
    assert result.exit_code == 2
    assert "needs registry facts" in result.stderr
